/**
 * @module services/meta0/service
 * meta0 lifecycle: opens the base in the data folder, mounts the routes, listens.
 */
import { durableWrites } from '../../sqliterepo';
import { HttpService } from '../../common/http';
import type { Service, ServiceContext } from '../../runtime/service';
import { Meta0Backend } from './backend';
import { mountRoutes } from './routes';

export interface Meta0ServiceOptions {
  host: string;
  /** 0: any free port (see `addr` once started) */
  port: number;
}

/** The meta0 service (prefix -> meta1 map). */
export class Meta0Service implements Service {
  readonly type = 'meta0';
  private http: HttpService | undefined;
  private backend: Meta0Backend | undefined;
  private boundPort = 0;

  constructor(private readonly opts: Meta0ServiceOptions) {}

  get addr(): string {
    return `${this.opts.host}:${this.boundPort || this.opts.port}`;
  }

  async start(ctx: ServiceContext): Promise<void> {
    this.backend = Meta0Backend.open(ctx.dataDir);
    const log = ctx.log.child({ svc: 'meta0' });
    this.http = new HttpService(log, { accessLog: ctx.config.access_log, wrapHandler: durableWrites });
    mountRoutes(this.http, this.backend);
    this.boundPort = await this.http.listen(this.opts.host, this.opts.port);
    log.info('meta0 started', { addr: this.addr, initialized: this.backend.isInitialized });
  }

  async stop(): Promise<void> {
    await this.http?.close();
    this.backend?.close();
    this.http = undefined;
    this.backend = undefined;
  }
}
