/**
 * @module gateways/s3/sse-c
 * Server-side encryption with customer-provided keys (SSE-C). The client sends an AES-256 key
 * with each request (`x-amz-server-side-encryption-customer-algorithm|-key|-key-MD5`); the
 * gateway encrypts what it stores with it (AES-256-CTR, a random IV per object or per part, so
 * any byte range decrypts on its own) and keeps no key: only the IV and an HMAC of the key under
 * a fixed label, to tell a wrong key (AccessDenied) from the right one. Reading needs the same
 * key. Checksums and Content-MD5 are of the plaintext, checked before encryption; the ETag is the
 * MD5 of what is stored (S3's is not the plaintext's MD5 either). As in S3, the key is only
 * taken over HTTPS (s3.tls_port), unless `s3.sse_c_over_http` allows it.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual, type Decipher } from 'node:crypto';
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import type { ContentInfo } from '../../common/model';
import { PROP, S3Request } from './context';
import { S3Error } from './errors';

/** A customer key given with a request. */
export interface CustomerKey { key: Buffer; md5: string }

const HEADERS = {
  algorithm: 'x-amz-server-side-encryption-customer-algorithm',
  key: 'x-amz-server-side-encryption-customer-key',
  md5: 'x-amz-server-side-encryption-customer-key-md5',
} as const;

const invalid = (message: string): never => { throw new S3Error('InvalidArgument', message); };

/**
 * The customer key of a request (`copySource`: the x-amz-copy-source-… headers), undefined
 * when it gives none. InvalidArgument, InvalidEncryptionAlgorithmError, InvalidRequest (over
 * plain HTTP) as S3 answers them.
 */
export function customerKey(r: S3Request, copySource = false): CustomerKey | undefined {
  // x-amz-copy-source-server-side-encryption-customer-… for the source of a copy
  const h = (name: string) => r.header(copySource ? name.replace(/^x-amz-/, 'x-amz-copy-source-') : name);
  const algorithm = h(HEADERS.algorithm);
  const key = h(HEADERS.key);
  const md5 = h(HEADERS.md5);
  if (algorithm === undefined && key === undefined && md5 === undefined) return undefined;
  if (algorithm === undefined) invalid('Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.');
  if (algorithm !== 'AES256') throw new S3Error('InvalidEncryptionAlgorithmError', 'The encryption request you specified is not valid. The valid value is AES256.');
  if (!(r.req.socket as { encrypted?: boolean }).encrypted && !r.gw.sseCOverHttp) {
    throw new S3Error('InvalidRequest', 'Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.');
  }
  if (key === undefined) invalid('Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.');
  const raw = Buffer.from(key!, 'base64');
  if (raw.length !== 32 || raw.toString('base64') !== key!.trim()) invalid('The secret key was invalid for the specified algorithm.');
  if (md5 === undefined) invalid('Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.');
  if (createHash('md5').update(raw).digest('base64') !== md5!.trim()) invalid('The calculated MD5 hash of the key did not match the hash that was provided.');
  return { key: raw, md5: md5!.trim() };
}

/** What tells the right key from a wrong one, kept with the object (never the key or its MD5). */
const keyCheck = (k: CustomerKey): string => createHmac('sha256', k.key).update('oio-sse-c key check').digest('base64');

/** Whether a stored object or upload record is encrypted with a customer key. */
export const isSseC = (c: ContentInfo): boolean => c.properties[PROP.sseC] !== undefined;

/** The properties of something encrypted with `k` (an object, a part, an upload's record). */
export function sseProps(k: CustomerKey, iv?: Buffer): Record<string, string> {
  return { [PROP.sseC]: 'AES256', [PROP.sseKeyCheck]: keyCheck(k), ...(iv ? { [PROP.sseIv]: iv.toString('base64') } : {}) };
}

/** The response headers of a request with a customer key. */
export const sseHeaders = (k: CustomerKey): Record<string, string> => ({ [HEADERS.algorithm]: 'AES256', [HEADERS.md5]: k.md5 });

/**
 * The key a request must give to read or extend `c` (an object, an upload): InvalidRequest
 * without one, AccessDenied with another; a key given for something not encrypted is
 * InvalidRequest too. Undefined when `c` is not encrypted and none was given.
 */
export function keyFor(r: S3Request, c: ContentInfo, copySource = false): CustomerKey | undefined {
  const k = customerKey(r, copySource);
  if (!isSseC(c)) {
    if (k) throw new S3Error('InvalidRequest', 'The encryption parameters are not applicable to this object.');
    return undefined;
  }
  if (!k) throw new S3Error('InvalidRequest', 'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.');
  const want = Buffer.from(c.properties[PROP.sseKeyCheck] ?? '', 'base64');
  const got = Buffer.from(keyCheck(k), 'base64');
  if (want.length !== got.length || !timingSafeEqual(want, got)) throw new S3Error('AccessDenied', 'Access Denied: the provided key does not match the one the object was encrypted with.');
  return k;
}

/** The CTR counter block `blocks` blocks after `iv` (128-bit big-endian addition). */
function counterAt(iv: Buffer, blocks: number): Buffer {
  const out = Buffer.from(iv);
  let carry = BigInt(blocks);
  for (let i = 15; i >= 0 && carry > 0n; i--) {
    const sum = BigInt(out[i]!) + (carry & 0xffn);
    out[i] = Number(sum & 0xffn);
    carry = (carry >> 8n) + (sum >> 8n);
  }
  return out;
}

/** A decipher positioned at byte `offset` of a segment encrypted from byte 0 with `iv`. */
function decipherAt(key: Buffer, iv: Buffer, offset: number): Decipher {
  const d = createDecipheriv('aes-256-ctr', key, counterAt(iv, Math.floor(offset / 16)));
  const skip = offset % 16;
  if (skip) d.update(Buffer.alloc(skip));
  return d;
}

/**
 * The segments an object was encrypted in, each from byte 0 with its own IV: the whole object,
 * or each part of a multipart one.
 */
export function segmentsOf(c: ContentInfo): Array<{ start: number; size: number; iv: Buffer }> {
  const ivs = (c.properties[PROP.sseIvs] ?? c.properties[PROP.sseIv] ?? '').split(',').filter(Boolean).map((v) => Buffer.from(v, 'base64'));
  const sizes = c.properties[PROP.sseIvs] !== undefined ? (c.properties[PROP.partSizes] ?? '').split(',').map(Number) : [c.size];
  if (ivs.length !== sizes.length || ivs.some((iv) => iv.length !== 16)) throw new S3Error('InternalError', 'the encryption record of this object is damaged');
  let start = 0;
  return sizes.map((size, i) => { const s = { start, size, iv: ivs[i]! }; start += size; return s; });
}

/** Decrypts the bytes of `c` from `start` on (a range's stream), across its segments. */
export class Decryptor extends Transform {
  private pos: number;
  private seg = -1;
  private d: Decipher | undefined;
  private readonly segments: Array<{ start: number; size: number; iv: Buffer }>;

  constructor(private readonly k: CustomerKey, c: ContentInfo, start: number) {
    super();
    this.segments = segmentsOf(c);
    this.pos = start;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      let i = 0;
      while (i < chunk.length) {
        const s = this.segments.findIndex((x) => this.pos >= x.start && this.pos < x.start + x.size);
        if (s < 0) throw new Error('decryption past the object\'s end');
        const seg = this.segments[s]!;
        if (s !== this.seg || !this.d) { this.seg = s; this.d = decipherAt(this.k.key, seg.iv, this.pos - seg.start); }
        const n = Math.min(chunk.length - i, seg.start + seg.size - this.pos);
        this.push(this.d.update(chunk.subarray(i, i + n)));
        this.pos += n;
        i += n;
      }
      cb();
    } catch (e) { cb(e as Error); }
  }
}

/** `src` through `t`, the error or early end of either destroying both (a failed upload stores nothing). */
export function through(src: Readable, t: Transform): Transform {
  pipeline(src, t, () => undefined);
  return t;
}

/** `body` encrypted with `k` (when given) and the properties that record it. */
export function encrypted<T extends Readable | Buffer>(k: CustomerKey | undefined, body: T): { data: T | Readable | Buffer; props: Record<string, string> } {
  if (!k) return { data: body, props: {} };
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-ctr', k.key, iv);
  const data = Buffer.isBuffer(body) ? Buffer.concat([cipher.update(body), cipher.final()]) : through(body as Readable, cipher);
  return { data, props: sseProps(k, iv) };
}
