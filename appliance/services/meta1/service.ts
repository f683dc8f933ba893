/**
 * @module services/meta1/service
 * meta1 lifecycle: wires the backend to the conscience (service choice), mounts routes, listens.
 */
import { Election, listenReplicated } from '../../sqliterepo';
import { OioError } from '../../common/errors';
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
  private election: Election | undefined;

  constructor(private readonly opts: Meta1ServiceOptions) {}

  get addr(): string {
    return `${this.opts.host}:${this.boundPort || this.opts.port}`;
  }

  async start(ctx: ServiceContext): Promise<void> {
    const conscience = new ConscienceClient(ctx.conscienceAddrs);
    this.backend = new Meta1Backend(ctx.dataDir, {
      maxOpenBases: this.opts.maxOpenBases,
      chooser: (type) => this.choose(conscience, type, ctx.config['ns.directory_replicas']),
    });
    const log = ctx.log.child({ svc: 'meta1' });
    const backend = this.backend;
    const served = await listenReplicated({
      type: 'meta1', host: this.opts.host, port: this.opts.port, log, accessLog: ctx.config.access_log, election: ctx.election,
      openBase: (name, create) => backend.replicaBase(name, create),
      restoreBase: (name, data) => backend.restoreReplica(name, data),
    });
    this.http = served.http;
    this.election = served.election;
    this.boundPort = Number(served.addr.split(':').pop());
    mountRoutes(this.http, this.backend);
    log.info('meta1 started', { addr: this.addr });
  }

  /**
   * Chooses `replicas` services of `type` on distinct nodes (a replica set, comma-joined in
   * one link as OpenIO does), or fewer down to one when the grid has fewer nodes.
   */
  private async choose(conscience: ConscienceClient, type: string, replicas: number): Promise<string> {
    let last: unknown;
    for (let n = Math.max(1, replicas); n >= 1; n--) {
      try {
        const chosen = await conscience.lbChoose({ type, count: n });
        return chosen.map((s) => s.addr).join(',') || firstAddr(type, chosen);
      } catch (e) {
        last = e;
        if ((e as OioError).code !== 'POLICY_NOT_SATISFIABLE') throw e;
      }
    }
    throw last;
  }

  async stop(): Promise<void> {
    await this.http?.close();
    await this.election?.close();
    this.backend?.close();
    this.http = undefined;
    this.backend = undefined;
  }
}
