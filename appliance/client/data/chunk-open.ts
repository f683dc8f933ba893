/**
 * @module client/data/chunk-open
 * Opens a ranged read of one chunk for the readers. A chunk of a rawx on this host whose volume
 * the client was given (`LocalVolumes`: the node's own front ends, S3, bridges, console) is read
 * from its file, in the rawx's own format (common/chunk-file), as HDFS's short-circuit local
 * reads do: the bytes skip the rawx's socket writes and this process's socket reads (on a
 * 64 MiB GET through the S3 gateway, about half the node's CPU). Anything the file read cannot
 * settle (no such file, a chunk still being written, a corrupt footer, no permission, a range
 * beyond its end) goes to the rawx over HTTP, which answers it as always. Every other client
 * reads over HTTP.
 */
import { promises as fsp } from 'node:fs';
import { Readable } from 'node:stream';
import { chunkFilePath, OioError, readChunkMeta } from '../../common';
import { RAWX_TIMEOUT_MS, rawxGet, type RawxGetResult } from '../remote';

/** rawx address (`host:port`) → folder of the volume it serves, for the rawx of this host. */
export type LocalVolumes = ReadonlyMap<string, string>;

export interface OpenChunkOptions {
  start?: number;
  end?: number;
  reqId?: string;
  /** idle timeout, ms (default RAWX_TIMEOUT_MS): of the socket, or of a local file read */
  timeoutMs?: number;
  localVolumes?: LocalVolumes;
}

/** Size of the reads of a local chunk file (the rawx's own read size). */
const LOCAL_READ_BYTES = 1024 * 1024;

/**
 * A ranged read of the chunk at `url` (`start`/`end` inclusive, as HTTP Range): from the local
 * file when `url` names a rawx of `localVolumes` and the file settles it, else from the rawx.
 * Throws as rawxGet. The caller must consume or destroy `stream`.
 */
export async function openChunk(url: string, opts: OpenChunkOptions = {}): Promise<RawxGetResult<Readable>> {
  const local = opts.localVolumes?.size ? localFile(url, opts.localVolumes) : undefined;
  if (local) {
    const got = await openLocal(local.volume, local.id, opts).catch(() => undefined);
    if (got) return got;
  }
  return rawxGet(url, opts);
}

function localFile(url: string, volumes: LocalVolumes): { volume: string; id: string } | undefined {
  let u: URL;
  try { u = new URL(url); } catch { return undefined; }
  const volume = volumes.get(`${u.hostname}:${u.port || 80}`);
  return volume === undefined ? undefined : { volume, id: u.pathname.slice(1) };
}

/** The chunk's file read as the rawx would answer a GET of it, or undefined to ask the rawx. */
async function openLocal(volume: string, id: string, opts: OpenChunkOptions): Promise<RawxGetResult<Readable> | undefined> {
  const fh = await fsp.open(chunkFilePath(volume, id), 'r');
  try {
    const meta = await readChunkMeta(fh, id);
    const size = meta.chunkSize;
    // A start outside the chunk: the rawx's 416 answers it.
    if (opts.start !== undefined && (opts.start < 0 || opts.start >= size)) { await fh.close(); return undefined; }
    const start = opts.start ?? 0;
    const end = Math.min(opts.end ?? size - 1, size - 1);
    if (end < start) { await fh.close(); return { stream: Readable.from([]), meta, start, end: start - 1, size }; }
    const stream = new LocalChunkStream(fh, start, end, opts.timeoutMs ?? RAWX_TIMEOUT_MS, `${volume}/${id}`);
    return { stream, meta, start, end, size };
  } catch (e) {
    await fh.close().catch(() => undefined);
    throw e;
  }
}

/** What LocalChunkStream needs of an open file (a fs.promises FileHandle). */
export interface ChunkFileHandle {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  close(): Promise<void>;
}

/**
 * Bytes [start, end] of an open chunk file, read LOCAL_READ_BYTES at a time, closing the file
 * at the end. A read of the file that takes `timeoutMs` or more fails the stream (ETIMEDOUT), as
 * a rawx's socket timeout would: a hung disk fails the read over to another replica. Only the
 * file's reads are timed: a consumer that stops reading for a while (a slow client) does not
 * time out.
 */
export class LocalChunkStream extends Readable {
  private pos: number;

  constructor(private readonly fh: ChunkFileHandle, start: number, private readonly end: number, private readonly timeoutMs: number, private readonly what: string) {
    super({ highWaterMark: LOCAL_READ_BYTES });
    this.pos = start;
  }

  override _read(): void {
    const len = Math.min(LOCAL_READ_BYTES, this.end + 1 - this.pos);
    if (len <= 0) { this.push(null); return; }
    const buf = Buffer.allocUnsafe(len);
    const timer = this.timeoutMs > 0
      ? setTimeout(() => this.destroy(Object.assign(new Error(`timeout after ${this.timeoutMs} ms reading ${this.what}`), { code: 'ETIMEDOUT' })), this.timeoutMs)
      : undefined;
    this.fh.read(buf, 0, len, this.pos).then(({ bytesRead }) => {
      clearTimeout(timer);
      if (this.destroyed) return;
      if (bytesRead === 0) { this.destroy(new OioError('INTERNAL', `unexpected end of chunk file ${this.what}`)); return; }
      this.pos += bytesRead;
      this.push(bytesRead < len ? buf.subarray(0, bytesRead) : buf);
    }, (e: unknown) => { clearTimeout(timer); this.destroy(e as Error); });
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    // Closed in the background: the close of a file whose read hangs waits for that read.
    this.fh.close().catch(() => undefined);
    cb(err);
  }
}
