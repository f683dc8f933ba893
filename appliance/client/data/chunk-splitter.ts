/**
 * @module client/data/chunk-splitter
 * Cuts a content stream into metachunks of at most `chunk_size` bytes without holding a
 * whole metachunk in memory: each metachunk is a Readable pulling from the source (buffers
 * are passed through or sliced, never copied); the source is paused between metachunks.
 */
import { Readable } from 'node:stream';
import { OioError } from '../../common';

/** Bytes buffered ahead of the consumer (source paused above this). */
const AHEAD_BYTES = 1024 * 1024;

/** One metachunk of the content. */
export interface Metachunk {
  /** metachunk position: 0, 1, ... */
  pos: number;
  /** byte offset of the metachunk in the content */
  offset: number;
  /** the metachunk's bytes (at most chunk_size); consume or destroy before the next one */
  stream: Readable;
  /** bytes emitted so far (the metachunk's size once `stream` ended) */
  readonly size: number;
}

/** Pulls buffers from a source in paused/flowing mode with a bounded read-ahead. */
class Puller {
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private ended = false;
  private error: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly src: Readable) {
    src.on('data', (b: Buffer) => {
      this.queue.push(b);
      this.queued += b.length;
      if (this.queued >= AHEAD_BYTES) src.pause();
      this.notify();
    });
    src.on('end', () => { this.ended = true; this.notify(); });
    src.on('error', (e: Error) => { this.error = e; this.notify(); });
    src.on('close', () => {
      if (!this.ended && !this.error) this.error = new OioError('BAD_REQUEST', 'content stream closed before its end');
      this.notify();
    });
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** The next buffer, or null at the end of the source; throws the source's error. */
  async next(): Promise<Buffer | null> {
    for (;;) {
      const b = this.queue.shift();
      if (b !== undefined) {
        this.queued -= b.length;
        if (this.queued < AHEAD_BYTES && this.src.isPaused() && !this.ended) this.src.resume();
        return b;
      }
      if (this.error) throw this.error;
      if (this.ended) return null;
      await new Promise<void>((resolve) => { this.wake = resolve; });
    }
  }

  /** Puts back the unused part of a buffer. */
  unshift(b: Buffer): void {
    if (b.length === 0) return;
    this.queue.unshift(b);
    this.queued += b.length;
  }
}

class MetachunkStream extends Readable {
  size = 0;
  /** the source ended inside this metachunk (so it is the last one) */
  sawEnd = false;
  completed = false;
  private pulling = false;

  constructor(private readonly puller: Puller, private readonly limit: number) {
    super({ highWaterMark: AHEAD_BYTES });
    // Its error is seen by its reader and by splitChunks (`errored`); one that comes after the
    // reader gave up (an upload already failed) must not become an uncaught exception.
    this.on('error', () => undefined);
    if (limit === 0) { this.completed = true; this.push(null); }
  }

  override _read(): void {
    if (this.pulling || this.completed) return;
    this.pulling = true;
    this.puller.next().then((b) => {
      this.pulling = false;
      if (this.destroyed) { if (b) this.puller.unshift(b); return; }
      if (b === null) { this.sawEnd = true; this.completed = true; this.push(null); return; }
      const room = this.limit - this.size;
      let piece = b;
      if (b.length > room) {
        piece = b.subarray(0, room);
        this.puller.unshift(b.subarray(room));
      }
      this.size += piece.length;
      const more = this.push(piece);
      if (this.size >= this.limit) { this.completed = true; this.push(null); return; }
      if (more) this._read();
    }, (e: unknown) => {
      this.pulling = false;
      this.destroy(e instanceof Error ? e : new Error(String(e)));
    });
  }
}

/**
 * Yields the metachunks of `source`, each at most `chunkSize` bytes; a 0-byte source still
 * yields one empty metachunk, and a source of exactly k*chunkSize bytes yields k. Each
 * metachunk must be consumed to its end (or destroyed, which ends the iteration with an
 * error) before the next one is requested. Rethrows the source's error.
 */
export async function* splitChunks(source: Readable, chunkSize: number): AsyncGenerator<Metachunk, void, undefined> {
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new OioError('BAD_REQUEST', `bad chunk size ${chunkSize}`);
  const puller = new Puller(source);
  let pos = 0;
  let offset = 0;
  for (;;) {
    if (pos > 0) {
      // Only start another metachunk if the source has more bytes.
      const b = await puller.next();
      if (b === null) return;
      puller.unshift(b);
    }
    const stream = new MetachunkStream(puller, chunkSize);
    const done = new Promise<void>((resolve) => {
      stream.once('end', resolve);
      stream.once('close', resolve);
    });
    yield { pos, offset, stream, get size() { return stream.size; } };
    await done;
    if (!stream.completed || stream.readableLength > 0 || !stream.readableEnded) {
      const err = stream.errored ?? new OioError('BAD_REQUEST', `metachunk ${pos} was not consumed to its end`);
      throw err;
    }
    offset += stream.size;
    pos++;
    if (stream.sawEnd) return;
  }
}
