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
import { createReadStream, promises as fsp, type ReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { chunkFilePath, readChunkMeta } from '../../common';
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
    const start = opts.start ?? 0;
    // A start beyond the end: the rawx's 416 answers it.
    if (start < 0 || (start >= size && (opts.start !== undefined || size > 0))) { await fh.close(); return undefined; }
    const end = Math.min(opts.end ?? size - 1, size - 1);
    if (end < start) { await fh.close(); return { stream: Readable.from([]), meta, start, end: start - 1, size }; }
    const stream = createReadStream('', { fd: fh, start, end, highWaterMark: LOCAL_READ_BYTES, autoClose: true });
    watchIdle(stream, opts.timeoutMs ?? RAWX_TIMEOUT_MS, `${volume}/${id}`);
    return { stream, meta, start, end, size };
  } catch (e) {
    await fh.close().catch(() => undefined);
    throw e;
  }
}

/**
 * Destroys `stream` (ETIMEDOUT) when no byte was read from the file for `ms`, as the socket
 * idle timeout does for a rawx (which also fires when the consumer stops reading): a hung disk
 * fails the read over to another replica.
 */
function watchIdle(stream: ReadStream, ms: number, what: string): void {
  if (ms <= 0) return;
  let seen = stream.bytesRead;
  let since = Date.now();
  const timer = setInterval(() => {
    if (stream.bytesRead !== seen) { seen = stream.bytesRead; since = Date.now(); return; }
    if (Date.now() - since >= ms) stream.destroy(Object.assign(new Error(`timeout after ${ms} ms reading ${what}`), { code: 'ETIMEDOUT' }));
  }, Math.max(10, Math.floor(ms / 4)));
  timer.unref();
  stream.once('close', () => clearInterval(timer));
}
