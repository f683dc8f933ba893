/**
 * @module services/meta0/service
 * meta0 lifecycle: opens the base in the data folder, mounts the routes, listens.
 */
import type { Logger } from '../../common';
import { StoreService, serveLocal, type Serving, type ServiceContext } from '../../runtime/service';
import { Meta0Backend } from './backend';
import { mountRoutes } from './routes';

export interface Meta0ServiceOptions {
  host: string;
  /** 0: any free port (see `addr` once started) */
  port: number;
}

/** The meta0 service (prefix -> meta1 map). */
export class Meta0Service extends StoreService<Meta0Backend> {
  readonly type = 'meta0';

  constructor(opts: Meta0ServiceOptions) { super(opts.host, opts.port); }

  protected async serve(ctx: ServiceContext, log: Logger): Promise<Serving<Meta0Backend>> {
    const backend = Meta0Backend.open(ctx.dataDir);
    const s = await serveLocal(ctx, log, this.where, backend, (http) => mountRoutes(http, backend));
    return { ...s, fields: { initialized: backend.isInitialized } };
  }
}
