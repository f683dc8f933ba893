/**
 * @module sqliterepo/base
 * One SQLite base (a container's meta2 base, a meta1 prefix, meta0, an account base).
 * Every write goes through `write()`: the statements it runs are recorded, in the same
 * transaction, as one numbered operation in the `_oplog` table. That log is the seam where
 * master/slave replication plugs in: a slave applies the same operations in order with
 * `applyOp()` and reaches the same state (so writers must pass every non-deterministic value
 * — times, ids, versions — as parameters, never call random()/now() inside SQL).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { OioError } from '../common/errors';

export type SqlParam = string | number | bigint | null | Buffer;
export type SqlParams = SqlParam[] | Record<string, SqlParam>;

export interface Statement { sql: string; params: SqlParams }

/** One numbered operation: what a slave replays. `hash` identifies it (divergence check). */
export interface Operation { seq: number; time: number; statements: Statement[]; hash?: string }

/**
 * Thrown by a replicated base that this process does not (yet) master, before anything is
 * done: the request wrapper (`replicatedWrites`) elects or redirects, then retries the handler.
 */
export class NeedMaster extends Error {
  constructor(readonly base: Base, readonly peers: string[]) {
    super(`base ${base.name ?? base.file} needs its master`);
  }
}

export interface Migration { version: number; sql: string }

/** What a writer sees: run statements (recorded) and read inside the transaction. */
export interface WriteTx {
  run(sql: string, params?: SqlParams): Database.RunResult;
  get<T = Record<string, unknown>>(sql: string, params?: SqlParams): T | undefined;
  all<T = Record<string, unknown>>(sql: string, params?: SqlParams): T[];
}

export interface BaseOptions {
  /** keep at most this many operations in the log (older ones are trimmed); default 10,000 */
  oplogKeep?: number;
  /** false: never fsync (tests, scratch bases); default true (group commit, see `sync`) */
  durable?: boolean;
  /**
   * How commits become durable: `group` (default when durable) commits without fsync and
   * `syncDirtyBases()` fsyncs the write-ahead logs of every base written since, once for
   * all of them (services await it before answering, so an acknowledged write is on disk);
   * `full` fsyncs inside every commit (blocking the event loop); `off` never fsyncs;
   * `lazy` commits without fsync and never joins the group commit: the WAL is fsynced at
   * checkpoints only, so a process crash loses nothing and a power loss may lose the last
   * commits but never corrupts the base (a local queue whose content can be rebuilt).
   */
  sync?: 'group' | 'full' | 'off' | 'lazy';
  /**
   * false: writes are not recorded in `_oplog` (a base that is never replicated, such as an
   * rdir index or a local queue: no per-write JSON encoding and hash); default true
   */
  oplog?: boolean;
}

// Group commit: bases committed since the last fsync, and generations to know whether a
// caller's commits are covered by an fsync already done (or under way).
const dirtyBases = new Set<Base>();
let commitGeneration = 0;
let syncedGeneration = 0;
let syncInFlight: Promise<void> | undefined;

/** What the current request did to bases (see `durableWrites` and replication). */
export interface RequestWrites {
  /** commit generation this request must see on disk */
  generation: number;
  /** operations committed by this request, per base, in order */
  ops: Map<Base, Operation[]>;
  /** replica set given by the caller (header x-oio-peers) for bases created by this request */
  peers?: string[];
}

export const requestWrites = new AsyncLocalStorage<RequestWrites>();

/**
 * Runs a request handler and, if it committed anything in group mode, waits until those
 * commits are on disk before resolving: an acknowledged write is durable, and a request
 * that wrote nothing (a read) never waits for other requests' fsyncs.
 */
export async function durableWrites<T>(handler: () => Promise<T>): Promise<T> {
  const store: RequestWrites = { generation: 0, ops: new Map() };
  const out = await requestWrites.run(store, handler);
  if (store.generation > 0) await syncDirtyBases(store.generation);
  return out;
}

/**
 * Resolves when every commit made (in group mode) before this call — or up to generation
 * `target` — is on disk: one fsync per written base's WAL, shared by every caller waiting at
 * the same time. Cheap when nothing is pending. Rejects if an fsync fails (bases stay pending).
 */
export async function syncDirtyBases(target = commitGeneration): Promise<void> {
  while (syncedGeneration < target) {
    if (!syncInFlight) {
      const gen = commitGeneration;
      const bases = [...dirtyBases];
      dirtyBases.clear();
      syncInFlight = Promise.all(bases.map((b) => b.syncWal()))
        .then(() => { syncedGeneration = Math.max(syncedGeneration, gen); }, (e: unknown) => { for (const b of bases) dirtyBases.add(b); throw e; })
        .finally(() => { syncInFlight = undefined; });
    }
    await syncInFlight;
  }
}

type OpListener = (op: Operation) => void;

export class Base {
  readonly db: Database.Database;
  private readonly stmtCache = new Map<string, Database.Statement>();
  private readonly oplogKeep: number;
  private readonly keepsOplog: boolean;
  private listeners: OpListener[] = [];
  private seq: number;
  private readonly syncMode: 'group' | 'full' | 'off' | 'lazy';
  private wal: fs.promises.FileHandle | undefined;
  /** service type and base name, for elections and replication (set by the opener) */
  type: string | undefined;
  name: string | undefined;
  /** set while this process is the elected master of this (replicated) base */
  masterEpoch: number | undefined;
  private peersCache: string[] | null | undefined;

  private constructor(readonly file: string, migrations: Migration[], opts: BaseOptions) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.syncMode = opts.durable === false ? 'off' : opts.sync ?? 'group';
    // NORMAL in WAL mode: commits are not fsynced (group mode fsyncs the WAL itself);
    // checkpoints still fsync the WAL before copying it into the base.
    this.db.pragma(`synchronous = ${this.syncMode === 'full' ? 'FULL' : this.syncMode === 'off' ? 'OFF' : 'NORMAL'}`);
    this.db.pragma('busy_timeout = 5000');
    this.oplogKeep = opts.oplogKeep ?? 10_000;
    this.keepsOplog = opts.oplog !== false;
    this.db.exec(`CREATE TABLE IF NOT EXISTS _oplog (seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, ops TEXT NOT NULL, hash TEXT);
                  CREATE TABLE IF NOT EXISTS _admin (k TEXT PRIMARY KEY, v TEXT NOT NULL);`);
    const cols = this.db.prepare(`PRAGMA table_info(_oplog)`).all() as Array<{ name: string }>;
    if (!cols.some((c) => c.name === 'hash')) this.db.exec(`ALTER TABLE _oplog ADD COLUMN hash TEXT`);
    this.migrate(migrations);
    const row = this.db.prepare(`SELECT v FROM _admin WHERE k = 'seq'`).get() as { v: string } | undefined;
    this.seq = row ? Number(row.v) : 0;
  }

  /** Opens (creating if needed) a base and brings its schema to the latest migration. */
  static open(file: string, migrations: Migration[], opts: BaseOptions = {}): Base {
    return new Base(file, migrations, opts);
  }

  private migrate(migrations: Migration[]): void {
    const row = this.db.prepare(`SELECT v FROM _admin WHERE k = 'schema_version'`).get() as { v: string } | undefined;
    let current = row ? Number(row.v) : 0;
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (m.version <= current) continue;
      this.db.transaction(() => {
        this.db.exec(m.sql);
        this.db.prepare(`INSERT OR REPLACE INTO _admin (k, v) VALUES ('schema_version', ?)`).run(String(m.version));
      })();
      current = m.version;
    }
  }

  private prepare(sql: string): Database.Statement {
    let s = this.stmtCache.get(sql);
    if (!s) { s = this.db.prepare(sql); this.stmtCache.set(sql, s); }
    return s;
  }

  /** Names the base for elections and replication. */
  identify(type: string, name: string): this {
    this.type = type;
    this.name = name;
    return this;
  }

  /** The replica set recorded in the base (addresses), or undefined when never set. */
  get peers(): string[] | undefined {
    if (this.peersCache === undefined) {
      const row = this.db.prepare(`SELECT v FROM _admin WHERE k = 'peers'`).get() as { v: string } | undefined;
      this.peersCache = row ? (JSON.parse(row.v) as string[]) : null;
    }
    return this.peersCache ?? undefined;
  }

  /** True when the base lives on several replicas (writes need an elected master). */
  get isReplicated(): boolean {
    return (this.peers?.length ?? 0) > 1;
  }

  /** Highest election epoch seen for this base (a lower one is a deposed master). */
  get epoch(): number {
    const row = this.db.prepare(`SELECT v FROM _admin WHERE k = 'epoch'`).get() as { v: string } | undefined;
    return row ? Number(row.v) : 0;
  }

  set epoch(e: number) {
    this.db.prepare(`INSERT OR REPLACE INTO _admin (k, v) VALUES ('epoch', ?)`).run(String(e));
  }

  /** Hash of the operation `seq` still in the log (undefined if trimmed or absent). */
  hashAt(seq: number): string | undefined {
    const row = this.prepare(`SELECT hash FROM _oplog WHERE seq = ?`).get(seq) as { hash: string | null } | undefined;
    return row?.hash ?? undefined;
  }

  /** Throws NeedMaster when this replicated base is not mastered here. */
  private gate(peers: string[] | undefined): void {
    if (peers && peers.length > 1 && this.masterEpoch === undefined) throw new NeedMaster(this, peers);
  }

  /** The number of the last operation applied to this base. */
  get lastSeq(): number { return this.seq; }

  /** Reads outside any write (snapshot of the last commit). */
  /** Reads in a request go to the master of a replicated base (consistent reads). */
  private gateRead(): void {
    const ctx = requestWrites.getStore();
    if (ctx) this.gate(this.peers ?? ctx.peers);
  }

  get<T = Record<string, unknown>>(sql: string, params: SqlParams = []): T | undefined {
    this.gateRead();
    return this.prepare(sql).get(params) as T | undefined;
  }

  all<T = Record<string, unknown>>(sql: string, params: SqlParams = []): T[] {
    this.gateRead();
    return this.prepare(sql).all(params) as T[];
  }

  iterate<T = Record<string, unknown>>(sql: string, params: SqlParams = []): IterableIterator<T> {
    this.gateRead();
    return this.prepare(sql).iterate(params) as IterableIterator<T>;
  }

  /**
   * Runs `fn` in one transaction; the statements it ran become operation `lastSeq + 1`.
   * A throw rolls everything back and records nothing. Returns what `fn` returned.
   */
  write<R>(fn: (tx: WriteTx) => R, time = Date.now()): R {
    const ctx = requestWrites.getStore();
    const stored = this.peers;
    // A base created by this request records the replica set its caller gave (x-oio-peers).
    const newPeers = stored === undefined && ctx?.peers && ctx.peers.length > 0 ? ctx.peers : undefined;
    this.gate(stored ?? newPeers);
    const statements: Statement[] = [];
    const tx: WriteTx = {
      run: (sql, params = []) => { statements.push({ sql, params }); return this.prepare(sql).run(params); },
      get: <T>(sql: string, params: SqlParams = []) => this.prepare(sql).get(params) as T | undefined,
      all: <T>(sql: string, params: SqlParams = []) => this.prepare(sql).all(params) as T[],
    };
    let op: Operation | undefined;
    let wrote = false;
    const result = this.db.transaction(() => {
      if (newPeers) tx.run(`INSERT OR REPLACE INTO _admin (k, v) VALUES ('peers', ?)`, [JSON.stringify(newPeers)]);
      const r = fn(tx);
      wrote = statements.length > 0;
      if (wrote && this.keepsOplog) op = this.recordOp(statements, time);
      return r;
    })();
    if (newPeers) this.peersCache = newPeers;
    if (wrote) this.markDirty();
    if (op) {
      if (ctx) { const list = ctx.ops.get(this) ?? []; list.push(op); ctx.ops.set(this, list); }
      for (const l of this.listeners) l(op);
    }
    return result;
  }

  private markDirty(): void {
    if (this.syncMode !== 'group') return;
    commitGeneration++;
    dirtyBases.add(this);
    const store = requestWrites.getStore();
    if (store) store.generation = commitGeneration;
  }

  /** fsyncs this base's write-ahead log (group commit; see syncDirtyBases). */
  async syncWal(): Promise<void> {
    if (!this.db.open) return;
    if (!this.wal) {
      try { this.wal = await fs.promises.open(`${this.file}-wal`, 'r'); }
      catch (e) { if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; throw e; }
    }
    await this.wal.sync();
  }

  private recordOp(statements: Statement[], time: number): Operation {
    const seq = this.seq + 1;
    // Parameters are JSON values (text, numbers, null): blobs are stored as hex text by callers.
    const encoded = JSON.stringify(statements);
    const hash = createHash('sha1').update(String(time)).update('\n').update(encoded).digest('hex');
    this.prepare(`INSERT INTO _oplog (seq, time, ops, hash) VALUES (?, ?, ?, ?)`).run(seq, time, encoded, hash);
    this.prepare(`INSERT OR REPLACE INTO _admin (k, v) VALUES ('seq', ?)`).run(String(seq));
    if (seq > this.oplogKeep && seq % 100 === 0) this.prepare(`DELETE FROM _oplog WHERE seq <= ?`).run(seq - this.oplogKeep);
    this.seq = seq;
    return { seq, time, statements, hash };
  }

  /**
   * Applies an operation received from the master. Operations must come in order:
   * a gap throws BAD_REQUEST with details.expected so the caller resyncs.
   */
  applyOp(op: Operation): void {
    if (op.seq <= this.seq) {
      // Already applied: the same operation, or a diverged history (the caller copies the base).
      const mine = this.hashAt(op.seq);
      if (op.hash && mine && mine !== op.hash) throw new OioError('PRECONDITION_FAILED', `operation ${op.seq} diverged`, { details: { diverged: op.seq } });
      return;
    }
    if (op.seq !== this.seq + 1) throw new OioError('BAD_REQUEST', `operation ${op.seq} out of order`, { details: { expected: this.seq + 1 } });
    let applied: Operation | undefined;
    this.db.transaction(() => {
      for (const s of op.statements) this.prepare(s.sql).run(s.params);
      applied = this.recordOp(op.statements, op.time);
    })();
    if (op.hash && applied!.hash !== op.hash) throw new OioError('INTERNAL', `operation ${op.seq} replayed to another hash`);
    this.peersCache = undefined;
    this.markDirty();
  }

  /** A consistent copy of the whole base (full resync of a replica). */
  dump(): Buffer {
    return this.db.serialize();
  }

  /** Operations after `seq` still in the log (undefined if trimmed: a whole-base copy is needed). */
  opsSince(seq: number): Operation[] | undefined {
    const first = (this.prepare(`SELECT MIN(seq) AS s FROM _oplog`).get() as { s: number | null } | undefined)?.s ?? this.seq + 1;
    if (seq + 1 < first) return undefined;
    return (this.prepare(`SELECT seq, time, ops, hash FROM _oplog WHERE seq > ? ORDER BY seq`).all(seq) as Array<{ seq: number; time: number; ops: string; hash: string | null }>)
      .map((r) => ({ seq: r.seq, time: r.time, statements: JSON.parse(r.ops) as Statement[], ...(r.hash ? { hash: r.hash } : {}) }));
  }

  /** Called after each committed operation (replication hooks, events). */
  onOperation(l: OpListener): () => void {
    this.listeners.push(l);
    return () => { this.listeners = this.listeners.filter((x) => x !== l); };
  }

  /** Closes the base (a closing connection checkpoints its WAL into the base, with fsync). */
  close(): void {
    this.stmtCache.clear();
    dirtyBases.delete(this);
    if (this.db.open) this.db.close();
    const wal = this.wal;
    this.wal = undefined;
    void wal?.close().catch(() => undefined);
  }
}
