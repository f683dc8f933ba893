/**
 * @module client/resolver/resolver
 * Finds which services hold a container's bases: meta0 (prefix -> meta1 replicas) and meta1
 * (CID -> linked meta2 ...), with a TTL cache of both answers (OpenIO's proxy caches).
 * A cached entry that led to an error is dropped with `forget()` so the next call asks again.
 */
import { NotFoundError, OioError, PEERS_HEADER, isRetryable, prefixOf } from '../../common';
import { Meta0Client } from '../remote/meta0';
import { Meta1Client } from '../remote/meta1';
import { ReplicaOrder, isReachError } from './replica-order';

/** How long a meta1 replica may take before the next one is tried (a paused one never answers). */
const META1_TIMEOUT_MS = 8000;

interface Entry<T> { value: T; expires: number }

export interface Reference { cid: string; account: string; container: string; services: Array<{ type: string; addr: string; seq: number }> }

export class Resolver {
  private readonly prefixes = new Map<string, Entry<string[]>>();
  private readonly refs = new Map<string, Entry<Reference>>();
  private readonly replicas = new ReplicaOrder();

  /** @param meta0Addrs where meta0 answers (a function: the bulletin may change) */
  constructor(private readonly meta0Addrs: () => string[], private readonly ttlMs = 60_000) {}

  private fresh<T>(m: Map<string, Entry<T>>, k: string): T | undefined {
    const e = m.get(k);
    if (e && e.expires > Date.now()) return e.value;
    if (e) m.delete(k);
    return undefined;
  }

  /** meta1 replicas of the CID's prefix. */
  async meta1For(cid: string, reqId?: string): Promise<string[]> {
    const prefix = prefixOf(cid);
    const hit = this.fresh(this.prefixes, prefix);
    if (hit) return hit;
    let last: unknown = new NotFoundError('SERVICE_NOT_FOUND', 'no meta0 service registered');
    for (const addr of this.meta0Addrs()) {
      try {
        const r = await new Meta0Client(addr, reqId).meta0Get(prefix);
        if (!r.meta1.length) throw new NotFoundError('SERVICE_NOT_FOUND', `no meta1 for prefix ${prefix}`);
        this.prefixes.set(prefix, { value: r.meta1, expires: Date.now() + this.ttlMs });
        return r.meta1;
      } catch (e) {
        last = e;
        // A meta0 not initialized (a node that joined after `oio cluster bootstrap`) or one
        // that cannot be reached: the next one may know.
        if (!isRetryable(e) && (e as OioError).code !== 'SERVICE_NOT_FOUND') throw e;
      }
    }
    throw last;
  }

  private async onMeta1<T>(cid: string, reqId: string | undefined, fn: (c: Meta1Client) => Promise<T>): Promise<T> {
    const addrs = await this.meta1For(cid, reqId);
    const { value } = await this.replicas.first(addrs, (addr) => fn(new Meta1Client(addr, reqId, { [PEERS_HEADER]: addrs.join(',') }, META1_TIMEOUT_MS)), {
      exhausted: (last) => { if (!isReachError(last)) this.prefixes.delete(prefixOf(cid)); },
    });
    return value;
  }

  /** The reference of a container (CONTAINER_NOT_FOUND when it has none). */
  async reference(cid: string, reqId?: string): Promise<Reference> {
    const hit = this.fresh(this.refs, cid);
    if (hit) return hit;
    const ref = await this.onMeta1(cid, reqId, (c) => c.meta1Show(cid));
    this.refs.set(cid, { value: ref, expires: Date.now() + this.ttlMs });
    return ref;
  }

  /** Links (creating if needed) a service of `type` to the container's reference. */
  async link(cid: string, account: string, container: string, type: string, reqId?: string): Promise<Reference> {
    const ref = await this.onMeta1(cid, reqId, (c) => c.meta1Link({ cid, account, container, type }));
    this.refs.set(cid, { value: ref, expires: Date.now() + this.ttlMs });
    return ref;
  }

  async destroy(cid: string, reqId?: string): Promise<void> {
    this.refs.delete(cid);
    await this.onMeta1(cid, reqId, (c) => c.meta1Destroy(cid));
  }

  /** Addresses of the services of `type` linked to the container. */
  async servicesOf(cid: string, type: string, reqId?: string): Promise<string[]> {
    const ref = await this.reference(cid, reqId);
    // A replicated base is linked as one comma-joined replica set.
    const addrs = ref.services.filter((s) => s.type === type).flatMap((s) => s.addr.split(','));
    if (!addrs.length) throw new NotFoundError('CONTAINER_NOT_FOUND', `container ${cid} has no ${type}`);
    return addrs;
  }

  forget(cid: string): void {
    this.refs.delete(cid);
  }
}

/**
 * The replica set of a grid-wide base (the account base): the first `count` services of the
 * type that are up, in address order, so every caller computes the same set. The base keeps
 * the set it was created with, so a later change of the list does not move it.
 */
export function replicaSetOf(services: Array<{ addr: string; tags: Record<string, unknown> }>, count: number): string[] {
  return services.filter((s) => s.tags['tag.up'] !== false).map((s) => s.addr).sort().slice(0, Math.max(1, count));
}
