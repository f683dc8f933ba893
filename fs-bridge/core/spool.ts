/**
 * @module fs-bridge/core/spool
 * The local copy of a file being written, before its commit. A small file stays in memory (no
 * spool file to create, write, read back, close and unlink: that was about an eighth of the
 * FUSE mount's CPU while untarring small files); it moves to a file in the spool folder when
 * it grows past `memMax` bytes or when the bridge's memory budget is spent. Bytes never
 * written read as zeros, as in a sparse file.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { OioError } from '../../appliance/common';

/** Memory shared by the spools of one bridge (bytes of buffer capacity). */
export interface SpoolBudget {
  used: number;
  readonly max: number;
}

export interface SpoolOptions {
  /** the spool folder */
  dir: string;
  /** file name in it, used once the spool moves to a file */
  name: string;
  budget: SpoolBudget;
  /** largest spool kept in memory */
  memMax: number;
}

export class Spool {
  /** memory mode: the buffer (its capacity is charged to the budget) and the bytes in use */
  private mem: Buffer | undefined = Buffer.alloc(0);
  private memLen = 0;
  private fh: fs.promises.FileHandle | undefined;
  private filePath: string | undefined;
  /**
   * The move to the file, while it runs: writes and truncates wait for it (a memory write is
   * synchronous, so none is in progress when it starts and none can be lost after its copy).
   */
  private moving: Promise<string> | undefined;
  /**
   * File writes and truncates not finished yet. Each runs on libuv's thread pool, so two in
   * flight at once may land in either order: one that overlaps an earlier one waits for it.
   */
  private readonly inflight = new Set<{ start: number; end: number; done: Promise<void> }>();

  private constructor(private readonly o: SpoolOptions) {}

  /** An empty spool (in memory). */
  static empty(o: SpoolOptions): Spool {
    return new Spool(o);
  }

  /** A spool holding what `source` streams (`size` bytes announced). */
  static async from(o: SpoolOptions, source: Readable, size: number): Promise<Spool> {
    const s = new Spool(o);
    try {
      if (!s.reserve(size)) await s.toFile();
      let n = 0;
      for await (const chunk of source) {
        const b = chunk as Buffer;
        await s.write(b, n);
        n += b.length;
      }
    } catch (e) {
      await s.close();
      throw e;
    }
    return s;
  }

  /** True while the bytes are in memory. */
  get inMemory(): boolean {
    return this.mem !== undefined;
  }

  /** Grows the memory buffer to hold `end` bytes; false (nothing changed) when too large or over budget. */
  private reserve(end: number): boolean {
    const mem = this.mem!;
    if (end <= mem.length) return true;
    if (end > this.o.memMax) return false;
    const cap = Math.min(this.o.memMax, Math.max(4096, 2 ** Math.ceil(Math.log2(end))));
    if (this.o.budget.used - mem.length + cap > this.o.budget.max) return false;
    const next = Buffer.allocUnsafe(cap);
    mem.copy(next, 0, 0, this.memLen);
    this.o.budget.used += cap - mem.length;
    this.mem = next;
    return true;
  }

  private release(): void {
    if (!this.mem) return;
    this.o.budget.used -= this.mem.length;
    this.mem = undefined;
  }

  /** Moves the bytes to the spool file (if not there yet); returns its path. */
  toFile(): Promise<string> {
    if (this.filePath) return Promise.resolve(this.filePath);
    this.moving ??= this.moveToFile().finally(() => { this.moving = undefined; });
    return this.moving;
  }

  private async moveToFile(): Promise<string> {
    const p = path.join(this.o.dir, this.o.name);
    const fh = await fs.promises.open(p, 'w+');
    try {
      if (this.memLen > 0) await writeFully(fh, this.mem!.subarray(0, this.memLen), 0);
    } catch (e) {
      await fh.close().catch(() => undefined);
      await fs.promises.unlink(p).catch(() => undefined);
      throw e;
    }
    this.fh = fh;
    this.filePath = p;
    this.release();
    return p;
  }

  /** Reads up to `len` bytes at `pos` into `buf`; returns how many (0 past the end). */
  async read(buf: Buffer, len: number, pos: number): Promise<number> {
    if (this.mem) {
      if (pos >= this.memLen) return 0;
      return this.mem.copy(buf, 0, pos, Math.min(this.memLen, pos + len));
    }
    const { bytesRead } = await this.fh!.read(buf, 0, len, pos);
    return bytesRead;
  }

  /** Writes all of `data` at `pos` (a gap before it reads as zeros). */
  async write(data: Buffer, pos: number): Promise<void> {
    const end = pos + data.length;
    if (this.moving) await this.moving;
    if (this.mem && this.reserve(end)) {
      if (pos > this.memLen) this.mem.fill(0, this.memLen, pos);
      data.copy(this.mem, pos);
      this.memLen = Math.max(this.memLen, end);
      return;
    }
    if (!this.fh) await this.toFile();
    await this.ordered(pos, end, () => writeFully(this.fh!, data, pos));
  }

  /** Runs a file operation on bytes [start, end) after the unfinished ones it overlaps. */
  private ordered(start: number, end: number, op: () => Promise<void>): Promise<void> {
    const before: Array<Promise<void>> = [];
    for (const p of this.inflight) if (p.start < end && start < p.end) before.push(p.done);
    const entry = { start, end, done: Promise.resolve() };
    entry.done = (before.length ? Promise.allSettled(before).then(op) : op())
      .finally(() => { this.inflight.delete(entry); });
    this.inflight.add(entry);
    return entry.done;
  }

  /** Sets the length to `size` (zeros when it grows). */
  async truncate(size: number): Promise<void> {
    if (this.moving) await this.moving;
    if (this.mem) {
      if (size <= this.memLen) { this.memLen = size; return; }
      if (this.reserve(size)) { this.mem.fill(0, this.memLen, size); this.memLen = size; return; }
      await this.toFile();
    }
    await this.ordered(size, Infinity, () => this.fh!.truncate(size));
  }

  /** A copy of the first `size` bytes (the upload of a small file: later writes do not change it). */
  async readAll(size: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(size);
    let off = 0;
    while (off < size) {
      const n = await this.read(buf.subarray(off), size - off, off);
      if (n === 0) {
        if (this.mem) { buf.fill(0, off); break; }
        throw new OioError('INTERNAL', `spool file shorter than ${size} bytes`);
      }
      off += n;
    }
    return buf;
  }

  /** Frees the memory, closes and deletes the file. */
  async close(): Promise<void> {
    await this.moving?.catch(() => undefined);
    await Promise.allSettled([...this.inflight].map((p) => p.done));
    this.release();
    const fh = this.fh;
    const p = this.filePath;
    this.fh = undefined;
    this.filePath = undefined;
    await fh?.close().catch(() => undefined);
    if (p) await fs.promises.unlink(p).catch(() => undefined);
  }
}

async function writeFully(fh: fs.promises.FileHandle, data: Buffer, pos: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done, pos + done);
    done += bytesWritten;
  }
}
