/**
 * @module sqliterepo/etcd-election
 * Master election of bases through etcd (we do not write our own consensus): the master of a
 * base is the holder of key `/oio/<ns>/election/<type>/<base>`, created under this process's
 * lease (kept alive while the process runs; it expires `ttlSec` after a crash or a pause).
 * The key's create revision is the election epoch (a fencing token, see replication.ts).
 */
import { Etcd3, Lease } from 'etcd3';
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

export class EtcdElection implements Election {
  readonly self: string;
  private readonly client: Etcd3;
  private lease: Lease | undefined;
  private readonly lost: Array<() => void> = [];

  constructor(private readonly opts: EtcdElectionOptions) {
    this.self = opts.self;
    this.client = new Etcd3({ hosts: opts.endpoints.map((e) => (e.startsWith('http') ? e : `http://${e}`)), dialTimeout: 3000 });
  }

  private currentLease(): Lease {
    if (!this.lease) {
      const lease = this.client.lease(this.opts.ttlSec ?? 4, { autoKeepAlive: true });
      lease.on('lost', (err) => {
        this.opts.log.warn('etcd lease lost', { err: err as Error });
        if (this.lease === lease) this.lease = undefined;
        for (const fn of this.lost) fn();
      });
      this.lease = lease;
    }
    return this.lease;
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
    const lease = this.lease;
    this.lease = undefined;
    // Revoking hands every base over at once instead of after the TTL.
    if (lease) await lease.revoke().catch(() => undefined);
    this.client.close();
  }
}
