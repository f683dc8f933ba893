/**
 * @module services/rdir/service
 * Lifecycle of one rdir (one per rawx volume): opens the volume's index in the service's data
 * folder (beside the volume, on the node's data disk, so it outlives the volume it describes),
 * mounts the routes, listens. Writes are acknowledged once on disk (group commit).
 */
import type { Logger } from '../../common';
import { StoreService, serveLocal, type Serving, type ServiceContext } from '../../runtime/service';
import { RdirBackend } from './backend';
import { mountRoutes } from './routes';

export interface RdirServiceOptions {
  host: string;
  /** 0: any free port (see `addr` once started) */
  port: number;
  /** the rawx volume this rdir indexes (its root folder) */
  volume: string;
  /** stable service id (defaults to the bound addr) */
  id?: string;
}

/** One rdir: the reverse index of one rawx volume over HTTP. */
export class RdirService extends StoreService<RdirBackend> {
  readonly type = 'rdir';

  constructor(private readonly opts: RdirServiceOptions) { super(opts.host, opts.port); }

  get id(): string {
    return this.opts.id ?? this.addr;
  }

  protected async serve(ctx: ServiceContext, log: Logger): Promise<Serving<RdirBackend>> {
    const backend = RdirBackend.open(ctx.dataDir, this.opts.volume);
    const s = await serveLocal(ctx, log, this.where, backend,
      (http) => mountRoutes(http, { backend, info: () => ({ id: this.id, type: 'rdir', addr: this.addr, volume: backend.volume }) }));
    return { ...s, fields: { volume: backend.volume, base: backend.base.file } };
  }
}
