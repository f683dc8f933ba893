/**
 * @module test/e2e/s3/sigv4-client
 * A raw SigV4 HTTP client for the requests the SDKs will not send (malformed XML, truncated
 * bodies, signed aws-chunked bodies, presigned URLs). Built on the documented algorithm; the
 * gateway's own signer is checked against the AWS test vectors in the unit tests.
 */
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';

const sha256 = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
const hmac = (k: Buffer | string, s: string) => createHmac('sha256', k).update(s).digest();
const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export interface Creds { accessKey: string; secretKey: string; region?: string }

function keyOf(c: Creds, date: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${c.secretKey}`, date), c.region ?? 'us-east-1'), 's3'), 'aws4_request');
}

function amzNow(t = Date.now()): string {
  return new Date(t).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function canonicalQuery(q: Record<string, string>): string {
  return Object.keys(q).sort().map((k) => `${enc(k)}=${enc(q[k]!)}`).join('&');
}

/** A presigned GET/PUT URL (query authentication). */
export function presign(c: Creds, host: string, method: string, path: string, expires = 300, t = Date.now(), query: Record<string, string> = {}): string {
  const amzDate = amzNow(t);
  const date = amzDate.slice(0, 8);
  const scope = `${date}/${c.region ?? 'us-east-1'}/s3/aws4_request`;
  const q: Record<string, string> = {
    ...query, 'X-Amz-Algorithm': 'AWS4-HMAC-SHA256', 'X-Amz-Credential': `${c.accessKey}/${scope}`, 'X-Amz-Date': amzDate, 'X-Amz-Expires': String(expires), 'X-Amz-SignedHeaders': 'host',
  };
  const cpath = path.split('/').map((s) => enc(s)).join('/');
  const creq = `${method}\n${cpath}\n${canonicalQuery(q)}\nhost:${host}\n\nhost\nUNSIGNED-PAYLOAD`;
  const sts = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256(creq)}`;
  const sig = createHmac('sha256', keyOf(c, date)).update(sts).digest('hex');
  return `http://${host}${cpath}?${canonicalQuery(q)}&X-Amz-Signature=${sig}`;
}

export interface RawResponse { status: number; headers: http.IncomingHttpHeaders; body: string }

export interface RawRequest {
  method: string;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** the whole body (signed with its SHA-256) */
  body?: Buffer | string;
  /** time of the signature (clock skew tests) */
  time?: number;
  /** sign UNSIGNED-PAYLOAD instead of the body's SHA-256 */
  unsignedPayload?: boolean;
  /** destroy the connection after this many body bytes (truncated upload) */
  truncateAt?: number;
  /** Host header when it differs from the address connected to (virtual-hosted style) */
  hostHeader?: string;
}

/** Signs (header form, payload SHA-256) and sends a request. */
export function signedRequest(c: Creds, host: string, r: RawRequest): Promise<RawResponse> {
  const body = r.body === undefined ? Buffer.alloc(0) : Buffer.from(r.body);
  const amzDate = amzNow(r.time);
  const date = amzDate.slice(0, 8);
  const scope = `${date}/${c.region ?? 'us-east-1'}/s3/aws4_request`;
  const headers: Record<string, string> = { host: r.hostHeader ?? host, 'x-amz-date': amzDate, 'x-amz-content-sha256': r.unsignedPayload ? 'UNSIGNED-PAYLOAD' : sha256(body), ...(r.headers ?? {}) };
  headers['content-length'] = String(body.length);
  const names = Object.keys(headers).map((h) => h.toLowerCase()).sort();
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const cpath = r.path.split('/').map((s) => enc(s)).join('/');
  const cq = canonicalQuery(r.query ?? {});
  const creq = `${r.method}\n${cpath}\n${cq}\n${names.map((n) => `${n}:${lower[n]!.trim()}\n`).join('')}\n${names.join(';')}\n${lower['x-amz-content-sha256']}`;
  const sts = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256(creq)}`;
  const sig = createHmac('sha256', keyOf(c, date)).update(sts).digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${c.accessKey}/${scope}, SignedHeaders=${names.join(';')}, Signature=${sig}`;
  return send(host, r.method, `${cpath}${cq ? `?${cq}` : ''}`, headers, body, r.truncateAt);
}

/**
 * A PUT with a signed aws-chunked body (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), chunks of
 * `chunkSize` bytes; `corrupt` flips one byte of the data after signing.
 */
export function chunkedPut(c: Creds, host: string, path: string, data: Buffer, chunkSize: number, corrupt = false): Promise<RawResponse> {
  const amzDate = amzNow();
  const date = amzDate.slice(0, 8);
  const scope = `${date}/${c.region ?? 'us-east-1'}/s3/aws4_request`;
  const key = keyOf(c, date);
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunkSize) chunks.push(data.subarray(i, i + chunkSize));
  chunks.push(Buffer.alloc(0));
  const sigLen = 64;
  const encodedLength = chunks.reduce((n, ch) => n + ch.length.toString(16).length + ';chunk-signature='.length + sigLen + 2 + ch.length + 2, 0);
  const headers: Record<string, string> = {
    host, 'x-amz-date': amzDate, 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': String(data.length), 'content-length': String(encodedLength),
  };
  const names = Object.keys(headers).sort();
  const cpath = path.split('/').map((s) => enc(s)).join('/');
  const creq = `PUT\n${cpath}\n\n${names.map((n) => `${n}:${headers[n]}\n`).join('')}\n${names.join(';')}\nSTREAMING-AWS4-HMAC-SHA256-PAYLOAD`;
  let prev = createHmac('sha256', key).update(`AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256(creq)}`).digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${c.accessKey}/${scope}, SignedHeaders=${names.join(';')}, Signature=${prev}`;
  const parts: Buffer[] = [];
  for (const ch of chunks) {
    const sts = `AWS4-HMAC-SHA256-PAYLOAD\n${amzDate}\n${scope}\n${prev}\n${sha256('')}\n${sha256(ch)}`;
    prev = createHmac('sha256', key).update(sts).digest('hex');
    const copy = Buffer.from(ch);
    if (corrupt && copy.length > 0 && parts.length === 0) copy[0] = copy[0]! ^ 0xff;
    parts.push(Buffer.from(`${ch.length.toString(16)};chunk-signature=${prev}\r\n`), copy, Buffer.from('\r\n'));
  }
  return send(host, 'PUT', cpath, headers, Buffer.concat(parts));
}

/** Sends headers and a body; with `truncateAt`, the socket is destroyed after that many bytes. */
export function send(host: string, method: string, path: string, headers: Record<string, string>, body: Buffer, truncateAt?: number): Promise<RawResponse> {
  const [h, p] = host.split(':');
  return new Promise((resolve, reject) => {
    const req = http.request({ host: h, port: Number(p), method, path, headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (b: Buffer) => parts.push(b));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (truncateAt !== undefined) {
      req.write(body.subarray(0, truncateAt), () => setTimeout(() => { req.destroy(); resolve({ status: 0, headers: {}, body: '' }); }, 100));
      return;
    }
    req.end(body);
  });
}
