/**
 * @module runtime/membership
 * Grid membership through etcd: each node keeps `/oio/<ns>/nodes/<ip>` alive under a lease
 * (it vanishes a few seconds after the node dies) and reads the list back, so every agent
 * publishes its services to the conscience of every live node and the bulletins agree.
 */
import { Etcd3, Lease } from 'etcd3';
import type { Logger } from '../common';
import { etcdClient } from '../sqliterepo';

export interface MemberRecord { ip: string; conscience: string; time: number }

export class Membership {
  private readonly client: Etcd3;
  private lease: Lease | undefined;
  private members: MemberRecord[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: { endpoints: string[]; ns: string; self: MemberRecord; ttlSec: number; refreshMs: number; log: Logger }) {
    this.client = etcdClient(opts.endpoints);
    this.members = [opts.self];
  }

  private get prefix(): string { return `/oio/${this.opts.ns}/nodes/`; }

  /** Starts announcing this node and following the others (etcd may come up later). */
  start(): void {
    const tick = async () => {
      try {
        if (!this.lease) {
          const lease = this.client.lease(this.opts.ttlSec, { autoKeepAlive: true });
          lease.on('lost', () => { if (this.lease === lease) this.lease = undefined; });
          await lease.put(this.prefix + this.opts.self.ip).value(JSON.stringify(this.opts.self));
          this.lease = lease;
        }
        const all = await this.client.getAll().prefix(this.prefix).strings();
        const list = Object.values(all).map((v) => JSON.parse(v) as MemberRecord);
        if (!list.some((m) => m.ip === this.opts.self.ip)) list.push(this.opts.self);
        this.members = list.sort((a, b) => (a.ip < b.ip ? -1 : 1));
      } catch (e) {
        this.opts.log.debug('membership refresh failed', { err: e as Error });
      }
    };
    const loop = () => { void tick().finally(() => { if (this.timer !== undefined) this.timer = setTimeout(loop, this.opts.refreshMs); }); };
    this.timer = setTimeout(loop, 0);
  }

  /** Conscience addresses of the live nodes, this node's first. */
  consciences(): string[] {
    const self = this.opts.self.conscience;
    return [self, ...this.members.map((m) => m.conscience).filter((c) => c !== self)];
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const lease = this.lease;
    this.lease = undefined;
    if (lease) await lease.revoke().catch(() => undefined);
    this.client.close();
  }
}
