/**
 * @module sqliterepo/replication
 * Master/slave replication of bases with quorum (OpenIO sqliterepo's election + replication):
 *
 * - A replicated base records its replica set (`peers`, addresses of services of one type).
 *   One replica is master, elected through an `Election` (etcd leases in a grid; trivially
 *   local on one node). The election epoch is a fencing token: a replica refuses operations
 *   of an epoch lower than the highest it has seen, so a deposed master (partitioned, paused)
 *   can never reach a quorum again.
 * - The master commits a write locally (a numbered operation, see base.ts), then sends the
 *   operations to its peers and acknowledges the request only once a quorum (a majority of
 *   the replica set, itself included) has them. A peer that missed operations answers with
 *   the number it expects and gets the missing ones, or a whole-base copy when the log was
 *   trimmed or its history diverged (an operation never acknowledged).
 * - A replica that wins an election first catches up from the most advanced of a majority of
 *   its peers, so no acknowledged write is lost by a failover.
 * - `replicatedWrites` wraps a service's request handlers: it elects or redirects (NOT_MASTER
 *   with the master's address) when a handler touches a base mastered elsewhere, and waits for
 *   quorum and durability before the answer goes out.
 */
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { OioError, Logger, UnavailableError, callJson, request, readAll, HttpService, readBody, HANDLED, PEERS_HEADER, RouteCtx } from '../common';
import { Base, NeedMaster, Operation, RequestWrites, requestWrites, syncDirtyBases } from './base';

/** Who masters a base. */
export interface MasterInfo { master: string; epoch: number }

export interface Election {
  /** This process's address as it appears in replica sets. */
  readonly self: string;
  /** The current master of a base, campaigning for it when there is none. */
  acquire(type: string, name: string): Promise<MasterInfo>;
  /** Called with every (type, name) this process stops mastering (lease lost). */
  onLost(fn: () => void): void;
  close(): Promise<void>;
}

/** One process, no coordination: this process masters every base (single node). */
export class LocalElection implements Election {
  constructor(readonly self: string) {}
  async acquire(): Promise<MasterInfo> { return { master: this.self, epoch: 1 }; }
  onLost(): void {}
  async close(): Promise<void> {}
}

export interface ReplicatorOptions {
  /** service type of the bases (meta1, meta2, account) */
  type: string;
  election: Election;
  /** opens a base by name; `create` makes it (empty, migrated) when absent; undefined if absent */
  openBase(name: string, create: boolean): Base | undefined;
  /** replaces a base's file by a copy (closing and reopening it) */
  restoreBase(name: string, data: Buffer): void;
  log: Logger;
  /** per peer call timeout (ms) */
  timeoutMs?: number;
}

const MAX_HANDLER_RETRIES = 5;

function quorumOf(n: number): number {
  return Math.floor(n / 2) + 1;
}

export class Replicator {
  private readonly mastered = new Set<Base>();
  private readonly timeoutMs: number;
  /** elections in progress per base name (one at a time) */
  private readonly electing = new Map<string, Promise<void>>();

  constructor(private readonly opts: ReplicatorOptions) {
    this.timeoutMs = opts.timeoutMs ?? 5000;
    opts.election.onLost(() => this.stepDownAll('lease lost'));
  }

  get self(): string { return this.opts.election.self; }

  private stepDownAll(why: string): void {
    if (this.mastered.size) this.opts.log.warn('stepping down from every base', { why, bases: this.mastered.size });
    for (const b of this.mastered) b.masterEpoch = undefined;
    this.mastered.clear();
  }

  private stepDown(base: Base): void {
    base.masterEpoch = undefined;
    this.mastered.delete(base);
  }

  /**
   * Makes this process master of `base` (election, then catch-up from a majority of peers), or
   * throws NOT_MASTER naming the elected master.
   */
  async becomeMaster(base: Base, peers: string[]): Promise<void> {
    const name = base.name!;
    const running = this.electing.get(name);
    if (running) { await running; if (base.masterEpoch !== undefined) return; }
    const p = this.elect(base, peers);
    this.electing.set(name, p.catch(() => undefined));
    try { await p; } finally { this.electing.delete(name); }
  }

  private async elect(stale: Base, peers: string[]): Promise<void> {
    // A whole-base copy (catch-up) replaces the base object: always work on the open one.
    let base = (stale.name !== undefined ? this.opts.openBase(stale.name, false) : undefined) ?? stale;
    if (!peers.includes(this.self)) {
      throw new OioError('NOT_MASTER', `this service is not a replica of base ${base.name}`, { details: { master: peers[0] } });
    }
    const info = await this.opts.election.acquire(this.opts.type, base.name!);
    if (info.master !== this.self) {
      throw new OioError('NOT_MASTER', `base ${base.name} is mastered by ${info.master}`, { details: { master: info.master } });
    }
    if (info.epoch < base.epoch) throw new OioError('NOT_MASTER', `base ${base.name}: epoch ${info.epoch} is older than ${base.epoch}`);
    base = await this.catchUp(base, peers, info.epoch);
    base.epoch = info.epoch;
    base.masterEpoch = info.epoch;
    this.mastered.add(base);
    this.opts.log.info('master of base', { base: base.name, epoch: info.epoch, seq: base.lastSeq });
  }

  /**
   * Asks a majority of peers where they are, and takes what the most advanced has that we
   * lack. Resolves with the base as it is open now (a new object after a whole-base copy:
   * the old one is closed).
   */
  private async catchUp(base: Base, peers: string[], epoch: number): Promise<Base> {
    const others = peers.filter((p) => p !== this.self);
    // Every acknowledged write is on a majority: the first majority that answers (self
    // included) holds all of them, so a dead or paused peer is not waited for.
    const need = quorumOf(peers.length) - 1;
    const ok: Array<{ peer: string; seq: number }> = [];
    await new Promise<void>((resolve) => {
      let settled = 0;
      if (need <= 0 || others.length === 0) { resolve(); return; }
      for (const peer of others) {
        callJson<{ seq: number }>(peer, '/v1/repl/status', { method: 'POST', body: { type: this.opts.type, name: base.name, epoch }, timeoutMs: this.timeoutMs })
          .then((st) => { ok.push({ peer, seq: st.seq }); }, (e: unknown) => {
            this.opts.log.warn('peer did not answer the election', { base: base.name, peer, err: e as Error });
          })
          .finally(() => { settled++; if (ok.length >= need || settled === others.length) resolve(); });
      }
    });
    if (ok.length + 1 < quorumOf(peers.length)) {
      throw new UnavailableError('UNAVAILABLE', `base ${base.name}: only ${ok.length + 1} of ${peers.length} replicas reachable, no quorum`);
    }
    const best = ok.reduce<{ peer: string; seq: number } | undefined>((a, b) => (!a || b.seq > a.seq ? b : a), undefined);
    if (!best || best.seq <= base.lastSeq) return base;
    // Include our last operation so a diverged history is detected.
    const since = Math.max(0, base.lastSeq - 1);
    const got = await callJson<{ ops?: Operation[]; trimmed?: boolean }>(best.peer, '/v1/repl/ops', { query: { type: this.opts.type, name: base.name, since }, timeoutMs: this.timeoutMs });
    try {
      if (!got.ops) throw new OioError('PRECONDITION_FAILED', 'log trimmed');
      for (const op of got.ops) base.applyOp(op);
    } catch (e) {
      this.opts.log.warn('catching up by whole-base copy', { base: base.name, from: best.peer, why: (e as Error).message });
      const res = await request(best.peer, '/v1/repl/dump', { query: { type: this.opts.type, name: base.name }, timeoutMs: 60_000 });
      this.opts.restoreBase(base.name!, await readAll(res));
      return this.opts.openBase(base.name!, false) ?? base;
    }
    return base;
  }

  /**
   * Sends a request's operations on `base` to its peers; resolves once a quorum (self
   * included) has them. Slow peers keep receiving in the background.
   */
  async replicate(base: Base, ops: Operation[]): Promise<void> {
    const peers = base.peers ?? [];
    const others = peers.filter((p) => p !== this.self);
    const need = quorumOf(peers.length) - 1;
    if (need <= 0) return;
    const epoch = base.masterEpoch;
    if (epoch === undefined) throw new OioError('NOT_MASTER', `base ${base.name} lost its master during the write`);
    let acks = 0;
    let failures = 0;
    const errors: string[] = [];
    await new Promise<void>((resolve, reject) => {
      for (const peer of others) {
        this.sendTo(peer, base, ops, epoch).then(() => {
          acks++;
          if (acks === need) resolve();
        }, (e: unknown) => {
          failures++;
          errors.push(`${peer}: ${(e as Error).message}`);
          if ((e as OioError).code === 'NOT_MASTER') this.stepDown(base);
          if (others.length - failures < need) reject(new UnavailableError('UNAVAILABLE', `base ${base.name}: no quorum (${errors.join('; ')})`));
        });
      }
    });
  }

  private async sendTo(peer: string, base: Base, ops: Operation[], epoch: number): Promise<void> {
    const body = { type: this.opts.type, name: base.name, epoch, master: this.self, peers: base.peers, ops };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await callJson(peer, '/v1/repl/apply', { method: 'POST', body, timeoutMs: this.timeoutMs });
        return;
      } catch (e) {
        const err = e as OioError;
        const expected = err.details?.expected;
        if (err.code === 'BAD_REQUEST' && typeof expected === 'number') {
          const missing = base.opsSince(expected - 1);
          if (missing) { body.ops = missing; continue; }
        } else if (err.code !== 'PRECONDITION_FAILED') throw e;
        await this.sendDump(peer, base, epoch);
        return;
      }
    }
    throw new UnavailableError('UNAVAILABLE', `${peer} did not catch up`);
  }

  private async sendDump(peer: string, base: Base, epoch: number): Promise<void> {
    this.opts.log.info('copying a whole base to a replica', { base: base.name, peer });
    const data = base.dump();
    const res = await request(peer, '/v1/repl/restore', {
      method: 'POST', query: { type: this.opts.type, name: base.name, epoch },
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(data.length) },
      stream: Readable.from([data]), timeoutMs: 60_000,
    });
    await readAll(res);
  }

  // ------------------------------------------------------------ slave side

  private checkEpoch(base: Base, epoch: number): void {
    if (!Number.isInteger(epoch) || epoch < base.epoch) {
      throw new OioError('NOT_MASTER', `epoch ${epoch} is older than ${base.epoch} for base ${base.name}`);
    }
    if (epoch > base.epoch) {
      base.epoch = epoch;
      if (base.masterEpoch !== undefined && base.masterEpoch < epoch) this.stepDown(base);
    }
  }

  /** POST /v1/repl/apply: operations from the master, in order. */
  handleApply(body: { name?: string; epoch?: number; master?: string; ops?: Operation[] }): { seq: number } {
    if (typeof body.name !== 'string' || !Array.isArray(body.ops)) throw new OioError('BAD_REQUEST', 'name and ops are required');
    const base = this.opts.openBase(body.name, true)!;
    this.checkEpoch(base, Number(body.epoch));
    for (const op of body.ops) base.applyOp(op);
    return { seq: base.lastSeq };
  }

  /** POST /v1/repl/status: where this replica is (an election announces its epoch here). */
  handleStatus(body: { name?: string; epoch?: number }): { seq: number; epoch: number } {
    if (typeof body.name !== 'string') throw new OioError('BAD_REQUEST', 'name is required');
    const base = this.opts.openBase(body.name, false);
    if (!base) return { seq: 0, epoch: 0 };
    if (body.epoch !== undefined) this.checkEpoch(base, Number(body.epoch));
    return { seq: base.lastSeq, epoch: base.epoch };
  }

  /** GET /v1/repl/ops: operations after `since` (`trimmed` when the log no longer has them). */
  handleOps(name: string, since: number): { ops?: Operation[]; trimmed?: boolean } {
    const base = this.opts.openBase(name, false);
    if (!base) return { ops: [] };
    const ops = base.opsSince(since);
    return ops ? { ops } : { trimmed: true };
  }

  /**
   * Runs a write made outside any request (background work such as meta2's event queue) the
   * way a request's writes go: replicated to a quorum and durable before it resolves.
   */
  async runWrite<T>(fn: () => T): Promise<T> {
    const store: RequestWrites = { generation: 0, ops: new Map() };
    const out = requestWrites.run(store, fn);
    await this.settle(store);
    return out;
  }

  /** A quorum of replicas, then the disk, for everything a request (or a background write) committed. */
  private async settle(store: RequestWrites): Promise<void> {
    for (const [base, ops] of store.ops) if (base.isReplicated) await this.replicate(base, ops);
    if (store.generation > 0) await syncDirtyBases(store.generation);
  }

  /** Registers the replication routes on a service's HTTP server. */
  mount(http: HttpService): void {
    http.route('POST', '/v1/repl/apply', async (c) => this.handleApply(await c.json()));
    http.route('POST', '/v1/repl/status', async (c) => this.handleStatus(await c.json()));
    http.route('GET', '/v1/repl/ops', (c) => this.handleOps(c.query.get('name') ?? '', Number(c.query.get('since') ?? 0)));
    http.route('GET', '/v1/repl/dump', (c) => {
      const base = this.opts.openBase(c.query.get('name') ?? '', false);
      if (!base) throw new OioError('BAD_REQUEST', 'no such base');
      const data = base.dump();
      c.res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length });
      c.res.end(data);
      return HANDLED;
    });
    http.route('POST', '/v1/repl/restore', async (c) => {
      const name = c.query.get('name') ?? '';
      const epoch = Number(c.query.get('epoch'));
      const base = this.opts.openBase(name, false);
      if (base && epoch < base.epoch) throw new OioError('NOT_MASTER', `epoch ${epoch} is older than ${base.epoch}`);
      const data = await readBody(c.req, 1024 * 1024 * 1024);
      this.opts.restoreBase(name, data);
      const fresh = this.opts.openBase(name, false)!;
      fresh.epoch = Math.max(fresh.epoch, epoch);
      return { seq: fresh.lastSeq };
    });
  }

  /**
   * Wraps a request handler: peers from the x-oio-peers header for bases the request creates;
   * election or redirection when a base it touches is mastered elsewhere (the handler is run
   * again after an election: it threw before changing anything); quorum and durability of
   * everything it wrote before it answers.
   */
  wrap(): <T>(handler: () => Promise<T>, ctx: RouteCtx) => Promise<T> {
    return async <T>(handler: () => Promise<T>, ctx: RouteCtx): Promise<T> => {
      const peers = peersFromHeader(ctx.req.headers[PEERS_HEADER]);
      for (let attempt = 0; ; attempt++) {
        const store: RequestWrites = { generation: 0, ops: new Map(), peers };
        try {
          const out = await requestWrites.run(store, handler);
          await this.settle(store);
          return out;
        } catch (e) {
          if (!(e instanceof NeedMaster) || attempt >= MAX_HANDLER_RETRIES) throw e;
          await this.becomeMaster(e.base, e.peers);
        }
      }
    };
  }
}

/** Parses the x-oio-peers header (comma separated addresses). */
export function peersFromHeader(v: string | string[] | undefined): string[] | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (!s) return undefined;
  const list = s.split(',').map((x) => x.trim()).filter(Boolean);
  return list.length ? list : undefined;
}

/** Writes a base copy in place of `file` (temp + fsync + rename). */
export function writeBaseFile(file: string, data: Buffer): void {
  const tmp = `${file}.restore`;
  const fd = fs.openSync(tmp, 'w');
  try { fs.writeSync(fd, data); fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
  for (const suffix of ['-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
  fs.renameSync(tmp, file);
}

export interface ReplicatedHttpOptions {
  /** service type of the bases (meta1, meta2, account) */
  type: string;
  host: string;
  port: number;
  log: Logger;
  accessLog: boolean;
  /** the election for this service's address (ServiceContext.election); local when absent */
  election?: (self: string) => Election;
  openBase: ReplicatorOptions['openBase'];
  restoreBase: ReplicatorOptions['restoreBase'];
}

/**
 * The HTTP server of a service whose bases replicate: listens, sets up the election for the
 * address it bound, mounts the replication routes and wraps every handler (election or
 * redirection, quorum, durability). The service then mounts its own routes on `http`.
 */
export async function listenReplicated(opts: ReplicatedHttpOptions): Promise<{ http: HttpService; addr: string; election: Election; replicator: Replicator }> {
  let wrap: ReturnType<Replicator['wrap']> | undefined;
  const http = new HttpService(opts.log, { accessLog: opts.accessLog, wrapHandler: (run, ctx) => wrap!(run, ctx) });
  const port = await http.listen(opts.host, opts.port);
  const addr = `${opts.host}:${port}`;
  const election = opts.election?.(addr) ?? new LocalElection(addr);
  const replicator = new Replicator({
    type: opts.type, election, log: opts.log.child({ component: 'repl' }), openBase: opts.openBase, restoreBase: opts.restoreBase,
  });
  wrap = replicator.wrap();
  replicator.mount(http);
  return { http, addr, election, replicator };
}
