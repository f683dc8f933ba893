/**
 * @module client/remote/rawx
 * Stubs of the rawx routes (appliance/API.md); method names equal the handler names
 * (`rawxPut` <-> PUT /:chunkId). Chunk URLs are `http://host:port/<CHUNK_ID>`. All calls use
 * the shared keep-alive agent; remote errors come back as the same OioError class.
 */
import { createHash } from 'node:crypto';
import http, { ClientRequest, IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import {
  agent, CHUNK_HASH_HEADER, CHUNK_SIZE_HEADER, ChunkMeta, ChunkPutMeta, chunkMetaFromHeaders, chunkMetaToHeaders,
  errorFromResponse, InvalidArgumentError, OioError, readAll, REQ_ID_HEADER, toOioError,
} from '../../common';

/**
 * Default idle timeout of a rawx call (socket inactivity), ms: a rawx silent this long is
 * taken as dead (a paused node accepts connections but never answers).
 */
export const RAWX_TIMEOUT_MS = 10_000;

export interface RawxCallOptions {
  reqId?: string;
  /** socket inactivity timeout, ms (default RAWX_TIMEOUT_MS) */
  timeoutMs?: number;
}

export interface RawxPutOptions extends RawxCallOptions {
  /** MD5 (hex) of the body when known up front: sent as a header */
  expectedHash?: string;
  /** size of the body when known: content-length (with a known hash) or expected-size header */
  size?: number;
}

/** What rawx computed and stored. */
export interface RawxPutResult {
  /** uppercase hex MD5 */
  hash: string;
  size: number;
}

/** A PUT in progress whose body the caller writes (used by the replicated writer). */
export interface RawxUpload {
  readonly url: string;
  readonly request: ClientRequest;
  /** settles with the answer: 201 → result, else the remote (or socket) error */
  readonly result: Promise<RawxPutResult>;
  /** true once the result settled with an error, or abort() was called */
  readonly failed: boolean;
  /** ends the body, sending `hash` as the trailer when the hash was not given up front */
  end(hash?: string): void;
  /** destroys the request: rawx stores nothing */
  abort(err?: Error): void;
}

function target(url: string): { host: string; port: number; path: string } {
  let u: URL;
  try { u = new URL(url); } catch { throw new InvalidArgumentError('BAD_REQUEST', `bad chunk url "${url}"`); }
  return { host: u.hostname, port: Number(u.port || 80), path: u.pathname };
}

function applyTimeout(req: ClientRequest, url: string, timeoutMs: number | undefined): void {
  const ms = timeoutMs ?? RAWX_TIMEOUT_MS;
  if (ms > 0) {
    req.setTimeout(ms, () => req.destroy(Object.assign(new Error(`timeout after ${ms} ms on ${url}`), { code: 'ETIMEDOUT' })));
  }
}

/**
 * Opens a PUT of a chunk: the caller writes the body on `request` (honouring backpressure)
 * and calls `end(hash)`. With `size` and `expectedHash` the body goes with content-length,
 * else chunked with the hash as HTTP trailer and `size` (if known) as expected size header.
 */
export function rawxPutOpen(url: string, meta: ChunkPutMeta, opts: RawxPutOptions = {}): RawxUpload {
  const { host, port, path } = target(url);
  const headers: Record<string, string | number> = { ...chunkMetaToHeaders(meta), 'content-type': 'application/octet-stream' };
  if (opts.reqId) headers[REQ_ID_HEADER] = opts.reqId;
  const useTrailer = !opts.expectedHash;
  if (opts.expectedHash) headers[CHUNK_HASH_HEADER] = opts.expectedHash.toUpperCase();
  if (opts.size !== undefined) {
    if (useTrailer) headers[CHUNK_SIZE_HEADER] = opts.size;
    else headers['content-length'] = opts.size;
  }
  if (useTrailer) {
    headers['transfer-encoding'] = 'chunked';
    headers.trailer = CHUNK_HASH_HEADER;
  }
  const req = http.request({ host, port, path, method: 'PUT', headers, agent });
  applyTimeout(req, url, opts.timeoutMs);
  let failed = false;
  const result = new Promise<RawxPutResult>((resolve, reject) => {
    req.on('response', (res: IncomingMessage) => {
      if (res.statusCode !== 201) {
        failed = true;
        errorFromResponse(res, url).then(reject, reject);
        return;
      }
      res.resume();
      const m = chunkMetaFromHeaders(res.headers);
      resolve({ hash: String(m.chunkHash ?? ''), size: Number(m.chunkSize ?? -1) });
    });
    req.on('error', (e) => { failed = true; reject(toOioError(e)); });
  });
  result.catch(() => undefined);
  return {
    url,
    request: req,
    result,
    get failed() { return failed; },
    end(hash?: string) {
      if (useTrailer && hash) req.addTrailers({ [CHUNK_HASH_HEADER]: hash.toUpperCase() });
      req.end();
    },
    abort(err?: Error) {
      failed = true;
      req.destroy(err ?? new OioError('UNAVAILABLE', 'upload aborted'));
    },
  };
}

/**
 * Stores one chunk on the rawx of `url`. A Buffer is sent with content-length (its MD5
 * as header); a stream is sent chunked with the MD5 computed on the fly as trailer (or as
 * header when `expectedHash` is given). Throws HASH_MISMATCH, CHUNK_EXISTS, NO_SPACE,
 * UNAVAILABLE (unreachable), TIMEOUT.
 */
export async function rawxPut(url: string, body: Readable | Buffer, meta: ChunkPutMeta, opts: RawxPutOptions = {}): Promise<RawxPutResult> {
  if (Buffer.isBuffer(body)) {
    const hash = opts.expectedHash ?? createHash('md5').update(body).digest('hex');
    const up = rawxPutOpen(url, meta, { ...opts, expectedHash: hash, size: body.length });
    up.request.write(body);
    up.end();
    return up.result;
  }
  const up = rawxPutOpen(url, meta, opts);
  const md5 = createHash('md5');
  await new Promise<void>((resolve, reject) => {
    const onData = (b: Buffer): void => {
      md5.update(b);
      if (!up.request.write(b)) {
        body.pause();
        up.request.once('drain', () => body.resume());
      }
    };
    body.on('data', onData);
    body.once('end', () => { up.end(md5.digest('hex')); resolve(); });
    body.once('error', (e) => { up.abort(e); reject(toOioError(e)); });
    up.result.catch((e: unknown) => { body.off('data', onData); body.resume(); reject(e); });
  });
  return up.result;
}

/**
 * An opened ranged read: the body stream plus the chunk's metadata (the body is an HTTP
 * answer, or a local chunk file's bytes: see client/data/chunk-open).
 */
export interface RawxGetResult<S extends Readable = IncomingMessage> {
  stream: S;
  meta: Partial<ChunkMeta>;
  /** first byte returned (inclusive) */
  start: number;
  /** last byte returned (inclusive); start - 1 for an empty body */
  end: number;
  /** size of the whole chunk */
  size: number;
}

/**
 * Reads a chunk or a byte range of it (`start`/`end` inclusive, as HTTP Range; `end`
 * omitted: to the end). Throws CHUNK_NOT_FOUND, BAD_REQUEST (416: range not satisfiable),
 * UNAVAILABLE, TIMEOUT. The caller must consume or destroy `stream`.
 */
export function rawxGet(url: string, opts: RawxCallOptions & { start?: number; end?: number } = {}): Promise<RawxGetResult> {
  const { host, port, path } = target(url);
  const headers: Record<string, string> = {};
  if (opts.reqId) headers[REQ_ID_HEADER] = opts.reqId;
  const ranged = opts.start !== undefined || opts.end !== undefined;
  if (ranged) headers.range = `bytes=${opts.start ?? 0}-${opts.end ?? ''}`;
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, path, method: 'GET', headers, agent }, (res) => {
      const status = res.statusCode ?? 500;
      if (status >= 400) { errorFromResponse(res, url).then(reject, reject); return; }
      const meta = chunkMetaFromHeaders(res.headers);
      const size = Number(meta.chunkSize ?? res.headers['content-length'] ?? 0);
      let start = 0;
      let end = size - 1;
      const cr = /^bytes (\d+)-(\d+)\/\d+$/.exec(String(res.headers['content-range'] ?? ''));
      if (status === 206 && cr) { start = Number(cr[1]); end = Number(cr[2]); }
      // The idle timeout keeps guarding the body while it streams.
      resolve({ stream: res, meta, start, end, size });
    });
    applyTimeout(req, url, opts.timeoutMs);
    req.on('error', (e) => reject(toOioError(e)));
    req.end();
  });
}

/** Metadata of a chunk (HEAD). Throws CHUNK_NOT_FOUND, UNAVAILABLE. */
export function rawxHead(url: string, opts: RawxCallOptions = {}): Promise<Partial<ChunkMeta>> {
  const { host, port, path } = target(url);
  const headers: Record<string, string> = {};
  if (opts.reqId) headers[REQ_ID_HEADER] = opts.reqId;
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, path, method: 'HEAD', headers, agent }, (res) => {
      res.resume();
      if ((res.statusCode ?? 500) === 404) { reject(new OioError('CHUNK_NOT_FOUND', `${url}: chunk not found`)); return; }
      if ((res.statusCode ?? 500) >= 400) { reject(new OioError(res.statusCode! >= 500 ? 'UNAVAILABLE' : 'BAD_REQUEST', `${url}: HTTP ${res.statusCode}`)); return; }
      resolve(chunkMetaFromHeaders(res.headers));
    });
    applyTimeout(req, url, opts.timeoutMs);
    req.on('error', (e) => reject(toOioError(e)));
    req.end();
  });
}

/** Removes a chunk. Throws CHUNK_NOT_FOUND, UNAVAILABLE. */
export function rawxDelete(url: string, opts: RawxCallOptions = {}): Promise<void> {
  const { host, port, path } = target(url);
  const headers: Record<string, string> = {};
  if (opts.reqId) headers[REQ_ID_HEADER] = opts.reqId;
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, path, method: 'DELETE', headers, agent }, (res) => {
      if ((res.statusCode ?? 500) >= 400) { errorFromResponse(res, url).then(reject, reject); return; }
      readAll(res).then(() => resolve(), reject);
    });
    applyTimeout(req, url, opts.timeoutMs);
    req.on('error', (e) => reject(toOioError(e)));
    req.end();
  });
}

/** `{ id, type, addr, volume }` of the rawx at `addr` (host:port). */
export async function rawxInfo(addr: string, opts: RawxCallOptions = {}): Promise<{ id: string; type: 'rawx'; addr: string; volume: string }> {
  return getJson(addr, '/info', opts);
}

/** Counters of the rawx at `addr`. */
export async function rawxStat(addr: string, opts: RawxCallOptions = {}): Promise<Record<string, number>> {
  return getJson(addr, '/stat', opts);
}

/** One page of the chunk crawl of the rawx at `addr` (ids after `marker`, in order). */
export async function rawxList(addr: string, opts: RawxCallOptions & { marker?: string; limit?: number } = {}): Promise<{ chunks: { id: string; meta: ChunkMeta }[]; truncated: boolean; next_marker?: string }> {
  const q = new URLSearchParams();
  if (opts.marker) q.set('marker', opts.marker);
  if (opts.limit) q.set('limit', String(opts.limit));
  const qs = q.toString();
  return getJson(addr, `/v1/chunks${qs ? `?${qs}` : ''}`, opts);
}

async function getJson<T>(addr: string, path: string, opts: RawxCallOptions): Promise<T> {
  const url = `http://${addr.replace(/^https?:\/\//, '')}${path}`;
  const { host, port } = target(url);
  const headers: Record<string, string> = {};
  if (opts.reqId) headers[REQ_ID_HEADER] = opts.reqId;
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = http.request({ host, port, path, method: 'GET', headers, agent }, (r) => {
      if ((r.statusCode ?? 500) >= 400) { errorFromResponse(r, url).then(reject, reject); return; }
      resolve(r);
    });
    applyTimeout(req, url, opts.timeoutMs);
    req.on('error', (e) => reject(toOioError(e)));
    req.end();
  });
  return JSON.parse((await readAll(res)).toString('utf8')) as T;
}
