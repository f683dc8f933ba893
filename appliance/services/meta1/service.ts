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
      chooser: (type) => chooseReplicaSet(conscience, type, ctx.config['ns.directory_replicas']),
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

  async stop(): Promise<void> {
    await this.http?.close();
    await this.election?.close();
    this.backend?.close();
    this.http = undefined;
    this.backend = undefined;
  }
}

/**
 * Chooses `replicas` services of `type` on distinct nodes (a replica set, comma-joined in
 * one link as OpenIO does). Fewer, down to one, only when the grid has fewer nodes with a
 * service of that type: a node that is down still counts (its services stay listed with
 * score 0), so a base is never created with fewer replicas than the grid would give it
 * (no quorum would survive one more fault, and nothing rebalances it later).
 * @throws OioError UNAVAILABLE when enough nodes exist but not enough can take the base
 */
export async function chooseReplicaSet(conscience: ConscienceClient, type: string, replicas: number): Promise<string> {
  const want = Math.max(1, replicas);
  try {
    const chosen = await conscience.lbChoose({ type, count: want });
    return chosen.map((s) => s.addr).join(',') || firstAddr(type, chosen);
  } catch (e) {
    if ((e as OioError).code !== 'POLICY_NOT_SATISFIABLE') throw e;
    const listed = await conscience.conscienceList(type);
    const hosts = (list: typeof listed) => new Set(list.map((s) => s.addr.replace(/:\d+$/, ''))).size;
    const nodes = hosts(listed);
    if (nodes >= want) {
      const up = hosts(listed.filter((s) => s.score > 0));
      throw new OioError('UNAVAILABLE', `${want} ${type} replicas wanted on distinct nodes: ${nodes} nodes have one, only ${up} can take a base now`);
    }
    if (nodes === 0) throw e;
    return chooseReplicaSet(conscience, type, nodes);
  }
}
