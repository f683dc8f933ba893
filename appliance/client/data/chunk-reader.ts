/**
 * @module client/data/chunk-reader
 * Ranged read of a content from its metachunks with replica failover: only the metachunks
 * that overlap the range are fetched (ranged GETs), replicas are tried best get score first,
 * and after a failure (refused, 404, 5xx, error mid-stream) the read resumes at the SAME
 * byte offset on the next replica, so no byte is skipped or duplicated.
 */
import { Readable } from 'node:stream';
import { InvalidArgumentError, OioError, toOioError, UnavailableError } from '../../common';
import { type LocalVolumes, openChunk } from './chunk-open';

/** One metachunk as the reader needs it. */
export interface MetachunkReplicas {
  /** metachunk position (0, 1, ...): metachunks are laid out in pos order */
  pos: number | string;
  /** bytes of the metachunk */
  size: number;
  /** the replicas' chunk URLs, with their get score when known */
  replicas: { url: string; scoreGet?: number }[];
}

export interface ReadRangeOptions {
  reqId?: string;
  /** socket inactivity timeout per replica, ms */
  timeoutMs?: number;
  /** chunks of these rawx are read from their files (see chunk-open) */
  localVolumes?: LocalVolumes;
}

interface Piece { pos: string; from: number; to: number; replicas: string[] }

/**
 * A Readable of exactly the content bytes [start, end] (both inclusive, as HTTP Range;
 * `end < start` gives an empty stream). Throws BAD_REQUEST synchronously when the range lies
 * outside the content; the stream errors with UNAVAILABLE (naming the metachunk) when every
 * replica of a needed metachunk failed.
 */
export function readRange(metachunks: MetachunkReplicas[], start: number, end: number, opts: ReadRangeOptions = {}): Readable {
  const sorted = [...metachunks].sort((a, b) => Number(a.pos) - Number(b.pos));
  const total = sorted.reduce((n, m) => n + m.size, 0);
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || (end >= start && end >= total)) {
    throw new InvalidArgumentError('BAD_REQUEST', `range ${start}-${end} outside content of ${total} bytes`);
  }
  const pieces: Piece[] = [];
  let offset = 0;
  for (const m of sorted) {
    const mStart = offset;
    const mEnd = offset + m.size - 1;
    offset += m.size;
    if (m.size === 0 || mEnd < start || mStart > end) continue;
    const replicas = m.replicas
      .map((r, i) => ({ r, i }))
      .sort((a, b) => ((b.r.scoreGet ?? -1) - (a.r.scoreGet ?? -1)) || a.i - b.i)
      .map((x) => x.r.url);
    pieces.push({ pos: String(m.pos), from: Math.max(start, mStart) - mStart, to: Math.min(end, mEnd) - mStart, replicas });
  }
  return new RangeReader(pieces, opts);
}

class RangeReader extends Readable {
  private started = false;
  private current: Readable | undefined;
  private resumeCurrent: (() => void) | undefined;

  constructor(private readonly pieces: Piece[], private readonly opts: ReadRangeOptions) {
    super({ highWaterMark: 1024 * 1024 });
  }

  override _read(): void {
    if (!this.started) {
      this.started = true;
      this.run().then(() => { if (!this.destroyed) this.push(null); }, (e: unknown) => this.destroy(toOioError(e)));
      return;
    }
    const r = this.resumeCurrent;
    this.resumeCurrent = undefined;
    r?.();
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.current?.destroy();
    cb(err);
  }

  private async run(): Promise<void> {
    for (const p of this.pieces) {
      let off = p.from;
      const errors: string[] = [];
      for (const url of p.replicas) {
        if (off > p.to || this.destroyed) break;
        try {
          off = await this.copy(url, off, p.to);
        } catch (e) {
          if (e instanceof Progress) { off = e.offset; errors.push(`${url}: ${e.reason}`); }
          else errors.push(`${url}: ${toOioError(e).code}`);
        }
      }
      if (this.destroyed) return;
      if (off <= p.to) {
        throw new UnavailableError('UNAVAILABLE', `metachunk ${p.pos}: every replica failed at byte ${off} (${errors.join(', ') || 'no replica'})`, { details: { pos: p.pos, offset: off } });
      }
    }
  }

  /** Streams [from, to] of one replica into this stream; resolves with to + 1. */
  private async copy(url: string, from: number, to: number): Promise<number> {
    const g = await openChunk(url, { start: from, end: to, reqId: this.opts.reqId, timeoutMs: this.opts.timeoutMs, localVolumes: this.opts.localVolumes });
    const res = g.stream;
    if (g.start !== from || g.end > to) {
      res.destroy();
      throw new Progress(from, `answered bytes ${g.start}-${g.end} for ${from}-${to}`);
    }
    this.current = res;
    let off = from;
    try {
      await new Promise<void>((resolve, reject) => {
        res.on('data', (b: Buffer) => {
          if (off > to) return;
          const piece = off + b.length > to + 1 ? b.subarray(0, to + 1 - off) : b;
          off += piece.length;
          if (!this.push(piece)) {
            res.pause();
            this.resumeCurrent = () => res.resume();
          }
        });
        res.on('end', () => (off > to ? resolve() : reject(new Progress(off, `short body (${off - from} of ${to - from + 1} bytes)`))));
        res.on('error', (e) => reject(new Progress(off, toOioError(e).code)));
        res.on('close', () => { if (off <= to) reject(new Progress(off, 'connection closed mid-body')); else resolve(); });
      });
    } catch (e) {
      if (e instanceof Progress) e.offset = off;
      throw e;
    } finally {
      this.current = undefined;
      this.resumeCurrent = undefined;
    }
    return off;
  }
}

/** A replica failure carrying how far the copy got (the next replica resumes there). */
class Progress extends OioError {
  constructor(public offset: number, readonly reason: string) {
    super('UNAVAILABLE', reason);
  }
}
