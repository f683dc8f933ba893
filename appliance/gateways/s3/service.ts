/**
 * @module gateways/s3/service
 * The S3 gateway service (type `s3`, port `s3.port`, default 6007): an HTTP server that
 * authenticates each request (SigV4, or V2), maps its access key to an account, routes it to a
 * handler, and answers S3 XML errors with a RequestId. One access line per request (no
 * object names, no secrets). Built only on the client library.
 */
import http, { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import https from 'node:https';
import type { LocalVolumes } from '../../client/data';
import { ObjectStorage } from '../../client/object-storage';
import { Logger, OioError, ensureCertificate, isNotFound, listenServer, randomHex, type CertificateFiles } from '../../common';
import { authenticate, queryPairs, type AuthResult, UserLookup } from './auth';
import { GatewayState, S3Request, adoptBucket, bucketOwner, cachedBucketInfo, checkBucketName, checkStorageClasses, continueBody, expectsContinue } from './context';
import { isBrowserPost, postObject } from './post-object';
import { S3Error, errorXml, toS3Error } from './errors';
import { dispatch, hostBucketOf, targetOf } from './router';
import { CorsRule, corsPreflight, corsRequestHeaders, corsRulesOf } from './bucket';
import { LifecycleWorker } from './lifecycle';
import { loadMasterKey, masterKeyOf } from './sse';
import { LogDelivery, logLine, loggingOf } from './logging';

export interface S3ServiceOptions {
  host: string;
  /** 0: any free port */
  port: number;
  /** proxy host:port */
  proxy: string;
  /** the node's rawx whose chunks are read from their files (node.local_reads) */
  localVolumes?: LocalVolumes;
  /** region answered by GetBucketLocation (signatures of any region are accepted) */
  region?: string;
  /** domains of virtual-hosted style addressing: `<bucket>.<domain>` */
  domains?: string[];
  /** storage policy of each storage class (s3.storage_classes); others use the bucket's */
  storageClasses?: Record<string, string>;
  /**
   * S3 over HTTPS as well, in the same process (same handler: SigV4 signs the Host header the
   * client sent, so both ports verify alike); the pair is self-signed and made when absent.
   */
  tls?: CertificateFiles & { port: number };
  /** ms between passes of the lifecycle worker (s3.lifecycle_interval; 0: no worker) */
  lifecycleIntervalMs?: number;
  /** length of a lifecycle day in ms (s3.lifecycle_day; default 1 day) */
  lifecycleDayMs?: number;
  /** take SSE-C keys over plain HTTP too (s3.sse_c_over_http; S3 refuses them) */
  sseCOverHttp?: boolean;
  /** ms between deliveries of server access logs (s3.log_delivery_interval; default 5 min) */
  logDeliveryMs?: number;
  /** the SSE-S3 master key's file (s3.sse_key_file), made when absent if `sseKeyCreate` */
  sseKeyFile?: string;
  sseKeyCreate?: boolean;
}

/** What the gateway needs of the grid's election (structurally sqliterepo's Election). */
interface Election {
  acquire(type: string, name: string): Promise<{ master: string }>;
  close(): Promise<void>;
}

/** What the gateway needs from its host (structurally the runtime's ServiceContext). */
export interface S3StartContext {
  log: Logger;
  config?: { access_log?: boolean };
  /** the grid's election (one gateway runs the lifecycle worker); absent on a single node */
  election?(self: string): Election;
  /** a grid's shared secret (the SSE-S3 master key when no s3.sse_key_file is set); absent on a single node */
  sharedSecret?(name: string): Promise<Buffer>;
}

const USER_TTL_MS = 5000;

/** A request header as one string (repeated headers joined with commas). */
function headerOf(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/**
 * Stream buffering of the gateway's sockets (requests and responses): 1 MiB instead of Node's
 * 16 KiB, so an object relayed from rawx flows without a pause and resume of the rawx response
 * for every 64 KiB read (the gateway's CPU per large GET fell by about a quarter).
 */
const SOCKET_HIGH_WATER_MARK = 1024 * 1024;

/** The S3 gateway. */
export class S3Service {
  readonly type = 's3';
  private server: http.Server | undefined;
  private tlsServer: https.Server | undefined;
  private boundPort = 0;
  private boundTlsPort = 0;
  private log: Logger | undefined;
  private accessLog = true;
  private readonly base: ObjectStorage;
  private readonly users = new Map<string, { secret: string; account: string; expires: number }>();
  private gw: GatewayState | undefined;

  constructor(private readonly opts: S3ServiceOptions) {
    this.base = new ObjectStorage({ proxy: opts.proxy, account: 'default', localVolumes: opts.localVolumes });
  }

  get addr(): string { return `${this.opts.host}:${this.boundPort || this.opts.port}`; }
  /** host:port of S3 over HTTPS, when served */
  get tlsAddr(): string | undefined { return this.opts.tls ? `${this.opts.host}:${this.boundTlsPort || this.opts.tls.port}` : undefined; }

  private readonly lookup: UserLookup = async (accessKey) => {
    const hit = this.users.get(accessKey);
    if (hit && hit.expires > Date.now()) return hit;
    try {
      const u = await this.base.userShow(accessKey);
      const entry = { secret: u.secret_key ?? '', account: u.account, expires: Date.now() + USER_TTL_MS };
      if (this.users.size > 10_000) this.users.clear();
      this.users.set(accessKey, entry);
      return entry;
    } catch (e) {
      if (isNotFound(e) && (e as OioError).code === 'ACCOUNT_NOT_FOUND') throw new S3Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', { AWSAccessKeyId: accessKey });
      throw e;
    }
  };

  private accounts: { list: string[]; expires: number } | undefined;

  /**
   * The CORS rules of a bucket for an unsigned preflight: in the account owning the name, or
   * (a bucket made before the global names) the first account of the S3 users that has it,
   * through the gateway's bucket cache (which PutBucketCors and DeleteBucketCors clear).
   */
  private async bucketCors(bucket: string): Promise<CorsRule[] | undefined> {
    const owner = await bucketOwner(this.gw!, this.base, bucket);
    if (owner !== undefined) {
      const info = await cachedBucketInfo(this.gw!, this.base.forAccount(owner), bucket).catch((e: unknown) => { if (isNotFound(e)) return undefined; throw e; });
      if (info) return corsRulesOf(info.properties);
    }
    if (!this.accounts || this.accounts.expires < Date.now()) {
      this.accounts = { list: [...new Set((await this.base.userList()).map((u) => u.account))].sort(), expires: Date.now() + USER_TTL_MS };
    }
    for (const account of this.accounts.list) {
      const info = await cachedBucketInfo(this.gw!, this.base.forAccount(account), bucket).catch((e: unknown) => { if (isNotFound(e)) return undefined; throw e; });
      if (info) return corsRulesOf(info.properties);
    }
    throw new S3Error('AccessForbidden', 'CORSResponse: Bucket not found');
  }

  /** The CORS headers of a request with an Origin refused before it was authenticated (none when its bucket is unknown). */
  private async corsOfUnauthenticated(req: IncomingMessage, rawPath: string): Promise<Record<string, string>> {
    const origin = headerOf(req, 'origin');
    if (origin === undefined || req.method === 'OPTIONS') return {};
    try {
      const { bucket } = targetOf(rawPath, req.headers.host, this.opts.domains ?? []);
      if (bucket === undefined) return {};
      return corsRequestHeaders(await this.bucketCors(bucket), origin, headerOf(req, 'access-control-request-method') ?? req.method ?? 'GET');
    } catch {
      return {};
    }
  }

  async start(ctx: S3StartContext): Promise<void> {
    this.log = ctx.log.child({ svc: 's3' });
    this.accessLog = ctx.config?.access_log !== false;
    this.gw = {
      region: this.opts.region ?? 'us-east-1', log: this.log, bucketCache: new Map(), ownerCache: new Map(), storageClasses: checkStorageClasses(this.opts.storageClasses ?? {}),
      lifecycleDayMs: this.opts.lifecycleDayMs ?? 86_400_000, sseCOverHttp: this.opts.sseCOverHttp === true,
      sseMaster: this.opts.sseKeyFile ? await loadMasterKey(this.opts.sseKeyFile, this.opts.sseKeyCreate === true) : undefined,
    };
    if (!this.opts.sseKeyFile && ctx.sharedSecret) await this.fetchSharedMasterKey(ctx.sharedSecret);
    if (this.opts.sseKeyFile && !this.gw.sseMaster) this.log.warn('no SSE-S3 master key: AES256 encryption refused until s3.sse_key_file holds the grid\'s', { file: this.opts.sseKeyFile });
    const serverOptions = { keepAliveTimeout: 65_000, requestTimeout: 0, maxHeaderSize: 16 * 1024, highWaterMark: SOCKET_HIGH_WATER_MARK };
    const server = http.createServer(serverOptions, (req, res) => { void this.handle(req, res); });
    server.on('clientError', (e: NodeJS.ErrnoException, socket: Duplex) => this.clientError(e, socket));
    server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => { expectsContinue(req); void this.handle(req, res); });
    this.server = server;
    this.boundPort = await listenServer(server, this.opts.port, this.opts.host);
    if (this.opts.tls) {
      const pair = await ensureCertificate(this.opts.tls, this.opts.host, 'S3 HTTPS');
      const tlsServer = https.createServer({ ...serverOptions, ...pair, minVersion: 'TLSv1.2' }, (req, res) => { void this.handle(req, res); });
      tlsServer.on('tlsClientError', () => { /* scanners and clients that refuse the self-signed certificate */ });
      tlsServer.on('clientError', (e: NodeJS.ErrnoException, socket: Duplex) => this.clientError(e, socket));
      tlsServer.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => { expectsContinue(req); void this.handle(req, res); });
      this.tlsServer = tlsServer;
      this.boundTlsPort = await listenServer(tlsServer, this.opts.tls.port, this.opts.host);
    }
    this.delivery = new LogDelivery(this.base, this.log.child({ component: 'access-logging' }), this.opts.logDeliveryMs ?? 300_000, this.gw.region);
    this.delivery.start();
    if (this.opts.lifecycleIntervalMs) {
      // In a grid, the gateway holding the election's key runs the passes (another takes over
      // once its lease expires); a single node has no election and runs them.
      // The election (an etcd client) is made at the first pass, not at start.
      const leads = async () => {
        if (!ctx.election) return true;
        this.election ??= ctx.election(this.addr);
        return (await this.election.acquire('s3', 'lifecycle')).master === this.addr;
      };
      this.lifecycle = new LifecycleWorker(this.base, this.gw, this.log.child({ component: 'lifecycle' }), { intervalMs: this.opts.lifecycleIntervalMs, leads });
      this.lifecycle.start();
    }
    this.log.info('s3 gateway started', { addr: this.addr, https: this.tlsAddr, region: this.gw.region });
  }

  private secretTimer: NodeJS.Timeout | undefined;
  private delivery: LogDelivery | undefined;

  /**
   * The grid's SSE-S3 master key, from etcd (made there by the first gateway). While etcd cannot
   * be reached, AES256 requests are answered 503 and the key is asked for again every 5 s.
   */
  private async fetchSharedMasterKey(get: (name: string) => Promise<Buffer>): Promise<void> {
    const gw = this.gw!;
    gw.sseMasterPending = true;
    try {
      gw.sseMaster = masterKeyOf((await get('s3-sse-master')).toString('base64'));
      gw.sseMasterPending = false;
    } catch (e) {
      this.log?.warn('SSE-S3 master key not read from etcd yet', { err: e as Error });
      this.secretTimer = setTimeout(() => { void this.fetchSharedMasterKey(get); }, 5000).unref();
    }
  }

  private lifecycle: LifecycleWorker | undefined;
  private election: Election | undefined;

  /**
   * A request Node's HTTP parser refused before any handler saw it (headers over 16 KiB, a
   * malformed request line or header, headers too slow): an S3 error document, as for any
   * other refusal, instead of Node's bare 431/400, then the connection is closed.
   */
  private clientError(e: NodeJS.ErrnoException, socket: Duplex): void {
    if (e.code === 'ECONNRESET' || !socket.writable || (socket as Duplex & { _httpMessage?: unknown })._httpMessage) { socket.destroy(); return; }
    const err = e.code === 'HPE_HEADER_OVERFLOW'
      ? new S3Error('RequestHeaderSectionTooLarge', 'Your request header section exceeds the maximum allowed size.')
      : e.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new S3Error('RequestTimeout', 'Your socket connection to the server was not read from or written to within the timeout period.')
        : new S3Error('BadRequest', 'An error occurred when parsing the HTTP request.');
    const reqId = randomHex(8).toUpperCase();
    const body = Buffer.from(errorXml(err, '/', reqId));
    if (this.accessLog) this.log?.info('access', { method: '-', op: 'ClientError', status: err.status, code: err.s3Code, parser: e.code, reqId });
    socket.end(`HTTP/1.1 ${err.status} ${http.STATUS_CODES[err.status]}\r\ncontent-type: application/xml\r\ncontent-length: ${body.length}\r\nx-amz-request-id: ${reqId}\r\nserver: oio-s3\r\nconnection: close\r\n\r\n${body.toString('latin1')}`, 'latin1');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const reqId = randomHex(8).toUpperCase();
    const log = this.log!;
    res.setHeader('x-amz-request-id', reqId);
    res.setHeader('server', 'oio-s3');
    const url = req.url ?? '/';
    const qi = url.indexOf('?');
    const rawPath = qi < 0 ? url : url.slice(0, qi);
    const rawQuery = qi < 0 ? '' : url.slice(qi + 1);
    let r: S3Request | undefined;
    let status = 200;
    let code: string | undefined;
    try {
      if (req.method === 'GET' && rawPath === '/v1/status' && rawQuery === '') { // health check of the agent
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"status":"ok"}');
        return;
      }
      const target = targetOf(rawPath, req.headers.host, this.opts.domains ?? []);
      if (req.method === 'OPTIONS') {
        const preflight = { origin: headerOf(req, 'origin'), method: headerOf(req, 'access-control-request-method'), headers: headerOf(req, 'access-control-request-headers') };
        if (preflight.origin && preflight.method && target.bucket === undefined) throw new S3Error('AccessForbidden', 'CORSResponse: Bucket not found');
        const rules = preflight.origin && preflight.method ? await this.bucketCors(target.bucket!) : undefined;
        res.writeHead(200, { ...corsPreflight(rules, preflight), 'content-length': 0 });
        res.end();
        req.resume();
        return;
      }
      const query = new Map(queryPairs(rawQuery));
      // The request is bound to the account owning its bucket (global names; a name nobody
      // reserved is a bucket of the requester's own account, made before the bucket table).
      const request = async (auth: AuthResult): Promise<S3Request> => {
        const requester = auth.anonymous ? undefined : auth.account;
        const s: S3Request = {
          req, res, reqId, log: log.child({ reqId }), gw: this.gw!, auth, requester,
          storage: this.base.forAccount(requester ?? 'default', reqId),
          bucket: target.bucket, key: target.key, query, op: 'Unknown',
          header: (name) => headerOf(req, name),
        };
        r = s;
        if (target.bucket !== undefined) {
          checkBucketName(target.bucket);
          let owner = await bucketOwner(this.gw!, this.base, target.bucket);
          if (owner === undefined && requester !== undefined) owner = await adoptBucket(this.gw!, s.storage, target.bucket);
          owner ??= requester;
          if (owner === undefined) throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: target.bucket });
          if (owner !== requester) s.storage = this.base.forAccount(owner, reqId);
        }
        return s;
      };
      if (isBrowserPost(req, target.bucket, target.key, rawQuery)) {
        checkBucketName(target.bucket!);
        continueBody(req, res);
        r = await postObject(req, target.bucket!, this.lookup, request);
      } else {
        r = await request(await authenticate(req, rawPath, rawQuery, this.lookup, Date.now(), hostBucketOf(req.headers.host, this.opts.domains ?? [])));
        await dispatch(r);
      }
      status = res.statusCode;
    } catch (e) {
      const op = r?.op ?? 'Unknown';
      const { err, internal } = toS3Error(e);
      if (internal) log.error('internal error', { reqId, op, err: e instanceof Error ? e : String(e) });
      else if (err.status >= 500) log.warn('s3 request failed', { reqId, op, code: (e as { code?: string }).code, msg: (e as Error).message });
      status = err.status;
      code = err.s3Code;
      if (res.headersSent) { res.destroy(); }
      else {
        const body = req.method === 'HEAD' || err.status === 304 ? '' : errorXml(err, rawPath, reqId);
        // A request refused before routing (not authenticated) gets its CORS headers here.
        const cors = r === undefined ? await this.corsOfUnauthenticated(req, rawPath) : {};
        const headers: Record<string, string | number> = { ...cors, ...err.headers, 'content-length': Buffer.byteLength(body) };
        if (body) headers['content-type'] = 'application/xml';
        if (!req.complete) headers.connection = 'close';
        res.writeHead(err.status, headers);
        res.end(body);
      }
      if (!req.complete) req.resume();
    }
    const durationMs = Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100;
    if (this.accessLog) log.info('access', { method: req.method, op: r?.op ?? 'Unknown', status, code, durationMs, reqId });
    // Server access logging of the bucket (logging.ts), once the answer is sent.
    if (r?.bucket !== undefined && this.delivery) {
      const info = await cachedBucketInfo(this.gw!, r.storage, r.bucket).catch(() => undefined);
      const target = info && loggingOf(info.properties);
      if (target) this.delivery.add(r.storage.account, r.bucket, target, logLine(r, status, code, durationMs));
    }
  }

  async stop(): Promise<void> {
    if (this.secretTimer) clearTimeout(this.secretTimer);
    await this.lifecycle?.stop();
    this.lifecycle = undefined;
    await this.election?.close();
    this.election = undefined;
    const servers = [this.server, this.tlsServer].filter((x): x is http.Server => x !== undefined);
    this.server = undefined;
    this.tlsServer = undefined;
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), 2000).unref();
    })));
    // Access log lines still waiting go now.
    await this.delivery?.stop();
    this.delivery = undefined;
  }
}
