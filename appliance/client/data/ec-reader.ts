/**
 * @module client/data/ec-reader
 * Ranged read of erasure-coded metachunks. Only the metachunks overlapping the range are
 * read, and of those only the stripes (fragment byte ranges) holding the range. Data
 * fragments are fetched first, in parallel, one cell per stripe at a time; every cell's
 * CRC-32 is checked as it arrives and each fragment's stored MD5 (rawx header) is compared
 * with the one in meta2. When all needed data cells are healthy the bytes are copied out with
 * no decoding. A fragment that is absent, refused, slow (see `slowFragmentMs`), times out, is
 * short or corrupt is reported (log line, `onBadFragment`, diagnostics channel
 * `oio:ec:bad-fragment`) and dropped; other fragments (data, then parity) are opened at the
 * current stripe until k cells are in hand, and the missing cells are rebuilt off the event
 * loop. With fewer than k usable fragments the stream fails with UNAVAILABLE naming them.
 */
import diagnostics from 'node:diagnostics_channel';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { InvalidArgumentError, OioError, rootLogger, toOioError, UnavailableError } from '../../common';
import {
  CELL_TRAILER_BYTES, cellOffset, cellSize, codecFor, stripeBytes, stripeDataBytes, type EcParams,
} from '../ec';
import { type LocalVolumes, openChunk } from './chunk-open';

/** One fragment of a metachunk as meta2 lists it. */
export interface EcFragment {
  /** fragment index 0..k+m-1 (the part after the dot of `N.i`) */
  index: number;
  url: string;
  /** MD5 recorded at write time (uppercase hex) */
  hash?: string;
}

/** One erasure-coded metachunk. */
export interface EcMetachunk {
  pos: number;
  /** data bytes of the metachunk */
  size: number;
  fragments: EcFragment[];
}

/** A fragment found unusable during a read (for the future rebuilder). */
export interface BadFragment {
  /** `N.i` */
  pos: string;
  url: string;
  /** error code, or CORRUPT for a CRC / MD5 mismatch, ABSENT when meta2 lists none */
  reason: string;
  message: string;
}

export interface ReadEcOptions {
  reqId?: string;
  /** socket inactivity timeout per fragment, ms */
  timeoutMs?: number;
  /** called once per fragment found unusable */
  onBadFragment?: (bad: BadFragment) => void;
  /**
   * A fragment whose cell has not arrived this long after another fragment's cell of the
   * same stripe did is treated as slow and rebuilt from others (0: wait for the socket
   * timeout). Default DEFAULT_SLOW_FRAGMENT_MS.
   */
  slowFragmentMs?: number;
  /** fragments on these rawx are read from their files (see chunk-open) */
  localVolumes?: LocalVolumes;
}

/** Default of `ReadEcOptions.slowFragmentMs`, ms. */
export const DEFAULT_SLOW_FRAGMENT_MS = 5000;

const log = rootLogger.child({ component: 'client:ec-reader' });

/** Every bad fragment a read finds is also published here (a BadFragment), for repair agents. */
export const BAD_FRAGMENT_CHANNEL = 'oio:ec:bad-fragment';
const badFragmentChannel = diagnostics.channel(BAD_FRAGMENT_CHANNEL);

/** Groups a content's EC chunks (pos `N.i`) into metachunks. */
export function ecMetachunksOf(chunks: Array<{ url: string; pos: string; size: number; hash: string }>): EcMetachunk[] {
  const byPos = new Map<number, EcMetachunk>();
  for (const c of chunks) {
    const [n, i] = c.pos.split('.');
    const pos = Number(n);
    const index = Number(i);
    if (!Number.isInteger(pos) || !Number.isInteger(index)) continue;
    let mc = byPos.get(pos);
    if (!mc) byPos.set(pos, (mc = { pos, size: c.size, fragments: [] }));
    mc.fragments.push({ index, url: c.url, hash: c.hash });
  }
  return [...byPos.values()].sort((a, b) => a.pos - b.pos);
}

/** Reads cells sequentially from one ranged GET of a fragment. */
class CellStream {
  private res: Readable | undefined;
  private readonly parts: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private error: OioError | undefined;
  private wake: (() => void) | undefined;
  private opening: Promise<void> | undefined;
  private closed = false;

  constructor(readonly frag: EcFragment, private readonly highWater: number) {}

  /** Starts the ranged GET (its failure surfaces in `next`, so a hung rawx counts as slow). */
  start(from: number, to: number, opts: ReadEcOptions): void {
    this.opening = this.open(from, to, opts);
    this.opening.catch(() => undefined);
  }

  private async open(from: number, to: number, opts: ReadEcOptions): Promise<void> {
    const g = await openChunk(this.frag.url, { start: from, end: to, reqId: opts.reqId, timeoutMs: opts.timeoutMs, localVolumes: opts.localVolumes });
    this.res = g.stream;
    if (g.start !== from || g.end !== to) {
      g.stream.destroy();
      throw new OioError('HASH_MISMATCH', `answered bytes ${g.start}-${g.end} for ${from}-${to} (fragment of ${g.size} bytes)`);
    }
    if (this.frag.hash && g.meta.chunkHash && String(g.meta.chunkHash).toUpperCase() !== this.frag.hash.toUpperCase()) {
      g.stream.destroy();
      throw new OioError('HASH_MISMATCH', `stored MD5 ${g.meta.chunkHash}, ${this.frag.hash} recorded`);
    }
    const res = g.stream;
    if (this.closed) { res.destroy(); return; }
    res.on('data', (b: Buffer) => {
      this.parts.push(b);
      this.buffered += b.length;
      if (this.buffered >= this.highWater) res.pause();
      this.notify();
    });
    res.on('end', () => { this.ended = true; this.notify(); });
    res.on('error', (e) => { this.error ??= toOioError(e); this.notify(); });
    res.on('close', () => { if (!this.ended) this.error ??= new OioError('UNAVAILABLE', 'connection closed mid-body'); this.notify(); });
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** The next cell of `len` bytes, its CRC checked. */
  async next(len: number): Promise<Buffer> {
    const want = len + CELL_TRAILER_BYTES;
    await this.opening;
    while (this.buffered < want) {
      if (this.error) throw this.error;
      if (this.ended) throw new OioError('UNAVAILABLE', `short fragment body (${this.buffered} of ${want} bytes)`);
      this.res?.resume();
      await new Promise<void>((resolve) => { this.wake = resolve; });
    }
    const whole = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    this.parts.length = 0;
    const rest = whole.subarray(want);
    if (rest.length > 0) this.parts.push(rest);
    this.buffered = rest.length;
    if (this.buffered < this.highWater) this.res?.resume();
    const cell = whole.subarray(0, len);
    const crc = whole.readUInt32BE(len);
    if ((zlib.crc32(cell) >>> 0) !== crc) throw new OioError('HASH_MISMATCH', 'cell CRC-32 mismatch');
    return cell;
  }

  close(): void {
    this.closed = true;
    this.res?.destroy();
  }
}

/**
 * A Readable of exactly the content bytes [start, end] (inclusive) of the EC metachunks
 * `metachunks` (all of one content, chunk method `p`). Throws BAD_REQUEST synchronously for a
 * range outside the content; the stream errors with UNAVAILABLE naming the unusable
 * fragments when a stripe cannot be rebuilt.
 */
export function readEcRange(metachunks: EcMetachunk[], p: EcParams, start: number, end: number, opts: ReadEcOptions = {}): Readable {
  const sorted = [...metachunks].sort((a, b) => a.pos - b.pos);
  const total = sorted.reduce((n, mc) => n + mc.size, 0);
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || (end >= start && end >= total)) {
    throw new InvalidArgumentError('BAD_REQUEST', `range ${start}-${end} outside content of ${total} bytes`);
  }
  async function* gen(): AsyncGenerator<Buffer> {
    let offset = 0;
    for (const mc of sorted) {
      const mStart = offset;
      offset += mc.size;
      if (mc.size === 0 || offset - 1 < start || mStart > end) continue;
      yield* readMetachunk(mc, p, Math.max(start, mStart) - mStart, Math.min(end, offset - 1) - mStart, opts);
    }
  }
  return Readable.from(gen(), { objectMode: false, highWaterMark: 1024 * 1024 });
}

async function* readMetachunk(mc: EcMetachunk, p: EcParams, a: number, b: number, opts: ReadEcOptions): AsyncGenerator<Buffer> {
  const { k, m } = p;
  const G = stripeBytes(p);
  const s0 = Math.floor(a / G);
  const s1 = Math.floor(b / G);
  const lastCell = cellSize(p, mc.size, s1);
  const byIndex = new Map<number, EcFragment>();
  for (const f of mc.fragments) if (f.index >= 0 && f.index < k + m && !byIndex.has(f.index)) byIndex.set(f.index, f);

  // Data cells the range touches (one stripe: only those cells; several: all of them).
  const needed: number[] = [];
  if (s0 === s1) {
    const c = cellSize(p, mc.size, s0);
    for (let i = Math.floor((a - s0 * G) / c); i <= Math.floor((b - s0 * G) / c); i++) needed.push(i);
  } else for (let i = 0; i < k; i++) needed.push(i);

  const bad = new Map<number, string>();
  const active = new Map<number, CellStream>();
  const tried = new Set<number>();
  const highWater = 2 * (p.cell + CELL_TRAILER_BYTES);

  const markBad = (index: number, e: unknown): void => {
    const err = toOioError(e);
    const code = err.code === 'HASH_MISMATCH' ? 'CORRUPT' : err.code;
    const f = byIndex.get(index);
    const report: BadFragment = { pos: `${mc.pos}.${index}`, url: f?.url ?? '', reason: f ? code : 'ABSENT', message: f ? err.message : 'no such fragment in the content' };
    bad.set(index, `${report.pos}${f ? ` ${f.url}` : ''}: ${report.reason}${f ? ` (${err.message})` : ''}`);
    if (f) log.warn('bad EC fragment', { pos: report.pos, url: report.url, reason: report.reason, error: err.message, reqId: opts.reqId });
    if (badFragmentChannel.hasSubscribers) badFragmentChannel.publish(report);
    try { opts.onBadFragment?.(report); } catch { /* a reporting hook never breaks a read */ }
  };

  /** Starts reading fragment `index` at stripe `s` (to the end of the range); false when absent. */
  const openAt = (index: number, s: number): boolean => {
    tried.add(index);
    const f = byIndex.get(index);
    if (!f) { markBad(index, new OioError('CHUNK_NOT_FOUND', 'absent')); return false; }
    const cs = new CellStream(f, highWater);
    cs.start(cellOffset(p, s), cellOffset(p, s1) + lastCell + CELL_TRAILER_BYTES - 1, opts);
    active.set(index, cs);
    return true;
  };

  try {
    for (const i of needed) openAt(i, s0);
    for (let s = s0; s <= s1; s++) {
      const c = cellSize(p, mc.size, s);
      const cells = new Map<number, Buffer>();
      const readAll = async (streams: Array<[number, CellStream]>): Promise<void> => {
        const dropped = new Set<number>();
        const pending = new Set<number>(streams.map(([i]) => i));
        let firstCell!: () => void;
        const first = new Promise<void>((resolve) => { firstCell = resolve; });
        const all = Promise.all(streams.map(async ([i, cs]) => {
          try {
            const cell = await cs.next(c);
            if (!dropped.has(i)) cells.set(i, cell);
            firstCell();
          } catch (e) {
            if (!dropped.has(i)) { cs.close(); active.delete(i); markBad(i, e); }
          } finally {
            pending.delete(i);
          }
        }));
        const slowMs = opts.slowFragmentMs ?? DEFAULT_SLOW_FRAGMENT_MS;
        if (!(slowMs > 0) || streams.length < 2) { await all; return; }
        // A fragment whose cell is still missing `slowMs` after another one's arrived is slow:
        // it is dropped (and rebuilt from another fragment) when enough others remain.
        await Promise.race([first, all]);
        if (pending.size === 0) return;
        let timer: NodeJS.Timeout | undefined;
        const late = await Promise.race([all.then(() => false), new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), slowMs); })]);
        clearTimeout(timer);
        if (!late) return;
        const untried = k + m - tried.size;
        if (cells.size + untried < k) { await all; return; }
        for (const i of [...pending]) {
          dropped.add(i);
          active.get(i)?.close();
          active.delete(i);
          markBad(i, new OioError('TIMEOUT', `no cell ${slowMs} ms after the other fragments answered`));
        }
      };
      await readAll([...active.entries()]);
      const missing = needed.filter((i) => !cells.has(i));
      if (missing.length > 0) {
        // Rebuild: k cells of this stripe are needed; open more fragments, data first.
        while (cells.size < k) {
          const candidates: number[] = [];
          for (let i = 0; i < k + m && candidates.length < k - cells.size; i++) if (!tried.has(i)) candidates.push(i);
          if (candidates.length === 0) {
            const unusable = [...bad.keys()].sort((x, y) => x - y).map((i) => bad.get(i)!);
            throw new UnavailableError('UNAVAILABLE',
              `metachunk ${mc.pos}: ${bad.size} of ${k + m} fragments unusable, at most ${m} may be: ${unusable.join('; ')}`,
              { details: { pos: mc.pos, missing: [...bad.keys()].sort((x, y) => x - y).map((i) => `${mc.pos}.${i}`) } });
          }
          const opened = candidates.filter((i) => openAt(i, s));
          await readAll(opened.map((i) => [i, active.get(i)!] as [number, CellStream]));
        }
        const data = Buffer.alloc(k * c);
        const parity = Buffer.alloc(m * c);
        for (const [i, cell] of cells) cell.copy(i < k ? data : parity, (i < k ? i : i - k) * c);
        await codecFor(p.algo, k, m).reconstruct(k, m, c, data, parity, [...cells.keys()], missing);
        for (const i of missing) cells.set(i, data.subarray(i * c, (i + 1) * c));
      }
      // Copy out the range's bytes of this stripe.
      const from = Math.max(a, s * G) - s * G;
      const to = Math.min(b, s * G + stripeDataBytes(p, mc.size, s) - 1) - s * G;
      for (let i = Math.floor(from / c); i <= Math.floor(to / c); i++) {
        const cell = cells.get(i)!;
        const lo = Math.max(from, i * c) - i * c;
        const hi = Math.min(to, i * c + c - 1) - i * c;
        yield cell.subarray(lo, hi + 1);
      }
    }
  } finally {
    for (const cs of active.values()) cs.close();
  }
}
