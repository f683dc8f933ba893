/**
 * @module services/rawx/rdir-feed
 * Keeps the rdir of this volume current: every chunk stored or deleted becomes a row of a
 * local queue (`<volume>/rdir-queue.db`, SQLite), written before the rawx answers, and a
 * background loop sends the rows in batches (`POST /v1/rdir/push`, `/delete`) and removes
 * them once the rdir took them. An rdir that is down or slow never delays a chunk PUT: the
 * rows wait, retried with exponential backoff (200 ms to 10 s).
 * The queue commits without fsync (sqliterepo `lazy` mode): a rawx crash loses no row; a
 * power loss may lose the last rows, which `oio rdir rebuild` (a crawl of the chunk files,
 * which carry their own metadata) restores. An entry the rdir refuses (BAD_REQUEST) is
 * logged and dropped, so one bad row never blocks the queue.
 */
import path from 'node:path';
import { ChunkMeta, Logger, OioError, toOioError } from '../../common';
import { RdirClient, rdirEntryOf } from '../../client/remote/rdir';
import { Base, type Migration } from '../../sqliterepo';

export const RDIR_QUEUE_FILE = 'rdir-queue.db';

const MIGRATIONS: Migration[] = [{
  version: 1,
  sql: `CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, op TEXT NOT NULL, chunk_id TEXT NOT NULL, entry TEXT);`,
}];

export interface RdirFeedOptions {
  /** the volume's root folder (the queue lives there) */
  volume: string;
  /** host:port of this volume's rdir */
  rdir: string;
  log: Logger;
  /** rows per request; default 500 */
  batch?: number;
  /** delay before a send, to batch the events of concurrent PUTs (fewer rdir commits and fsyncs); default 100 ms */
  delayMs?: number;
  /** longest wait between two attempts; default 10 s */
  maxBackoffMs?: number;
}

type Row = { seq: number; op: 'push' | 'delete'; chunk_id: string; entry: string | null };

/** Counters served on rawx GET /stat (rdirQueued, rdirSent, rdirFailures, rdirDropped). */
export interface RdirFeedStats { queued: number; sent: number; failures: number; dropped: number }

export class RdirFeed {
  readonly stats: RdirFeedStats = { queued: 0, sent: 0, failures: 0, dropped: 0 };
  private readonly base: Base;
  private readonly client: RdirClient;
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private stopped = false;
  private backoffMs = 0;
  private lastWarn = 0;

  constructor(private readonly opts: RdirFeedOptions) {
    this.base = Base.open(path.join(opts.volume, RDIR_QUEUE_FILE), MIGRATIONS, { sync: 'lazy', oplog: false });
    this.client = new RdirClient(opts.rdir, { volume: opts.volume, timeoutMs: 30_000 });
  }

  /** Rows not yet taken by the rdir. */
  get pending(): number {
    return this.base.get<{ n: number }>(`SELECT COUNT(*) AS n FROM events`)!.n;
  }

  /** Starts sending what a previous run left in the queue. */
  start(): void {
    this.stopped = false;
    this.kick(0);
  }

  /** Queues a stored chunk (synchronous: the row is committed when this returns). */
  pushed(meta: ChunkMeta): void {
    this.base.write((tx) => tx.run(`INSERT INTO events (op, chunk_id, entry) VALUES ('push', ?, ?)`, [meta.chunkId, JSON.stringify(rdirEntryOf(meta))]));
    this.stats.queued++;
    this.kick();
  }

  /** Queues a deleted chunk. */
  deleted(chunkId: string): void {
    this.base.write((tx) => tx.run(`INSERT INTO events (op, chunk_id, entry) VALUES ('delete', ?, NULL)`, [chunkId]));
    this.stats.queued++;
    this.kick();
  }

  /** Sends everything queued now (tests, and a clean stop); rejects if the rdir fails. */
  async flush(): Promise<void> {
    while (this.sending) await this.sending;
    await this.sendAll();
  }

  /** Stops the loop (rows stay queued for the next start). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.sending?.catch(() => undefined);
    this.base.close();
  }

  private kick(delayMs = this.opts.delayMs ?? 100): void {
    if (this.stopped || this.timer || this.sending) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sending = this.sendAll().then(() => {
        this.backoffMs = 0;
      }, (e: unknown) => {
        this.stats.failures++;
        this.backoffMs = Math.min(this.opts.maxBackoffMs ?? 10_000, Math.max(200, this.backoffMs * 2));
        if (Date.now() - this.lastWarn > 30_000) {
          this.lastWarn = Date.now();
          this.opts.log.warn('rdir not fed, retrying', { rdir: this.opts.rdir, pending: this.pending, retryMs: this.backoffMs, err: toOioError(e) });
        }
      }).finally(() => {
        this.sending = undefined;
        if (!this.stopped && (this.backoffMs > 0 || this.pending > 0)) this.kick(this.backoffMs);
      });
    }, delayMs);
    this.timer.unref();
  }

  /** Sends rows in order, a run of one kind (push or delete) per request, until none is left. */
  private async sendAll(): Promise<void> {
    const limit = this.opts.batch ?? 500;
    for (;;) {
      if (this.stopped) return;
      const rows = this.base.all<Row>(`SELECT seq, op, chunk_id, entry FROM events ORDER BY seq LIMIT ?`, [limit]);
      if (rows.length === 0) return;
      const run: Row[] = [];
      for (const r of rows) { if (r.op !== rows[0]!.op) break; run.push(r); }
      try {
        await this.send(run);
      } catch (e) {
        if ((e as OioError).code !== 'BAD_REQUEST') throw e;
        // One entry refused makes the whole batch fail: send one by one, dropping the bad ones.
        for (const r of run) {
          try { await this.send([r]); this.stats.sent++; } catch (e1) {
            if ((e1 as OioError).code !== 'BAD_REQUEST') throw e1;
            this.stats.dropped++;
            this.opts.log.error('rdir refused an entry: dropped', { chunkId: r.chunk_id, op: r.op, err: toOioError(e1) });
          }
          this.remove(r.seq, r.seq);
        }
        continue;
      }
      this.remove(run[0]!.seq, run[run.length - 1]!.seq);
      this.stats.sent += run.length;
    }
  }

  private async send(run: Row[]): Promise<void> {
    if (run[0]!.op === 'push') await this.client.rdirPush(run.map((r) => JSON.parse(r.entry ?? '{}') as never));
    else await this.client.rdirDelete(run.map((r) => r.chunk_id));
  }

  private remove(from: number, to: number): void {
    if (!this.base.db.open) return;
    this.base.write((tx) => tx.run(`DELETE FROM events WHERE seq BETWEEN ? AND ?`, [from, to]));
  }
}
