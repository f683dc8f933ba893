/**
 * @module common/http/client
 * Calls between services: JSON requests over keep-alive HTTP, the request id header on every
 * call, and remote errors rebuilt as the same OioError class (OpenIO `from_response`).
 */
import http, { IncomingMessage } from 'node:http';
import { isErrorCode, makeError, OioError, toOioError, UnavailableError } from '../errors';
import { REQ_ID_HEADER, STATUS_PATH, localService, type LocalAnswer } from './server';

export const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64, keepAliveMsecs: 10_000 });

export interface CallOptions {
  method?: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  reqId?: string;
  timeoutMs?: number;
}

export function buildPath(path: string, query?: CallOptions['query']): string {
  if (!query) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** Splits "host:port" (or "http://host:port"). */
export function splitAddr(addr: string): { host: string; port: number } {
  const a = addr.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  const i = a.lastIndexOf(':');
  return { host: a.slice(0, i), port: Number(a.slice(i + 1)) };
}

export function readAll(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    res.on('data', (b: Buffer) => parts.push(b));
    res.on('end', () => resolve(Buffer.concat(parts)));
    res.on('error', reject);
  });
}

/** Rebuilds the error a service answered with (`{ code, message }`) or a generic one. */
export async function errorFromResponse(res: IncomingMessage, addr: string): Promise<OioError> {
  return errorFromBody(await readAll(res).catch(() => Buffer.alloc(0)), res.statusCode ?? 0, addr);
}

function errorFromBody(buf: Buffer, status: number, addr: string): OioError {
  try {
    const j = JSON.parse(buf.toString('utf8')) as { code?: unknown; message?: unknown; details?: Record<string, unknown> };
    if (isErrorCode(j.code)) return makeError(j.code, String(j.message ?? j.code), j.details ? { details: j.details } : {});
  } catch { /* not JSON */ }
  if (status === 404) return makeError('SERVICE_NOT_FOUND', `${addr}: 404`);
  if (status >= 500) return new UnavailableError('UNAVAILABLE', `${addr}: HTTP ${status}`);
  return makeError('BAD_REQUEST', `${addr}: HTTP ${status}`);
}

/** Sends a request and returns the raw response (status < 400), else throws the remote error. */
/** The headers (lower case) and the JSON body of a call, whether it goes over a socket or not. */
function outgoing(opts: CallOptions): { headers: Record<string, string>; payload?: Buffer } {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.headers ?? {})) headers[k.toLowerCase()] = v;
  if (opts.reqId) headers[REQ_ID_HEADER] = opts.reqId;
  if (opts.body === undefined) return { headers };
  const payload = Buffer.from(JSON.stringify(opts.body));
  headers['content-type'] = 'application/json';
  headers['content-length'] = String(payload.length);
  return { headers, payload };
}

function timeoutError(ms: number, addr: string, path: string): Error {
  return Object.assign(new Error(`timeout after ${ms} ms calling ${addr}${path}`), { code: 'ETIMEDOUT' });
}

export function request(addr: string, path: string, opts: CallOptions & { stream?: NodeJS.ReadableStream } = {}): Promise<IncomingMessage> {
  const { host, port } = splitAddr(addr);
  const { headers, payload } = outgoing(opts);
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, path: buildPath(path, opts.query), method: opts.method ?? 'GET', headers, agent }, (res) => {
      if ((res.statusCode ?? 500) >= 400) { errorFromResponse(res, addr).then(reject, reject); return; }
      resolve(res);
    });
    if (opts.timeoutMs) req.setTimeout(opts.timeoutMs, () => req.destroy(timeoutError(opts.timeoutMs!, addr, path)));
    req.on('error', (e) => reject(toOioError(e)));
    if (opts.stream) opts.stream.pipe(req);
    else req.end(payload);
  });
}

/**
 * A JSON call to a service of this process, served without a socket (`HttpService.serveLocal`):
 * the same bytes, errors and timeout as `request` over HTTP.
 */
async function localCall(addr: string, path: string, opts: CallOptions): Promise<LocalAnswer | undefined> {
  const svc = localService(addr.replace(/^https?:\/\//, ''));
  // A health check asks the socket, not the code behind it.
  if (!svc || path === STATUS_PATH) return undefined;
  const { headers, payload } = outgoing(opts);
  const answer = svc.serveLocal(opts.method ?? 'GET', buildPath(path, opts.query), headers, payload);
  let timer: NodeJS.Timeout | undefined;
  const res = await (opts.timeoutMs
    ? Promise.race([answer, new Promise<LocalAnswer>((_, reject) => {
      timer = setTimeout(() => reject(timeoutError(opts.timeoutMs!, addr, path)), opts.timeoutMs);
    })]).finally(() => clearTimeout(timer))
    : answer).catch((e: unknown) => { throw toOioError(e); });
  if (res.status >= 400) throw errorFromBody(res.body, res.status, addr);
  return res;
}

/**
 * A JSON call: resolves with the parsed body (undefined on 204). A replica answering
 * NOT_MASTER with the master's address is followed there (at most 3 redirections). A service
 * of this process is called without a socket.
 */
export async function callJson<T = unknown>(addr: string, path: string, opts: CallOptions = {}): Promise<T> {
  let status: number | undefined;
  let buf: Buffer;
  let target = addr;
  for (let hop = 0; ; hop++) {
    try {
      const o = { timeoutMs: 30_000, ...opts };
      const local = await localCall(target, path, o);
      if (local) ({ status, body: buf } = local);
      else {
        const res = await request(target, path, o);
        status = res.statusCode;
        buf = await readAll(res);
      }
      break;
    } catch (e) {
      const master = (e as OioError).code === 'NOT_MASTER' ? (e as OioError).details?.master : undefined;
      if (typeof master !== 'string' || master === target || hop >= 3) throw e;
      target = master;
    }
  }
  if (status === 204 || buf.length === 0) return undefined as T;
  return JSON.parse(buf.toString('utf8')) as T;
}
