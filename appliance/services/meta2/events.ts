/**
 * @module services/meta2/events
 * meta2's durable event queue. Events are rows written in the same transaction as the change
 * that causes them (a crash never loses one): `chunk.delete {url}` (the chunk is no longer
 * referenced by any content of the base) and `container.usage {account, container, objects,
 * bytes, mtime, deleted?}` (absolute values; at most one pending per base, the newest).
 * The drainer sends them every `meta2.event_interval`: HTTP DELETE on the chunk URL (404 is
 * done) and POST /v1/account/container/update on the account service; a failure is retried
 * with exponential backoff, the row stays until the send succeeded.
 */
import { callJson, isNotFound, Logger, request, sleep } from '../../common';
import { isReachError } from '../../client/resolver';
import type { WriteTx } from '../../sqliterepo';
import type { Meta2Backend } from './backend';

/** Absolute usage of one container, as the account service stores it. */
export interface UsagePayload {
  account: string;
  container: string;
  objects: number;
  bytes: number;
  /** epoch ms of the container's last change */
  mtime: number;
  deleted?: boolean;
}

export const CHUNK_DELETE = 'chunk.delete';
export const CONTAINER_USAGE = 'container.usage';

/** One row of the outbox. */
export interface EventRow {
  id: number;
  type: string;
  payload: string;
  attempts: number;
  next_try: number;
}

/** Queues the deletion of a chunk (caller checked that no content references it any more). */
export function queueChunkDelete(tx: WriteTx, url: string): void {
  tx.run(`INSERT INTO events (type, payload) VALUES (?, ?)`, [CHUNK_DELETE, JSON.stringify({ url })]);
}

/** Queues the container's absolute usage, replacing a usage event not sent yet. */
export function queueUsage(tx: WriteTx, usage: UsagePayload): void {
  tx.run(`DELETE FROM events WHERE type = ?`, [CONTAINER_USAGE]);
  tx.run(`INSERT INTO events (type, payload) VALUES (?, ?)`, [CONTAINER_USAGE, JSON.stringify(usage)]);
}

/** Copies events (other base's rows) into this base, e.g. before a container base is removed. */
export function queueRows(tx: WriteTx, rows: Array<Pick<EventRow, 'type' | 'payload'>>): void {
  for (const r of rows) tx.run(`INSERT INTO events (type, payload) VALUES (?, ?)`, [r.type, r.payload]);
}

export interface EventDrainerOptions {
  backend: Meta2Backend;
  /** pause between two passes, ms (meta2.event_interval) */
  intervalMs: number;
  /**
   * where the account service answers: its replicas (host:port) in order, each tried until one
   * takes the update; empty: not known yet (retried)
   */
  resolveAccount: () => Promise<string[]>;
  log: Logger;
  /** maximum delay between two attempts of one event, ms; default 60 s */
  maxBackoffMs?: number;
  /** events sent in parallel; default 16 */
  concurrency?: number;
  /** runs a write outside any request so that it replicates like one (the service's replicator) */
  runWrite?: (fn: () => void) => Promise<void>;
}

/** Sends the queued events of every base in the background. */
export class EventDrainer {
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly abort = new AbortController();

  constructor(private readonly opts: EventDrainerOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        try { await this.drainOnce(); } catch (e) { this.opts.log.warn('event drain failed', { err: e as Error }); }
        await sleep(this.opts.intervalMs, this.abort.signal);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    await this.loop;
  }

  /** One pass over every base with pending events; returns how many events were sent. */
  async drainOnce(now = Date.now()): Promise<number> {
    const { backend } = this.opts;
    let sent = 0;
    let accountAddrs: string[] = [];
    let accountResolved = false;
    for (const source of backend.eventSources()) {
      const rows = backend.dueEvents(source, now, 256);
      if (rows.length === 0) continue;
      if (!accountResolved && rows.some((r) => r.type === CONTAINER_USAGE)) {
        accountResolved = true;
        accountAddrs = await this.opts.resolveAccount().catch(() => []);
      }
      const queue = [...rows];
      const done: number[] = [];
      const retries: Array<{ id: number; nextTry: number }> = [];
      const worker = async (): Promise<void> => {
        for (let row = queue.shift(); row; row = queue.shift()) {
          try {
            await this.send(row, accountAddrs);
            done.push(row.id);
            sent++;
          } catch (e) {
            const delay = Math.min(this.opts.intervalMs * 2 ** Math.min(row.attempts, 20), this.opts.maxBackoffMs ?? 60_000);
            this.opts.log.debug('event send failed', { source, type: row.type, attempts: row.attempts + 1, err: e as Error });
            retries.push({ id: row.id, nextTry: Date.now() + delay });
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.opts.concurrency ?? 16, rows.length) }, worker));
      // One write (one fsync) per pass; a crash before it only resends (DELETE and usage are idempotent).
      const settle = () => backend.settleEvents(source, done, retries);
      if (this.opts.runWrite) await this.opts.runWrite(settle).catch((e: unknown) => this.opts.log.debug('event settle not replicated', { source, err: e as Error }));
      else settle();
    }
    return sent;
  }

  private async send(row: EventRow, accountAddrs: string[]): Promise<void> {
    const payload = JSON.parse(row.payload) as Record<string, unknown>;
    if (row.type === CHUNK_DELETE) {
      const url = new URL(String(payload.url));
      try {
        const res = await request(url.host, url.pathname, { method: 'DELETE', timeoutMs: 10_000 });
        res.resume();
      } catch (e) {
        if (!isNotFound(e)) throw e; // a chunk already gone is deleted
      }
      return;
    }
    if (row.type === CONTAINER_USAGE) {
      if (!accountAddrs.length) throw new Error('account service address unknown');
      const u = payload as unknown as UsagePayload;
      const body = { id: u.account, container: u.container, objects: u.objects, bytes: u.bytes, mtime: u.mtime, ...(u.deleted ? { deleted: true } : {}) };
      // The first replica that answers takes it (a slave redirects to its master); a replica
      // that is down or cut off is skipped, any other refusal is the answer.
      let last: unknown;
      for (const addr of accountAddrs) {
        try {
          await callJson(addr, '/v1/account/container/update', { method: 'POST', timeoutMs: 10_000, body });
          return;
        } catch (e) {
          last = e;
          if (!isReachError(e)) throw e;
        }
      }
      throw last;
    }
    this.opts.log.warn('unknown event type dropped', { type: row.type });
  }
}
