/**
 * @module common/http/server
 * The internal HTTP kit: a tiny route table (`METHOD /v1/<resource>/<verb>`, `:param`
 * segments), JSON bodies, the `{ code, message, reqId }` error form with the code's status,
 * one request id per request (header `x-oio-req-id`) and one access line per request.
 */
import http, { IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { AsyncResource } from 'node:async_hooks';
import { Readable } from 'node:stream';
import { InvalidArgumentError, OioError, toOioError } from '../errors';
import { randomHex } from '../naming';
import { Logger } from '../log';

export const REQ_ID_HEADER = 'x-oio-req-id';
/** The replica set of the base a request creates (sent by the proxy, read by sqliterepo). */
export const PEERS_HEADER = 'x-oio-peers';
/** Returned by a handler that wrote the response itself (streams). */
export const HANDLED = Symbol('handled');
/** The health-check route every HttpService answers. */
export const STATUS_PATH = '/v1/status';
const MAX_JSON_BODY = 16 * 1024 * 1024;

export interface RouteCtx {
  req: IncomingMessage;
  res: ServerResponse;
  query: URLSearchParams;
  params: Record<string, string>;
  reqId: string;
  log: Logger;
  /** Reads and parses the JSON body ({} when empty); BAD_REQUEST on malformed JSON. */
  json<T = Record<string, unknown>>(): Promise<T>;
}

export type Handler = (ctx: RouteCtx) => Promise<unknown> | unknown;

interface Route { method: string; template: string; parts: string[]; handler: Handler }

export function newReqId(): string {
  return randomHex(8);
}

/** Reads a whole request body into memory, refusing more than `limit` bytes. */
export function readBody(req: IncomingMessage, limit = MAX_JSON_BODY): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (b: Buffer) => {
      size += b.length;
      if (size > limit) { reject(new InvalidArgumentError('BAD_REQUEST', `body larger than ${limit} bytes`)); req.destroy(); return; }
      parts.push(b);
    });
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

/** An integer query parameter (undefined when absent or empty); BAD_REQUEST when not an integer. */
export function queryInt(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('BAD_REQUEST', `${name} must be an integer`);
  return n;
}

/** Listens on host:port (0: any free port); resolves with the bound port. */
export function listenServer(server: http.Server, port: number, host: string): Promise<number> {
  server.headersTimeout = 60_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown): number {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': data.length });
  res.end(data);
  return data.length;
}

export function sendError(res: ServerResponse, err: OioError, reqId: string): number {
  if (res.headersSent) { res.destroy(err); return 0; }
  return sendJson(res, err.status, { code: err.code, message: err.message, reqId, ...(err.details ? { details: err.details } : {}) });
}

/** The answer of a request served in this process without a socket (see `HttpService.serveLocal`). */
export interface LocalAnswer { status: number; body: Buffer }

/** The HttpServices listening in this process, by the "host:port" they listen on. */
const localServices = new Map<string, HttpService>();

/** The service of this process listening on `addr` ("host:port"), if any. */
export function localService(addr: string): HttpService | undefined {
  return localServices.size ? localServices.get(addr) : undefined;
}

/**
 * Records the status and body a handler writes, for a request served in this process (a JSON
 * call reads nothing else: headers are accepted and dropped).
 */
class LocalResponse {
  statusCode = 200;
  headersSent = false;
  private readonly parts: Buffer[] = [];
  constructor(private readonly done: (a: LocalAnswer) => void, private readonly fail: (e: Error) => void) {}
  setHeader(): this { return this; }
  writeHead(status: number): this {
    this.statusCode = status;
    this.headersSent = true;
    return this;
  }
  write(data: Buffer | string): boolean { this.headersSent = true; this.parts.push(Buffer.from(data)); return true; }
  end(data?: Buffer | string): this {
    if (data !== undefined) this.parts.push(Buffer.from(data));
    this.headersSent = true;
    this.done({ status: this.statusCode, body: Buffer.concat(this.parts) });
    return this;
  }
  /** What a socket closed mid-answer looks like to a remote caller. */
  destroy(): this { this.fail(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })); return this; }
}

export class HttpService {
  private readonly routes: Route[] = [];
  private server: http.Server | undefined;
  private localAddr: string | undefined;
  /** Runs a function in the async context of `listen` (none of a caller's request stores). */
  private rootScope: ((fn: () => void) => void) | undefined;
  readonly log: Logger;

  private readonly startedAt = Date.now();

  /**
   * @param opts.wrapHandler runs around every handler (a service on sqliterepo passes
   *   `durableWrites`, so no write is acknowledged before it is on disk)
   */
  constructor(log: Logger, private readonly opts: { accessLog?: boolean; wrapHandler?: <T>(run: () => Promise<T>, ctx: RouteCtx) => Promise<T> } = {}) {
    this.log = log;
    // Every service answers its health check here (agents poll it; logged at debug only).
    this.route('GET', STATUS_PATH, () => ({ status: 'ok', uptimeMs: Date.now() - this.startedAt }));
  }

  route(method: string, template: string, handler: Handler): this {
    this.routes.push({ method, template, parts: template.split('/'), handler });
    return this;
  }

  private match(method: string, path: string): { route: Route; params: Record<string, string> } | 'method' | undefined {
    const parts = path.split('/');
    let wrongMethod = false;
    for (const route of this.routes) {
      if (route.parts.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length; i++) {
        const t = route.parts[i]!;
        const p = parts[i]!;
        if (t.startsWith(':')) params[t.slice(1)] = decodeURIComponent(p);
        else if (t !== p) { ok = false; break; }
      }
      if (!ok) continue;
      if (route.method !== method && !(route.method === 'GET' && method === 'HEAD' && !this.routes.some((r) => r.method === 'HEAD' && r.template === route.template))) {
        wrongMethod = true;
        continue;
      }
      return { route, params };
    }
    return wrongMethod ? 'method' : undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const reqId = (req.headers[REQ_ID_HEADER] as string | undefined) ?? newReqId();
    const url = new URL(req.url ?? '/', 'http://x');
    const found = this.match(req.method ?? 'GET', url.pathname);
    let status = 200;
    let code: string | undefined;
    let bytes = 0;
    let template = url.pathname;
    try {
      if (found === undefined) throw new OioError('BAD_REQUEST', `no route ${req.method} ${url.pathname}`);
      if (found === 'method') throw new OioError('BAD_REQUEST', `method ${req.method} not allowed on ${url.pathname}`);
      template = found.route.template;
      // The body is read once: a handler run again (after an election) gets the same value.
      let body: Promise<unknown> | undefined;
      const ctx: RouteCtx = {
        req, res, query: url.searchParams, params: found.params, reqId, log: this.log.child({ reqId }),
        json: <T>() => {
          body ??= readBody(req).then((buf) => {
            if (buf.length === 0) return {};
            try { return JSON.parse(buf.toString('utf8')) as unknown; } catch { throw new InvalidArgumentError('BAD_REQUEST', 'malformed JSON body'); }
          });
          return body as Promise<T>;
        },
      };
      const handler = found.route.handler;
      const out = this.opts.wrapHandler ? await this.opts.wrapHandler(async () => handler(ctx), ctx) : await handler(ctx);
      if (out === HANDLED) { status = res.statusCode; }
      else if (out === undefined) { status = 204; res.writeHead(204); res.end(); }
      else { bytes = sendJson(res, 200, out); }
    } catch (e) {
      const err = toOioError(e);
      if (err.code === 'INTERNAL') this.log.error('internal error', { reqId, route: template, err: e instanceof Error ? e : String(e) });
      status = err.status;
      code = err.code;
      bytes = sendError(res, err, reqId);
      // A body we did not read would otherwise keep the socket busy.
      if (!req.complete) req.resume();
    }
    if (this.opts.accessLog !== false) {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      this.log.log(template === STATUS_PATH ? 'debug' : 'info', 'access', { method: req.method, route: template, status, code, bytes, durationMs: Math.round(durationMs * 100) / 100, reqId });
    }
  }

  /** Starts listening; resolves with the bound port (useful with port 0). */
  async listen(host: string, port: number): Promise<number> {
    const server = http.createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => { void this.handle(req, res); });
    this.server = server;
    const bound = await listenServer(server, port, host);
    this.rootScope = AsyncResource.bind((fn: () => void) => fn());
    this.localAddr = `${host}:${bound}`;
    localServices.set(this.localAddr, this);
    return bound;
  }

  /**
   * Serves a request from this process without a socket: the same routes, wrapper, errors and
   * access line as over HTTP, the body and answer as bytes (so no object is shared with the
   * caller). The handler runs in the context `listen` ran in, never in the caller's request.
   */
  serveLocal(method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<LocalAnswer> {
    return new Promise((resolve, reject) => {
      const req = Object.assign(Readable.from(body?.length ? [body] : [], { objectMode: false }), {
        method, url: path, headers, complete: true,
      }) as unknown as IncomingMessage;
      const res = new LocalResponse(resolve, reject) as unknown as ServerResponse;
      const run = this.rootScope ?? ((fn: () => void) => fn());
      // Never inside the caller's synchronous code: a handler starts on a later tick, as over HTTP.
      queueMicrotask(() => run(() => { this.handle(req, res).catch(reject); }));
    });
  }

  close(): Promise<void> {
    if (this.localAddr && localServices.get(this.localAddr) === this) localServices.delete(this.localAddr);
    this.localAddr = undefined;
    const server = this.server;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), 2000).unref();
    });
  }
}
