/**
 * @module gateways/s3/sse
 * Server-side encryption. What is stored is encrypted with AES-256-CTR under a data key, with a
 * random IV per object or per part, so any byte range decrypts on its own. Checksums and
 * Content-MD5 are of the plaintext, checked before encryption; the ETag is the MD5 of what is
 * stored (S3's is not the plaintext's MD5 either). The data key is:
 * - SSE-C: the customer's, sent with each request (`x-amz-server-side-encryption-customer-*`),
 *   never kept: only an HMAC of it under a fixed label tells a wrong key (AccessDenied) from the
 *   right one. As in S3 the key is only taken over HTTPS (s3.tls_port), or over plain HTTP
 *   from this host (keySafe), unless `s3.sse_c_over_http` allows any plain-HTTP client.
 * - SSE-S3 (`x-amz-server-side-encryption: AES256`, or the bucket's default encryption): a
 *   random one per object (per upload), kept with it wrapped (AES-256-GCM) by the master key
 *   (a single node's file, made on its first start; a grid's secret in etcd; or
 *   s3.sse_key_file). The chunks on the data disks are then ciphertext.
 * - SSE-KMS (`aws:kms`, with `x-amz-server-side-encryption-aws-kms-key-id` or the bucket's
 *   default key id; `aws/s3` when none is named): the same, the data key wrapped under the key
 *   of that id in the gateway's built-in key service, derived from the master key. There is no
 *   external KMS: no key policies, grants or rotation; the id only selects the key, and is
 *   answered back. DSSE-KMS (`aws:kms:dsse`) is NotImplemented.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual, type Decipher } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import type { ContentInfo } from '../../common/model';
import { bucketJson, GatewayState, PROP, S3Request, bucketInfo } from './context';
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
 * Whether a customer key may come over this connection: over TLS; over plain HTTP from this
 * host (a loopback peer: the key never crossed a network, e.g. a TLS proxy on the node or a
 * local tool); from anywhere with `s3.sse_c_over_http`. S3 takes them over HTTPS only.
 */
export function keySafe(r: Pick<S3Request, 'req' | 'gw'>): boolean {
  const socket = r.req.socket as { encrypted?: boolean; remoteAddress?: string };
  if (socket.encrypted || r.gw.sseCOverHttp) return true;
  const peer = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  return peer === '::1' || /^127\.\d+\.\d+\.\d+$/.test(peer);
}

/**
 * The customer key of a request (`copySource`: the x-amz-copy-source-… headers), undefined
 * when it gives none. InvalidArgument, InvalidEncryptionAlgorithmError, InvalidRequest (over
 * plain HTTP from another host) as S3 answers them.
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
  if (!keySafe(r)) throw new S3Error('InvalidRequest', 'Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.');
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

/** Whether a stored object or upload record is encrypted with a data key of the gateway (SSE-S3). */
export const isSseS3 = (c: ContentInfo): boolean => c.properties[PROP.sse] !== undefined;

/** The response headers of a request with a customer key. */
const customerHeaders = (k: CustomerKey): Record<string, string> => ({ [HEADERS.algorithm]: 'AES256', [HEADERS.md5]: k.md5 });
const S3_HEADERS = { 'x-amz-server-side-encryption': 'AES256' };
const KMS_KEY_ID = 'x-amz-server-side-encryption-aws-kms-key-id';

/**
 * The key of an encrypted object, part or upload: the data key, the headers that answer about
 * it, and the properties that say how it is kept (its IV comes with `encrypted`).
 */
export interface DataKey { key: Buffer; headers: Record<string, string>; props: Record<string, string> }

const customerDataKey = (k: CustomerKey): DataKey => ({ key: k.key, headers: customerHeaders(k), props: { [PROP.sseC]: 'AES256', [PROP.sseKeyCheck]: keyCheck(k) } });

/** The gateway's master key (SSE-S3): the key and its id, kept with what it wrapped. */
export interface MasterKey { key: Buffer; id: string }

/**
 * The master key in `file`, made there (32 random bytes, base64, mode 0600, written durably)
 * when absent and `create`; undefined when absent otherwise. Losing it loses every SSE-S3 object.
 */
export async function loadMasterKey(file: string, create: boolean): Promise<MasterKey | undefined> {
  try { return masterKeyOf(await fsp.readFile(file, 'utf8')); } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || !create) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }
  await fsp.mkdir(path.dirname(file), { recursive: true });
  try {
    const fh = await fsp.open(file, 'wx', 0o600);
    try { await fh.writeFile(`${randomBytes(32).toString('base64')}\n`); await fh.sync(); } finally { await fh.close(); }
    const dir = await fsp.open(path.dirname(file), 'r');
    try { await dir.sync(); } finally { await dir.close(); }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  return masterKeyOf(await fsp.readFile(file, 'utf8'));
}

/** A master key from its file's text (base64 of 32 bytes). */
export function masterKeyOf(text: string): MasterKey {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) throw new Error('the SSE master key file must hold 32 bytes in base64');
  return { key, id: createHash('sha256').update(key).digest('hex').slice(0, 16) };
}

function masterOf(gw: GatewayState): MasterKey {
  if (!gw.sseMaster && gw.sseMasterPending) throw new S3Error('ServiceUnavailable', 'The grid\'s encryption key is not available yet; try again.');
  if (!gw.sseMaster) throw new S3Error('NotImplemented', 'server-side encryption with the gateway\'s keys needs the grid\'s master key (s3.sse_key_file)');
  return gw.sseMaster;
}

/**
 * The key that wraps data keys: the master key (SSE-S3), or for SSE-KMS the key of a key id of
 * the built-in key service, derived from the master key (HMAC-SHA256 of the id): each id has
 * its own key, and no key is ever stored.
 */
function wrappingKey(master: MasterKey, kmsKeyId: string | undefined): Buffer {
  return kmsKeyId === undefined ? master.key : createHmac('sha256', master.key).update(`oio-sse-kms\n${kmsKeyId}`).digest();
}

function wrap(master: MasterKey, dataKey: Buffer, kmsKeyId?: string): string {
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', wrappingKey(master, kmsKeyId), nonce);
  const sealed = Buffer.concat([c.update(dataKey), c.final()]);
  return Buffer.concat([nonce, sealed, c.getAuthTag()]).toString('base64');
}

function unwrap(gw: GatewayState, c: ContentInfo): Buffer {
  const master = gw.sseMaster;
  if (!master && gw.sseMasterPending) throw new S3Error('ServiceUnavailable', 'The grid\'s encryption key is not available yet; try again.');
  if (!master) throw new S3Error('InternalError', 'This object is encrypted with the grid\'s master key, which this gateway does not have (s3.sse_key_file).');
  if (c.properties[PROP.sseKeyId] !== master.id) throw new S3Error('InternalError', 'This object was encrypted under another master key than this gateway\'s (s3.sse_key_file).');
  const b = Buffer.from(c.properties[PROP.sseWrapped] ?? '', 'base64');
  if (b.length !== 12 + 32 + 16) throw new S3Error('InternalError', 'the encryption record of this object is damaged');
  const d = createDecipheriv('aes-256-gcm', wrappingKey(master, c.properties[PROP.sseKmsKey]), b.subarray(0, 12));
  d.setAuthTag(b.subarray(44));
  return Buffer.concat([d.update(b.subarray(12, 44)), d.final()]);
}

/** The key id of the built-in key service an SSE-KMS write names none of (AWS's is the account's aws/s3 key). */
const DEFAULT_KMS_KEY = 'aws/s3';

/** The headers that tell how an object is encrypted by the gateway (SSE-S3, or SSE-KMS with its key id). */
const gatewayHeaders = (kmsKeyId: string | undefined): Record<string, string> => (kmsKeyId === undefined
  ? { ...S3_HEADERS }
  : { 'x-amz-server-side-encryption': 'aws:kms', [KMS_KEY_ID]: kmsKeyId });

/**
 * A new data key of the gateway, wrapped by its master key (SSE-S3) or by the key of `kmsKeyId`
 * (SSE-KMS with the built-in key service).
 */
function newGatewayKey(gw: GatewayState, kmsKeyId?: string): DataKey {
  const master = masterOf(gw);
  const key = randomBytes(32);
  const props: Record<string, string> = { [PROP.sse]: kmsKeyId === undefined ? 'AES256' : 'aws:kms', [PROP.sseWrapped]: wrap(master, key, kmsKeyId), [PROP.sseKeyId]: master.id };
  if (kmsKeyId !== undefined) props[PROP.sseKmsKey] = kmsKeyId;
  return { key, headers: gatewayHeaders(kmsKeyId), props };
}

/** The algorithm a write asks for: AES256, aws:kms, or NotImplemented (DSSE-KMS) / InvalidArgument. */
function askedAlgorithm(v: string | undefined): 'AES256' | 'aws:kms' | undefined {
  if (v === undefined || v === 'AES256' || v === 'aws:kms') return v;
  if (v.startsWith('aws:kms')) throw new S3Error('NotImplemented', `server-side encryption with ${v} is not implemented (AES256 and aws:kms are)`);
  throw new S3Error('InvalidArgument', 'The encryption method specified is not supported', { ArgumentName: 'x-amz-server-side-encryption', ArgumentValue: v });
}

/**
 * A bucket's default encryption (PutBucketEncryption), or undefined. aws:kms:dsse is kept and
 * answered back, but the writes it would apply to are NotImplemented (writeKey).
 */
export interface BucketEncryption { algorithm: 'AES256' | 'aws:kms' | 'aws:kms:dsse'; kmsKeyId?: string; bucketKey?: boolean }
export function bucketEncryptionOf(properties: Record<string, string>): BucketEncryption | undefined {
  return bucketJson<BucketEncryption>(properties, 'encryption');
}

const incompatible = (): never => { throw new S3Error('InvalidArgument', 'Server Side Encryption with Customer provided key is incompatible with the encryption method specified', { ArgumentName: 'x-amz-server-side-encryption', ArgumentValue: 'AES256' }); };

/**
 * The encryption headers of a request, checked before anything else (router.ts), as S3 checks
 * them: a write may not name both a customer key and `x-amz-server-side-encryption`, nor a KMS
 * key id without aws:kms, nor an unknown algorithm (InvalidArgument, before SSE-KMS is found
 * NotImplemented); a read (GET, HEAD) names no `x-amz-server-side-encryption` (InvalidArgument:
 * an object's encryption with the gateway's keys is not chosen when reading it).
 */
export function checkEncryptionHeaders(r: S3Request, isWrite: boolean): void {
  const sse = r.header('x-amz-server-side-encryption');
  const kmsKeyId = r.header(KMS_KEY_ID);
  const hasCustomerKey = Object.values(HEADERS).some((h) => r.header(h) !== undefined);
  if (!isWrite) {
    if (sse !== undefined || kmsKeyId !== undefined) {
      throw new S3Error('InvalidArgument', 'x-amz-server-side-encryption header is not supported for this operation.', { ArgumentName: 'x-amz-server-side-encryption', ArgumentValue: sse ?? '' });
    }
    return;
  }
  if (sse !== undefined && hasCustomerKey) incompatible();
  if (sse !== undefined && sse !== 'AES256' && sse !== 'aws:kms' && sse !== 'aws:kms:dsse') {
    throw new S3Error('InvalidArgument', 'The encryption method specified is not supported', { ArgumentName: 'x-amz-server-side-encryption', ArgumentValue: sse });
  }
  if (kmsKeyId !== undefined && !sse?.startsWith('aws:kms')) {
    throw new S3Error('InvalidArgument', 'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms', { ArgumentName: KMS_KEY_ID, ArgumentValue: kmsKeyId });
  }
}

/**
 * The key a new object (or upload) of `bucket` is encrypted with: the request's customer key,
 * else a new key of the gateway when the request (`x-amz-server-side-encryption`, or `asked`
 * from a form) or the bucket's default encryption asks for AES256; undefined: stored as sent.
 */
export async function writeKey(r: S3Request, bucket: string, asked = r.header('x-amz-server-side-encryption')): Promise<DataKey | undefined> {
  const k = customerKey(r);
  const algorithm = askedAlgorithm(asked);
  if (k && algorithm) incompatible();
  if (k) return customerDataKey(k);
  if (algorithm === 'AES256') return newGatewayKey(r.gw);
  const byDefault = bucketEncryptionOf((await bucketInfo(r, bucket)).properties);
  if (algorithm === 'aws:kms') return newGatewayKey(r.gw, r.header(KMS_KEY_ID) ?? (byDefault?.algorithm === 'aws:kms' ? byDefault.kmsKeyId : undefined) ?? DEFAULT_KMS_KEY);
  if (byDefault?.algorithm === 'aws:kms:dsse') throw new S3Error('NotImplemented', `the bucket's default encryption (${byDefault.algorithm}) is not implemented: send x-amz-server-side-encryption: AES256 or aws:kms, or set one of them as the default`);
  if (byDefault?.algorithm === 'aws:kms') return newGatewayKey(r.gw, byDefault.kmsKeyId ?? DEFAULT_KMS_KEY);
  if (byDefault) return newGatewayKey(r.gw);
  return undefined;
}

/**
 * The key to read `c` (an object, a part's source) or to add a part to it (an upload's record):
 * a customer's must come with the request (keyFor), a gateway's is unwrapped; a customer key
 * given for anything else is InvalidRequest.
 */
export function readKey(r: S3Request, c: ContentInfo, copySource = false): DataKey | undefined {
  if (isSseS3(c)) {
    if (customerKey(r, copySource)) throw new S3Error('InvalidRequest', 'The encryption parameters are not applicable to this object.');
    return { key: unwrap(r.gw, c), headers: gatewayHeaders(c.properties[PROP.sseKmsKey]), props: {} };
  }
  const k = keyFor(r, c, copySource);
  return k ? customerDataKey(k) : undefined;
}

/**
 * The key a request must give to read or extend `c` (an object, an upload): InvalidRequest
 * without one, AccessDenied with another (InvalidRequest for an upload's part); a key given for something not encrypted is
 * InvalidRequest too. Undefined when `c` is not encrypted and none was given.
 */
function keyFor(r: S3Request, c: ContentInfo, copySource = false): CustomerKey | undefined {
  const k = customerKey(r, copySource);
  if (!isSseC(c)) {
    if (k) throw new S3Error('InvalidRequest', 'The encryption parameters are not applicable to this object.');
    return undefined;
  }
  if (!k) throw new S3Error('InvalidRequest', 'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.');
  const want = Buffer.from(c.properties[PROP.sseKeyCheck] ?? '', 'base64');
  const got = Buffer.from(keyCheck(k), 'base64');
  if (want.length !== got.length || !timingSafeEqual(want, got)) {
    // A part of an upload (its record) with another key than CreateMultipartUpload's: S3 answers 400.
    if (c.properties[PROP.uploadKey] !== undefined) throw new S3Error('InvalidRequest', 'The provided encryption parameters did not match the ones used originally.');
    throw new S3Error('AccessDenied', 'Access Denied: the provided key does not match the one the object was encrypted with.');
  }
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

  constructor(private readonly k: { key: Buffer }, c: ContentInfo, start: number) {
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

/** `body` encrypted with `k` (when given) and the properties that record how (the key's and the IV). */
export function encrypted<T extends Readable | Buffer>(k: DataKey | undefined, body: T): { data: T | Readable | Buffer; props: Record<string, string> } {
  if (!k) return { data: body, props: {} };
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-ctr', k.key, iv);
  const data = Buffer.isBuffer(body) ? Buffer.concat([cipher.update(body), cipher.final()]) : through(body as Readable, cipher);
  return { data, props: { ...k.props, [PROP.sseIv]: iv.toString('base64') } };
}

/** Whether what `c` holds is encrypted (either way). */
export const isEncrypted = (c: ContentInfo): boolean => isSseC(c) || isSseS3(c);
