/**
 * @module services/meta1/service
 * meta1 lifecycle: wires the backend to the conscience (service choice), mounts routes, listens.
 */
import type { Logger } from '../../common';
import { OioError } from '../../common/errors';
import { ConscienceClient } from '../../client/remote';
import { StoreService, serveReplicated, type Serving, type ServiceContext } from '../../runtime/service';
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
export class Meta1Service extends StoreService<Meta1Backend> {
  readonly type = 'meta1';

  constructor(private readonly opts: Meta1ServiceOptions) { super(opts.host, opts.port); }

  protected serve(ctx: ServiceContext, log: Logger): Promise<Serving<Meta1Backend>> {
    const conscience = new ConscienceClient(ctx.conscienceAddrs);
    const backend = new Meta1Backend(ctx.dataDir, {
      maxOpenBases: this.opts.maxOpenBases,
      chooser: (type) => chooseReplicaSet(conscience, type, ctx.config['ns.directory_replicas']),
    });
    return serveReplicated(ctx, log, this.where, backend, {
      openBase: (name, create) => backend.replicaBase(name, create),
      restoreBase: (name, data) => backend.restoreReplica(name, data),
    }, (http) => mountRoutes(http, backend));
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
