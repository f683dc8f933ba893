/**
 * @module services/rawx/backend
 * The chunk store of one volume (no HTTP types): chunks are files under a hashed folder tree
 * (`<volume>/data/<first 3 hex of id>/<id>`), each file holding the chunk's bytes, then its
 * metadata as JSON, then a fixed footer (4-byte big-endian JSON length + 4-byte magic), so a
 * chunk carries its reverse links and survives a crash without any side database.
 * A chunk is written under its final name, created exclusively (an existing chunk is never
 * replaced), hashed (MD5) while streamed, checked, fsynced, and its folder fsynced; until then
 * this store shows it to nobody, and a failed write removes it. (Written to a temp file and
 * linked into place, a chunk cost two more folder updates and file calls: a third of the
 * node's CPU in an untar of small files through FUSE.) A crash in the middle of a write
 * leaves a file without footer under a name no content references: a GET calls it corrupt,
 * the crawl listing skips it, and the sweep after the next start removes it (a volume closed
 * cleanly is marked so, and is not swept).
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp, ReadStream } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { chunkFilePath, ChunkMeta, ChunkPutMeta, ConflictError, encodeTrailer, FOOTER_BYTES, FOOTER_MAGIC, InvalidArgumentError, isChunkId, NotFoundError, OioError, readChunkMeta, readExactly, toOioError } from '../../common';

/** File times come from the kernel's coarse clock, up to a tick behind Date.now(). */
const FS_CLOCK_SLACK_MS = 50;
/** A file in the volume's root written when the store closes cleanly, removed when it opens. */
const CLEAN_MARK = 'closed-cleanly';
/**
 * A file in the volume's root holding a time (ms) before which every chunk write that started
 * has ended (footer written, or the file removed), rewritten every CHECKPOINT_MS while the store
 * runs: after a crash, only files modified since then can be unfinished.
 */
const CHECKPOINT = 'complete-before';
const CHECKPOINT_MS = 60_000;

/** Size of the write batches and read buffers: large, to keep per-call overhead negligible. */
export const IO_BLOCK = 1024 * 1024;
/** With fsync on, written data is flushed in the background every this many bytes. */
const SYNC_AHEAD_BYTES = 8 * 1024 * 1024;

export interface ChunkStoreOptions {
  /** the volume's root folder */
  volume: string;
  /** fsync chunk file and folder before a PUT answers (default true) */
  fsync?: boolean;
}

/** Expected hash and size of an upload; the hash may only be known at the end (HTTP trailer). */
export interface PutExpectations {
  /** uppercase/lowercase hex MD5, or a function called once the body ended */
  expectedHash?: string | (() => string | undefined);
  expectedSize?: number;
}

/** Counters served on GET /stat. */
export interface RawxStats {
  puts: number;
  gets: number;
  heads: number;
  deletes: number;
  bytesIn: number;
  bytesOut: number;
  putErrors: number;
}

/** An opened chunk: its metadata and a way to stream a byte range of its data. */
export interface OpenedChunk {
  meta: ChunkMeta;
  /** streams data bytes [start, end] (inclusive) and closes the file; call at most once */
  stream(start: number, end: number): ReadStream;
  /** closes the file when no stream is made */
  close(): Promise<void>;
}

export class ChunkStore {
  readonly volume: string;
  readonly dataDir: string;
  readonly tmpDir: string;
  private readonly fsync: boolean;
  private readonly knownDirs = new Set<string>();
  /** chunks being written: their files exist, incomplete; absent to GET, HEAD, DELETE and list */
  private readonly writing = new Set<string>();
  /** when each write in progress started (taken before its file is made), by write number */
  private readonly starts = new Map<number, number>();
  private writes = 0;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private checkpointing: Promise<void> | undefined;
  /** PUTs in progress (close waits for them: a stopped rawx leaves no partial chunk file) */
  private readonly puts = new Set<Promise<ChunkMeta>>();
  /** prefix folders being made: concurrent PUTs into one share its mkdir and folder fsync */
  private readonly makingDirs = new Map<string, Promise<void>>();
  /**
   * Open folders to fsync after a link or unlink (an open + close less per PUT), the most
   * recently used first out of the Map's order; at most DIR_HANDLES not in use stay open.
   */
  private readonly dirHandles = new Map<string, { fh: Promise<fsp.FileHandle>; users: number }>();
  readonly stats: RawxStats = { puts: 0, gets: 0, heads: 0, deletes: 0, bytesIn: 0, bytesOut: 0, putErrors: 0 };
  /** when init() ran: every file older is from an earlier run of the store */
  private startedAt = 0;
  /** true when the volume was not closed cleanly last time (a crash, or its first start) */
  needsSweep = false;
  private sweeping: Promise<number> | undefined;
  private stopSweep = false;

  constructor(opts: ChunkStoreOptions) {
    this.volume = path.resolve(opts.volume);
    this.dataDir = path.join(this.volume, 'data');
    this.tmpDir = path.join(this.volume, 'tmp');
    this.fsync = opts.fsync !== false;
  }

  /**
   * Creates the folders and removes temp files left by a crash (earlier versions wrote
   * chunks there first). A chunk's prefix folder (`data/XXX`) is made by the first PUT that
   * needs it (then `data/` is fsynced too). Made
   * all at once, a new volume's 4,096 cost seconds of CPU on a slow machine: 16 s per volume
   * on the image's first boot under TCG, where every service starts at the same time.
   */
  async init(): Promise<void> {
    await fsp.mkdir(this.dataDir, { recursive: true });
    await fsp.mkdir(this.tmpDir, { recursive: true });
    for (const name of await fsp.readdir(this.tmpDir)) {
      await fsp.rm(path.join(this.tmpDir, name), { force: true, recursive: true });
    }
    for (const d of await fsp.readdir(this.dataDir)) {
      if (/^[0-9A-F]{3}$/.test(d)) this.knownDirs.add(path.join(this.dataDir, d));
    }
    this.startedAt = Date.now();
    // The mark goes durably before any write: a crash from now on leaves the volume unmarked.
    try {
      await fsp.unlink(path.join(this.volume, CLEAN_MARK));
      if (this.fsync) await this.syncDir(this.volume);
      this.needsSweep = false;
    } catch {
      this.needsSweep = true;
    }
    this.checkpointTimer = setInterval(() => { this.checkpointing ??= this.writeCheckpoint().finally(() => { this.checkpointing = undefined; }); }, CHECKPOINT_MS);
    this.checkpointTimer.unref();
  }

  /**
   * Records durably that every write started before now (or before the oldest one still in
   * progress) has ended. Each value is later than the last: writes of this run start after
   * any earlier checkpoint.
   */
  async writeCheckpoint(): Promise<void> {
    const before = Math.min(Date.now(), ...this.starts.values());
    const file = path.join(this.volume, CHECKPOINT);
    const fh = await fsp.open(`${file}.tmp`, 'w');
    try {
      await fh.writeFile(`${before}\n`);
      if (this.fsync) await fh.sync();
    } finally { await fh.close(); }
    await fsp.rename(`${file}.tmp`, file);
    if (this.fsync) await this.syncDir(this.volume);
  }

  /** The last checkpoint (ms), or 0 when there is none. */
  private async checkpoint(): Promise<number> {
    const v = Number((await fsp.readFile(path.join(this.volume, CHECKPOINT), 'utf8').catch(() => '')).trim());
    return Number.isFinite(v) && v > 0 ? v : 0;
  }

  /**
   * Removes the chunk files a crash left unfinished (no footer), which no content references:
   * only files older than this run of the store (its own writes are newer), so a chunk being
   * written is never touched, and not older than the last checkpoint (those were complete), so
   * only the tails of recent files are read. Runs once, in the background after a start that
   * found the volume not closed cleanly; resolves with the number of files removed.
   */
  sweepUnfinished(): Promise<number> {
    this.sweeping ??= (async () => {
      let removed = 0;
      const since = (await this.checkpoint()) - FS_CLOCK_SLACK_MS;
      for (const d of await this.prefixDirs()) {
        const dir = path.join(this.dataDir, d);
        let names: string[];
        try { names = await fsp.readdir(dir); } catch { continue; }
        let here = 0;
        for (const id of names) {
          if (this.stopSweep) break;
          if (!isChunkId(id)) continue;
          const p = path.join(dir, id);
          if (await unfinishedBetween(p, since, this.startedAt - FS_CLOCK_SLACK_MS).catch(() => false)) {
            await fsp.unlink(p).then(() => { here++; }, () => undefined);
          }
        }
        if (here > 0 && this.fsync) await this.syncDir(dir);
        removed += here;
        if (this.stopSweep) break;
      }
      return removed;
    })();
    return this.sweeping;
  }

  /** The prefix folders of the volume (`data/XXX`), in order. */
  private async prefixDirs(): Promise<string[]> {
    return (await fsp.readdir(this.dataDir)).filter((d) => /^[0-9A-F]{3}$/.test(d)).sort();
  }

  /** Path of a chunk file; BAD_REQUEST unless `id` is a chunk id (path safety). */
  chunkPath(id: string): string {
    return chunkFilePath(this.volume, id);
  }

  /**
   * Stores a chunk from `source`, streamed to its file with MD5 computed on the fly.
   * Nothing is visible unless the whole body arrived and matched the expected hash and size.
   * Throws HASH_MISMATCH, BAD_REQUEST (truncated body, size mismatch), CHUNK_EXISTS (before any
   * byte of the body is read), NO_SPACE.
   */
  put(id: string, source: Readable, putMeta: ChunkPutMeta, expect: PutExpectations = {}): Promise<ChunkMeta> {
    const p = this.write(id, source, putMeta, expect);
    this.puts.add(p);
    const forget = (): void => { this.puts.delete(p); };
    p.then(forget, forget);
    return p;
  }

  private async write(id: string, source: Readable, putMeta: ChunkPutMeta, expect: PutExpectations): Promise<ChunkMeta> {
    const finalPath = this.chunkPath(id);
    const dir = path.dirname(finalPath);
    const hash = createHash('md5');
    let fh: fsp.FileHandle | undefined;
    let created = false;
    const n = ++this.writes;
    this.starts.set(n, Date.now());
    try {
      await this.ensureDir(dir);
      try {
        // O_EXCL: an existing chunk (or one being written) is never replaced.
        fh = await fsp.open(finalPath, 'wx');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new ConflictError('CHUNK_EXISTS', `chunk ${id} exists`);
        throw e;
      }
      created = true;
      this.writing.add(id);
      const { size, tail } = await receive(source, fh, hash, this.fsync ? SYNC_AHEAD_BYTES : 0);
      this.stats.bytesIn += size;
      const chunkHash = hash.digest('hex').toUpperCase();
      const expectedHash = typeof expect.expectedHash === 'function' ? expect.expectedHash() : expect.expectedHash;
      if (expectedHash && expectedHash.toUpperCase() !== chunkHash) {
        throw new OioError('HASH_MISMATCH', `chunk ${id}: expected MD5 ${expectedHash.toUpperCase()}, got ${chunkHash}`);
      }
      if (expect.expectedSize !== undefined && expect.expectedSize !== size) {
        throw new InvalidArgumentError('BAD_REQUEST', `chunk ${id}: expected ${expect.expectedSize} bytes, got ${size}`);
      }
      const meta: ChunkMeta = { ...putMeta, chunkId: id, chunkSize: size, chunkHash, mtime: Date.now() };
      // The last bytes of the body and the metadata in one write (all of a small chunk).
      await writeAll(fh, [...tail, encodeTrailer(meta)], size - tail.reduce((n, b) => n + b.length, 0));
      if (this.fsync) await fh.sync();
      await fh.close();
      fh = undefined;
      if (this.fsync) await this.syncDir(dir);
      this.stats.puts++;
      return meta;
    } catch (e) {
      this.stats.putErrors++;
      if (fh) await fh.close().catch(() => undefined);
      if (created) await fsp.unlink(finalPath).catch(() => undefined);
      throw toOioError(e);
    } finally {
      if (created) this.writing.delete(id);
      this.starts.delete(n);
    }
  }

  /** Opens a chunk and reads its metadata; CHUNK_NOT_FOUND if absent or unreadable. */
  async open(id: string): Promise<OpenedChunk> {
    const p = this.chunkPath(id);
    if (this.writing.has(id)) throw new NotFoundError('CHUNK_NOT_FOUND', `chunk ${id} not found`);
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(p, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError('CHUNK_NOT_FOUND', `chunk ${id} not found`);
      throw e;
    }
    let meta: ChunkMeta;
    try {
      meta = await readChunkMeta(fh, id);
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw e;
    }
    const handle = fh;
    return {
      meta,
      stream: (start, end) => createReadStream('', { fd: handle, start, end, highWaterMark: IO_BLOCK, autoClose: true }),
      close: () => handle.close(),
    };
  }

  /** Metadata of a chunk. */
  async head(id: string): Promise<ChunkMeta> {
    const c = await this.open(id);
    await c.close();
    return c.meta;
  }

  /** Removes a chunk (and fsyncs its folder); CHUNK_NOT_FOUND if absent. */
  async delete(id: string): Promise<void> {
    const p = this.chunkPath(id);
    if (this.writing.has(id)) throw new NotFoundError('CHUNK_NOT_FOUND', `chunk ${id} not found`);
    try {
      await fsp.unlink(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError('CHUNK_NOT_FOUND', `chunk ${id} not found`);
      throw e;
    }
    if (this.fsync) await this.syncDir(path.dirname(p));
    this.stats.deletes++;
  }

  /**
   * Lists chunks in id order after `marker` (exclusive), at most `limit`, with metadata:
   * the rebuild crawl. Files that are not chunks or cannot be read are skipped.
   */
  async list(marker: string, limit: number): Promise<{ chunks: { id: string; meta: ChunkMeta }[]; truncated: boolean; next_marker?: string }> {
    const dirs = await this.prefixDirs();
    const markerDir = marker.slice(0, 3);
    const out: { id: string; meta: ChunkMeta }[] = [];
    for (const d of dirs) {
      if (marker && d < markerDir) continue;
      let names: string[];
      try { names = await fsp.readdir(path.join(this.dataDir, d)); } catch { continue; }
      names = names.filter((n) => isChunkId(n) && n > marker && !this.writing.has(n)).sort();
      for (const id of names) {
        if (out.length >= limit) return { chunks: out, truncated: true, next_marker: out[out.length - 1]!.id };
        try { out.push({ id, meta: await this.head(id) }); } catch { /* vanished or corrupt: skipped */ }
      }
    }
    return { chunks: out, truncated: false };
  }

  /** fsyncs a folder of the volume (its entries are durable when this resolves). */
  private async syncDir(dir: string): Promise<void> {
    const entry = this.dirHandles.get(dir) ?? { fh: fsp.open(dir, 'r'), users: 0 };
    // re-inserted: the Map's order is the order of last use
    this.dirHandles.delete(dir);
    this.dirHandles.set(dir, entry);
    entry.users++;
    try {
      await (await entry.fh).sync();
    } catch (err) {
      if (this.dirHandles.get(dir) === entry) this.dirHandles.delete(dir);
      throw err;
    } finally {
      entry.users--;
      this.trimDirHandles();
    }
  }

  private trimDirHandles(): void {
    for (const [dir, e] of this.dirHandles) {
      if (this.dirHandles.size <= DIR_HANDLES) break;
      if (e.users > 0) continue;
      this.dirHandles.delete(dir);
      void e.fh.then((fh) => fh.close()).catch(() => undefined);
    }
  }

  /** Waits for the PUTs in progress to end, then closes the folders kept open (the service stopped). */
  async close(): Promise<void> {
    this.stopSweep = true;
    if (this.checkpointTimer) clearInterval(this.checkpointTimer);
    await Promise.allSettled([...this.puts, this.sweeping, this.checkpointing]);
    // Every PUT has ended (stored or removed): nothing unfinished is left, the volume is marked.
    if (this.startedAt > 0) {
      await fsp.writeFile(path.join(this.volume, CLEAN_MARK), `${new Date().toISOString()}\n`).catch(() => undefined);
      if (this.fsync) await this.syncDir(this.volume).catch(() => undefined);
    }
    const all = [...this.dirHandles.values()];
    this.dirHandles.clear();
    await Promise.allSettled(all.map((e) => e.fh.then((fh) => fh.close())));
  }

  /** Makes a prefix folder unless known; its entry is durable (parent fsynced) when this resolves. */
  private async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    let making = this.makingDirs.get(dir);
    if (!making) {
      making = (async () => {
        let created = false;
        try {
          await fsp.mkdir(dir);
          created = true;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
        if (created && this.fsync) await this.syncDir(this.dataDir);
        this.knownDirs.add(dir);
      })().finally(() => this.makingDirs.delete(dir));
      this.makingDirs.set(dir, making);
    }
    await making;
  }
}

/** Whether a chunk file older than `before` (ms) lacks the footer a finished write ends with. */
async function unfinishedBetween(p: string, since: number, before: number): Promise<boolean> {
  // A stat alone settles the files out of the window (most of them after a checkpoint).
  const mtime = (await fsp.stat(p)).mtimeMs;
  if (mtime < since || mtime >= before) return false;
  const fh = await fsp.open(p, 'r');
  try {
    const st = await fh.stat();
    if (st.mtimeMs >= before) return false;
    if (st.size < FOOTER_BYTES) return true;
    const magic = Buffer.allocUnsafe(4);
    await readExactly(fh, magic, st.size - 4);
    return magic.readUInt32BE(0) !== FOOTER_MAGIC;
  } finally {
    await fh.close();
  }
}

/** writev that loops on short writes. */
async function writeAll(fh: fsp.FileHandle, bufs: Buffer[], position: number): Promise<void> {
  let total = 0;
  for (const b of bufs) total += b.length;
  let { bytesWritten } = await fh.writev(bufs, position);
  while (bytesWritten < total) {
    // Rare short write: finish the remainder buffer by buffer.
    let skip = bytesWritten;
    const rest: Buffer[] = [];
    for (const b of bufs) {
      if (skip >= b.length) { skip -= b.length; continue; }
      rest.push(skip > 0 ? b.subarray(skip) : b);
      skip = 0;
    }
    const r = await fh.writev(rest, position + bytesWritten);
    if (r.bytesWritten === 0) throw new OioError('INTERNAL', 'write made no progress');
    bytesWritten += r.bytesWritten;
  }
}

/** Folders kept open for their fsyncs by one volume (see ChunkStore.dirHandles). */
const DIR_HANDLES = 64;

/**
 * Pumps `source` into the file: buffers are batched up to IO_BLOCK and written with one
 * writev while the next batch fills (one write in flight; the source is paused when the next
 * batch is full, so memory stays ~2 blocks). On a write error (ENOSPC) the rest of the body is
 * still drained, so the HTTP client can read the error answer. Resolves when the source ended
 * with the byte count and the last batch, not yet written (`size - tail bytes` are on disk);
 * rejects on a write error or if the source closed before its end.
 */
function receive(source: Readable, fh: fsp.FileHandle, hash: ReturnType<typeof createHash>, syncEvery: number): Promise<{ size: number; tail: Buffer[] }> {
  let syncing: Promise<void> | undefined;
  let unsynced = 0;
  // Flushes written data to the disk in the background while the body still arrives, so
  // the final fsync only has the tail left (the disk works while the network does).
  const syncAhead = (n: number): void => {
    if (syncEvery <= 0) return;
    unsynced += n;
    if (syncing || unsynced < syncEvery) return;
    unsynced = 0;
    syncing = fh.datasync().catch(() => undefined).finally(() => { syncing = undefined; });
  };
  const received = new Promise<{ size: number; tail: Buffer[] }>((resolve, reject) => {
    let batch: Buffer[] = [];
    let batchLen = 0;
    let pos = 0;
    let size = 0;
    let writing = false;
    let ended = false;
    let failed: unknown;
    let settled = false;

    const finish = (): void => {
      if (settled || writing) return;
      if (failed !== undefined) { settled = true; cleanup(); reject(failed); return; }
      if (ended) { settled = true; cleanup(); resolve({ size, tail: batch }); }
    };
    const flush = (): void => {
      if (writing || failed !== undefined) return;
      // The last batch is left to the caller, which writes it with the metadata.
      if (ended || batchLen < IO_BLOCK) return;
      const bufs = batch;
      const at = pos;
      pos += batchLen;
      batch = [];
      batchLen = 0;
      writing = true;
      writeAll(fh, bufs, at).then(() => {
        writing = false;
        syncAhead(bufs.reduce((n, b) => n + b.length, 0));
        if (source.isPaused() && !settled) source.resume();
        flush();
        finish();
      }, (e: unknown) => {
        writing = false;
        if (failed === undefined) failed = e;
        batch = [];
        batchLen = 0;
        // Keep draining (and discarding) so the client gets the answer.
        if (!ended) source.resume();
        finish();
      });
    };
    const onData = (buf: Buffer): void => {
      hash.update(buf);
      size += buf.length;
      if (failed !== undefined) return;
      batch.push(buf);
      batchLen += buf.length;
      if (batchLen >= IO_BLOCK) {
        if (writing) source.pause();
        else flush();
      }
    };
    const onEnd = (): void => { ended = true; finish(); };
    const onAbort = (e?: unknown): void => {
      if (ended) return;
      if (failed === undefined || !isNoSpace(failed)) {
        failed = new InvalidArgumentError('BAD_REQUEST', 'request body truncated (client went away)', { cause: e });
      }
      ended = true;
      batch = [];
      batchLen = 0;
      finish();
    };
    const onClose = (): void => onAbort();
    const cleanup = (): void => {
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onAbort);
      source.off('close', onClose);
    };
    source.on('data', onData);
    source.on('end', onEnd);
    source.on('error', onAbort);
    source.on('close', onClose);
    // The client may have gone away while the file was being opened.
    if (source.destroyed && !source.readableEnded) onAbort();
  });
  // Never leave a background flush running on a handle about to be closed.
  return received.finally(() => syncing);
}

function isNoSpace(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}
