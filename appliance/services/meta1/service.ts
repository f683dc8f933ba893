/**
 * @module services/meta1/service
 * meta1 lifecycle: wires the backend to the conscience (service choice), mounts routes, listens.
 */
import { durableWrites } from '../../sqliterepo';
import { HttpService } from '../../common/http';
import { ConscienceClient } from '../../client/remote';
import type { Service, ServiceContext } from '../../runtime/service';
import { firstAddr, Meta1Backend } from './backend';
import { mountRoutes } from './routes';

export interface Meta1ServiceOptions {
  host: string;
  /** 0: any free port (see `addr` once started) */
  port: number;
  /** open prefix bases kept in the LRU; default 64 */
  maxOpenBases?: number;
}

/** The meta1 service (reference -> linked services). */
export class Meta1Service implements Service {
  readonly type = 'meta1';
  private http: HttpService | undefined;
  private backend: Meta1Backend | undefined;
  private boundPort = 0;

  constructor(private readonly opts: Meta1ServiceOptions) {}

  get addr(): string {
    return `${this.opts.host}:${this.boundPort || this.opts.port}`;
  }

  async start(ctx: ServiceContext): Promise<void> {
    const conscience = new ConscienceClient(ctx.conscienceAddrs);
    this.backend = new Meta1Backend(ctx.dataDir, {
      maxOpenBases: this.opts.maxOpenBases,
      chooser: async (type) => firstAddr(type, await conscience.lbChoose({ type, count: 1 })),
    });
    const log = ctx.log.child({ svc: 'meta1' });
    this.http = new HttpService(log, { accessLog: ctx.config.access_log, wrapHandler: durableWrites });
    mountRoutes(this.http, this.backend);
    this.boundPort = await this.http.listen(this.opts.host, this.opts.port);
    log.info('meta1 started', { addr: this.addr });
  }

  async stop(): Promise<void> {
    await this.http?.close();
    this.backend?.close();
    this.http = undefined;
    this.backend = undefined;
  }
}
