/**
 * @module sqliterepo/etcd-election
 * Master election of bases through etcd (we do not write our own consensus): the master of a
 * base is the holder of key `/oio/<ns>/election/<type>/<base>`, created under this process's
 * lease (kept alive while the process runs; it expires `ttlSec` after a crash or a pause).
 * The key's create revision is the election epoch (a fencing token, see replication.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Etcd3, Lease } from 'etcd3';
import type { Logger } from '../common';
import type { Election, MasterInfo } from './replication';

export interface EtcdElectionOptions {
  /** this service's address (its identity in replica sets) */
  self: string;
  endpoints: string[];
  ns: string;
  /** lease time-to-live in seconds (failover time); default 4 */
  ttlSec?: number;
  log: Logger;
}

/** A master steps down once this fraction of its lease's TTL passed without a keepalive. */
const SAFE_LEASE_FRACTION = 0.75;
/** Deadline of every unary etcd call: a paused or cut-off member must not hang the caller. */
export const ETCD_CALL_TIMEOUT_MS = 5000;

/**
 * An etcd client with a dial timeout and a deadline on every unary call. The etcd3 package
 * (and gRPC under it: about 22 MiB resident) is loaded on first use, so a process that never
 * talks to etcd (a single node, a per-disk rawx or rdir) does not carry it.
 */
export function etcdClient(endpoints: string[]): Etcd3 {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Etcd3: Client } = require('etcd3') as typeof import('etcd3');
  return new Client({
    hosts: endpoints.map((e) => (e.startsWith('http') ? e : `http://${e}`)),
    dialTimeout: 3000,
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + ETCD_CALL_TIMEOUT_MS }),
  });
}

/**
 * A grid's secret `name` (32 random bytes) in etcd at `/oio/<ns>/secret/<name>`: the first
 * caller makes it (a create-only transaction), every later one reads the same.
 */
export async function sharedSecret(endpoints: string[], ns: string, name: string): Promise<Buffer> {
  const client = etcdClient(endpoints);
  try {
    const key = `/oio/${ns}/secret/${name}`;
    const res = await client.if(key, 'Create', '==', 0)
      .then(client.put(key).value(randomBytes(32).toString('base64')))
      .else(client.get(key))
      .commit();
    const value = res.succeeded ? await client.get(key).string() : res.responses[0]?.response_range?.kvs?.[0]?.value.toString();
    const secret = Buffer.from(value ?? '', 'base64');
    if (secret.length !== 32) throw new Error(`etcd key ${key} does not hold a 32-byte secret`);
    return secret;
  } finally {
    client.close();
  }
}

export class EtcdElection implements Election {
  readonly self: string;
  private readonly client: Etcd3;
  private lease: Lease | undefined;
  private readonly lost: Array<() => void> = [];
  /** when etcd last acknowledged a keepalive of the current lease */
  private lastKeepAlive = 0;
  private watchdog: NodeJS.Timeout | undefined;

  constructor(private readonly opts: EtcdElectionOptions) {
    this.self = opts.self;
    this.client = etcdClient(opts.endpoints);
  }

  private get ttlSec(): number { return this.opts.ttlSec ?? 4; }
  private get ttlMs(): number { return this.ttlSec * 1000; }

  private currentLease(): Lease {
    if (!this.lease) {
      const lease = this.client.lease(this.ttlSec, { autoKeepAlive: true });
      lease.on('lost', (err) => this.dropLease(lease, err as Error));
      // Our own clock on the lease: etcd expires it `ttl` after the last keepalive it
      // received, and the client library reports the loss only once it reaches etcd again
      // (a keepalive stream stuck on a dead member can keep it silent for long). A master
      // must stop before its key can vanish, so the lease counts as lost a margin before.
      lease.on('keepaliveSucceeded', () => { this.lastKeepAlive = Date.now(); });
      this.lastKeepAlive = Date.now();
      this.lease = lease;
      this.watchdog ??= setInterval(() => this.checkLease(), Math.max(100, this.ttlMs / 10));
      this.watchdog.unref();
    }
    return this.lease;
  }

  private checkLease(): void {
    const lease = this.lease;
    if (!lease || Date.now() - this.lastKeepAlive <= this.ttlMs * SAFE_LEASE_FRACTION) return;
    this.dropLease(lease, new Error(`no keepalive acknowledged for ${Date.now() - this.lastKeepAlive} ms (lease ttl ${this.ttlMs} ms)`));
    // Best effort: the keys go now rather than at expiry (they cannot be renewed anyway).
    lease.revoke().catch(() => undefined);
  }

  private dropLease(lease: Lease, err: Error): void {
    if (this.lease !== lease) return;
    this.lease = undefined;
    this.opts.log.warn('etcd lease lost', { err });
    for (const fn of this.lost) fn();
  }

  private key(type: string, name: string): string {
    return `/oio/${this.opts.ns}/election/${type}/${name}`;
  }

  async acquire(type: string, name: string): Promise<MasterInfo> {
    const key = this.key(type, name);
    const lease = this.currentLease();
    const leaseId = await lease.grant();
    for (let attempt = 0; attempt < 3; attempt++) {
      const res = await this.client.if(key, 'Create', '==', 0)
        .then(this.client.put(key).value(this.self).lease(leaseId))
        .else(this.client.get(key))
        .commit();
      if (res.succeeded) return { master: this.self, epoch: Number(res.header.revision) };
      const kv = res.responses[0]?.response_range?.kvs?.[0];
      if (!kv) continue; // vanished meanwhile: campaign again
      const holder = kv.value.toString();
      if (holder === this.self && String(kv.lease) !== String(leaseId)) {
        // A key of our previous incarnation (same address, dead lease): ours to drop.
        await this.client.if(key, 'Mod', '==', Number(kv.mod_revision)).then(this.client.delete().key(key)).commit();
        continue;
      }
      return { master: holder, epoch: Number(kv.create_revision) };
    }
    throw new Error(`election of ${key} did not settle`);
  }

  onLost(fn: () => void): void {
    this.lost.push(fn);
  }

  async close(): Promise<void> {
    if (this.watchdog) clearInterval(this.watchdog);
    const lease = this.lease;
    this.lease = undefined;
    // Revoking hands every base over at once instead of after the TTL.
    if (lease) await lease.revoke().catch(() => undefined);
    this.client.close();
  }
}
