/**
 * @module gateways/s3/post-object
 * Browser-based uploads (POST Object, SigV4 or V2): an HTML form posts `multipart/form-data`
 * to the bucket's URL. The fields before the file carry the key, the metadata and a signed
 * policy (`policy` = base64 JSON signed with the user's SigV4 signing key, or V2's
 * `signature` = HMAC-SHA1 of it with `AWSAccessKeyId`, auth-v2.ts); the file is
 * streamed into the grid as it arrives, never held in memory, and nothing is stored unless
 * the policy holds (expiration, every field covered by a condition, `content-length-range`).
 * A form without signature fields is anonymous: the bucket takes it when its ACL grants WRITE
 * to AllUsers (public-read-write) or its policy allows it (access.ts). The form's `acl` field
 * is a canned ACL of the new object.
 */
import type { IncomingMessage } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { isNotFound, OioError } from '../../common';
import type { ContentInfo } from '../../common/model';
import { ALGORITHM, anonymousAuth, deriveSigningKey, parseAmzDate, sameSignature, signHex, type AuthResult, type UserLookup } from './auth';
import { verifyPostPolicyV2 } from './auth-v2';
import { CHECKSUM_ALGORITHMS, checksummer, type Checksummer, type ChecksumAlgorithm } from './checksum';
import { BUCKET_PROP, bucketInfo, checkKey, checksumProps, encodeTags, etagOf, MAX_PUT_BYTES, metadataOf, PROP, storageClassFor, type S3Request } from './context';
import { S3Error } from './errors';
import { nullProps, settleVersion, tagsOfXml } from './object';
import { lockPropsForWrite } from './object-lock';
import { encrypted, writeKey } from './sse';
import { aclForWrite, authorize } from './access';
import { el, parseXml, txt } from './xml';

/** Bytes of form fields allowed before the file (AWS: MaxPostPreDataLengthExceeded). */
const MAX_PRE_DATA = 64 * 1024;
/** Fields a policy need not name. */
const UNCHECKED = new Set(['policy', 'x-amz-signature', 'file', 'awsaccesskeyid', 'signature']);

/** True when a request is a browser form upload to a bucket (no header or query signature). */
export function isBrowserPost(req: IncomingMessage, bucket: string | undefined, key: string | undefined, rawQuery: string): boolean {
  return req.method === 'POST' && bucket !== undefined && key === undefined && rawQuery === ''
    && req.headers.authorization === undefined && /^multipart\/form-data\s*;/i.test(req.headers['content-type'] ?? '');
}

const malformed = (why: string) => new S3Error('MalformedPOSTRequest', `The body of your POST request is not well-formed multipart/form-data: ${why}`);
const denied = (why: string) => new S3Error('AccessDenied', `Invalid according to Policy: ${why}`);

interface Form {
  /** fields by lower-case name (the first of a repeated name) */
  fields: Map<string, string>;
  /** the file part's filename */
  filename: string;
  /** the file's bytes, streamed; ends at the part's end */
  file: AsyncIterable<Buffer> & { rest(): Promise<void> };
}

export function boundaryOf(contentType: string): string {
  const m = /boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  if (!m) throw malformed('no boundary');
  return (m[1] ?? m[2])!;
}

/**
 * Reads the form up to the start of the file part: fields (bounded), then a reader of the
 * file's bytes that stops at the next boundary (the fields after the file are ignored, as
 * S3 does).
 */
export async function readForm(req: AsyncIterable<Buffer>, boundary: string): Promise<Form> {
  const it = req[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const delim = Buffer.from(`\r\n--${boundary}`);
  // A leading CRLF lets the first boundary be found like the others.
  let buf: Buffer = Buffer.from('\r\n');
  let ended = false;
  const more = async (): Promise<boolean> => {
    if (ended) return false;
    const n = await it.next();
    if (n.done) { ended = true; return false; }
    buf = buf.length === 0 ? n.value : Buffer.concat([buf, n.value]);
    return true;
  };
  const need = async (pred: () => number): Promise<number> => {
    for (;;) {
      const i = pred();
      if (i >= 0) return i;
      if (buf.length > MAX_PRE_DATA) throw new S3Error('MaxPostPreDataLengthExceededError', 'Your POST request fields preceding the upload file were too large.');
      if (!(await more())) throw malformed('the body ended before the file');
    }
  };
  const fields = new Map<string, string>();
  let start = await need(() => buf.indexOf(delim));
  for (;;) {
    buf = buf.subarray(start + delim.length);
    const eol = await need(() => (buf.length >= 2 ? 0 : -1));
    if (buf.subarray(eol, 2).toString() === '--') throw malformed('no file field');
    const headEnd = await need(() => buf.indexOf('\r\n\r\n'));
    const head = buf.subarray(0, headEnd).toString('utf8');
    buf = buf.subarray(headEnd + 4);
    const disp = /^content-disposition:\s*form-data\s*;(.*)$/im.exec(head);
    if (!disp) throw malformed('a part without Content-Disposition: form-data');
    const name = /(?:^|;)\s*name="([^"]*)"/i.exec(disp[1]!)?.[1];
    if (name === undefined) throw malformed('a part without a name');
    const filename = /(?:^|;)\s*filename="([^"]*)"/i.exec(disp[1]!)?.[1];
    if (name.toLowerCase() === 'file') {
      return { fields, filename: filename ?? '', file: fileReader() };
    }
    const end = await need(() => buf.indexOf(delim));
    const lower = name.toLowerCase();
    if (!fields.has(lower)) fields.set(lower, buf.subarray(0, end).toString('utf8'));
    start = end;
  }

  function fileReader(): Form['file'] {
    let done = false;
    const gen = async function* (): AsyncGenerator<Buffer> {
      for (;;) {
        const i = buf.indexOf(delim);
        if (i >= 0) {
          if (i > 0) yield buf.subarray(0, i);
          buf = buf.subarray(i);
          done = true;
          return;
        }
        // Everything but what could be the start of the boundary can go.
        const keep = Math.min(buf.length, delim.length - 1);
        if (buf.length > keep) {
          const out = buf.subarray(0, buf.length - keep);
          buf = buf.subarray(buf.length - keep);
          yield out;
        }
        if (!(await more())) throw new S3Error('IncompleteBody', 'The request body terminated unexpectedly');
      }
    };
    const g = gen();
    return {
      [Symbol.asyncIterator]: () => g,
      async rest() {
        if (!done) return;
        while (await more()) buf = Buffer.alloc(0);
      },
    };
  }
}

/**
 * Verifies the policy's signature; the user's account and the auth result of the request. A
 * form without signature fields is anonymous (access.ts decides whether the bucket takes it).
 */
async function verifySignature(f: Map<string, string>, lookup: UserLookup): Promise<AuthResult> {
  const policy = f.get('policy');
  if (f.has('awsaccesskeyid') || (f.has('signature') && !f.has('x-amz-signature'))) return verifyPostPolicyV2(f, lookup, Date.now());
  const sig = f.get('x-amz-signature');
  if (sig === undefined && !['x-amz-credential', 'x-amz-algorithm', 'x-amz-date'].some((k) => f.has(k))) return anonymousAuth();
  if (policy === undefined || sig === undefined) throw new S3Error('InvalidArgument', 'Bucket POST must contain a field named \'policy\' and \'x-amz-signature\' to be signed', { ArgumentName: policy === undefined ? 'policy' : 'x-amz-signature' });
  const algorithm = f.get('x-amz-algorithm');
  const cred = f.get('x-amz-credential');
  const amzDate = f.get('x-amz-date');
  if (algorithm !== ALGORITHM) throw new S3Error('InvalidArgument', 'x-amz-algorithm must be AWS4-HMAC-SHA256', { ArgumentName: 'x-amz-algorithm', ArgumentValue: algorithm ?? '' });
  const parts = (cred ?? '').split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request' || !/^\d{8}$/.test(parts[1]!)) {
    throw new S3Error('InvalidArgument', 'x-amz-credential is malformed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request"', { ArgumentName: 'x-amz-credential', ArgumentValue: cred ?? '' });
  }
  if (amzDate === undefined || Number.isNaN(parseAmzDate(amzDate)) || !amzDate.startsWith(parts[1]!)) {
    throw new S3Error('InvalidArgument', 'x-amz-date is missing, malformed or not the credential\'s date', { ArgumentName: 'x-amz-date', ArgumentValue: amzDate ?? '' });
  }
  const [accessKey, date, region, service] = parts as [string, string, string, string];
  const user = await lookup(accessKey);
  const signingKey = deriveSigningKey(user.secret, date, region, service);
  if (!sameSignature(signHex(signingKey, policy), sig)) {
    throw new S3Error('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', { AWSAccessKeyId: accessKey, StringToSign: policy });
  }
  return { accessKey, account: user.account, signingKey, amzDate, scope: `${date}/${region}/${service}/aws4_request`, signature: sig, payload: { kind: 'unsigned' }, presigned: false };
}

/**
 * Checks the decoded policy against the form (S3's rules): not expired; every condition
 * holds; every field but policy, x-amz-signature (V2: AWSAccessKeyId, signature), file and
 * x-ignore-* is named by a condition. Returns the content-length-range, if any.
 */
export function checkPolicy(policyB64: string, fields: Map<string, string>, bucket: string, now: number): { min: number; max: number } | undefined {
  let p: { expiration?: unknown; conditions?: unknown };
  try {
    p = JSON.parse(Buffer.from(policyB64, 'base64').toString('utf8')) as typeof p;
  } catch {
    throw new S3Error('InvalidPolicyDocument', 'Invalid Policy: Invalid JSON.');
  }
  if (typeof p !== 'object' || p === null) throw new S3Error('InvalidPolicyDocument', 'Invalid Policy: Invalid JSON.');
  if (typeof p.expiration !== 'string') throw new S3Error('InvalidPolicyDocument', 'Invalid Policy: Policy missing expiration.');
  // ISO 8601 in UTC, as S3 wants it (2007-12-01T12:00:00.000Z), not any date Date.parse takes.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/.test(p.expiration) || Number.isNaN(Date.parse(p.expiration))) {
    throw new S3Error('InvalidPolicyDocument', `Invalid Policy: Invalid 'expiration' value: '${p.expiration}'`);
  }
  if (!Array.isArray(p.conditions)) throw new S3Error('InvalidPolicyDocument', 'Invalid Policy: Policy missing conditions.');
  if (Date.parse(p.expiration) < now) throw denied('Policy expired.');
  const value = (name: string): string | undefined => (name === 'bucket' ? bucket : fields.get(name));
  const covered = new Set<string>(['bucket']);
  let range: { min: number; max: number } | undefined;
  const fail = (c: unknown) => denied(`Policy Condition failed: ${JSON.stringify(c)}`);
  for (const c of p.conditions as unknown[]) {
    if (Array.isArray(c)) {
      const op = String(c[0]).toLowerCase();
      if (op === 'content-length-range') {
        const [min, max] = [Number(c[1]), Number(c[2])];
        if (c.length !== 3 || !Number.isInteger(min) || !Number.isInteger(max) || min < 0 || max < min) throw new S3Error('InvalidPolicyDocument', `Invalid Policy: Invalid content-length-range condition: ${JSON.stringify(c)}`);
        range = { min, max };
        continue;
      }
      if (c.length !== 3 || typeof c[1] !== 'string' || !c[1].startsWith('$') || typeof c[2] !== 'string' || (op !== 'eq' && op !== 'starts-with')) {
        throw new S3Error('InvalidPolicyDocument', `Invalid Policy: Invalid condition: ${JSON.stringify(c)}`);
      }
      const name = c[1].slice(1).toLowerCase();
      covered.add(name);
      const v = value(name) ?? '';
      if (op === 'eq' ? v !== c[2] : !v.startsWith(c[2])) throw fail(c);
    } else if (typeof c === 'object' && c !== null) {
      if (Object.keys(c).length !== 1) throw new S3Error('InvalidPolicyDocument', 'Invalid Policy: Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.');
      for (const [k, want] of Object.entries(c)) {
        const name = k.replace(/^\$/, '').toLowerCase();
        covered.add(name);
        if (value(name) !== String(want)) throw fail(c);
      }
    } else {
      throw new S3Error('InvalidPolicyDocument', `Invalid Policy: Invalid condition: ${JSON.stringify(c)}`);
    }
  }
  for (const name of fields.keys()) {
    if (UNCHECKED.has(name) || name.startsWith('x-ignore-') || checksumField(name) !== undefined || covered.has(name)) continue;
    throw denied(`Extra input fields: ${name}`);
  }
  return range;
}

/** The content-length-range of an unchecked policy (an anonymous form's), if it holds one. */
function rangeOf(policyB64: string): { min: number; max: number } | undefined {
  try {
    const p = JSON.parse(Buffer.from(policyB64, 'base64').toString('utf8')) as { conditions?: unknown };
    const c = Array.isArray(p.conditions) ? p.conditions.find((x: unknown) => Array.isArray(x) && String(x[0]).toLowerCase() === 'content-length-range') as unknown[] | undefined : undefined;
    const [min, max] = c ? [Number(c[1]), Number(c[2])] : [Number.NaN, Number.NaN];
    return Number.isInteger(min) && Number.isInteger(max) && min >= 0 && max >= min ? { min, max } : undefined;
  } catch { return undefined; }
}

/**
 * Counts the file's bytes against the policy's range and checks the form's x-amz-checksum-*
 * field, if any (nothing is stored when either fails).
 */
class FileCheck extends Transform {
  n = 0;
  private readonly sum: Checksummer | undefined;
  constructor(private readonly min: number, private readonly max: number, private readonly checksum?: { algorithm: ChecksumAlgorithm; value: string }) {
    super();
    this.sum = checksum && checksummer(checksum.algorithm);
  }
  override _transform(b: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.n += b.length;
    if (this.n > this.max) { cb(new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', { MaxSizeAllowed: String(this.max) })); return; }
    this.sum?.update(b);
    cb(null, b);
  }
  override _flush(cb: TransformCallback): void {
    if (this.n < this.min) cb(new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', { MinSizeAllowed: String(this.min) }));
    else if (this.checksum && this.sum!.digest() !== this.checksum.value) cb(new S3Error('BadDigest', `The x-amz-checksum-${this.checksum.algorithm} you specified did not match the calculated checksum.`));
    else cb();
  }
}

/** The algorithm of an x-amz-checksum-ALGORITHM field name (undefined: another field). */
function checksumField(name: string): ChecksumAlgorithm | undefined {
  const algo = /^x-amz-checksum-([a-z0-9]+)$/.exec(name)?.[1];
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(algo ?? '') ? algo as ChecksumAlgorithm : undefined;
}

/** The form's one x-amz-checksum-ALGORITHM field, if any (InvalidRequest for two). */
function formChecksum(f: Map<string, string>): { algorithm: ChecksumAlgorithm; value: string } | undefined {
  const found = [...f.keys()].map((k) => ({ algorithm: checksumField(k), value: f.get(k)! })).filter((x) => x.algorithm !== undefined);
  if (found.length > 1) throw new S3Error('InvalidRequest', 'Expecting a single x-amz-checksum- field.');
  return found[0] as { algorithm: ChecksumAlgorithm; value: string } | undefined;
}

/**
 * POST /bucket (multipart/form-data): authenticates by the form's signed policy, then
 * stores the file under the form's key (`${filename}` replaced). `request(auth)` makes the
 * S3Request once the user is known. Answers 204 (or success_action_status 200 / 201 with a
 * PostResponse document, or a 303 to success_action_redirect).
 */
export async function postObject(req: IncomingMessage, bucket: string, lookup: UserLookup, request: (auth: AuthResult) => Promise<S3Request>): Promise<S3Request> {
  const form = await readForm(req, boundaryOf(req.headers['content-type'] ?? ''));
  const f = form.fields;
  const auth = await verifySignature(f, lookup);
  const r = await request(auth);
  r.op = 'PostObject';
  // The key's conditions hold for the key as stored (`${filename}` replaced). An anonymous form
  // has no policy to check (a policy given unsigned is still read for its range).
  const checked = new Map(f);
  if (f.has('key')) checked.set('key', f.get('key')!.replace(/\$\{filename\}/g, form.filename));
  const range = auth.anonymous ? (f.has('policy') ? rangeOf(f.get('policy')!) : undefined) : checkPolicy(f.get('policy')!, checked, bucket, Date.now());
  const keyField = f.get('key');
  if (keyField === undefined) throw new S3Error('InvalidArgument', 'Bucket POST must contain a field named \'key\'.  If it is specified, please check the order of the fields.', { ArgumentName: 'key', ArgumentValue: '' });
  const key = keyField.replace(/\$\{filename\}/g, form.filename);
  if (key === '') throw new S3Error('InvalidArgument', 'User key must have a length greater than 0.', { ArgumentName: 'key' });
  checkKey(key);
  r.key = key;
  // The bucket's policy and ACL hold for form uploads as for PUT (s3:PutObject, bucket WRITE).
  await authorize(r, 'PostObject');
  const acl = f.get('acl');
  // A customer key given by the form's fields (SSE-C, checked as a PUT's headers: over HTTPS
  // unless s3.sse_c_over_http), else SSE-S3 asked by the form (x-amz-server-side-encryption:
  // AES256) or the bucket's default.
  const header = r.header.bind(r);
  r.header = (name) => (name.startsWith('x-amz-server-side-encryption-customer-') || name === 'x-amz-server-side-encryption-aws-kms-key-id' ? f.get(name) : header(name));
  const sse = await writeKey(r, bucket, f.get('x-amz-server-side-encryption'));
  const sc = storageClassFor(r.gw, f.get('x-amz-storage-class'));
  const properties = { ...metadataOf(f), ...sc.props };
  const tagging = f.get('tagging');
  if (tagging !== undefined) {
    let x;
    try { x = parseXml(tagging); } catch { throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema'); }
    properties[PROP.tagging] = encodeTags(tagsOfXml(x, 10));
  }
  const mime = f.get('content-type') ?? 'binary/octet-stream';
  properties[PROP.contentType] = mime;
  Object.assign(properties, await nullProps(r, bucket));
  // The bucket's default retention holds for form uploads too; a form's own lock fields are not read.
  if (['x-amz-object-lock-mode', 'x-amz-object-lock-retain-until-date', 'x-amz-object-lock-legal-hold'].some((k) => f.has(k))) throw new S3Error('NotImplemented', 'object lock fields of a form upload are not implemented');
  Object.assign(properties, await lockPropsForWrite(r, bucket));
  // The form's canned ACL (the bucket's ownership may refuse it, as for PUT).
  if (acl !== undefined && acl !== 'bucket-owner-full-control' && (await bucketInfo(r)).properties[BUCKET_PROP.ownership] === 'BucketOwnerEnforced') {
    throw new S3Error('AccessControlListNotSupported', 'The bucket does not allow ACLs');
  }
  Object.assign(properties, await aclForWrite(r, acl));

  const checksum = formChecksum(f);
  const check = new FileCheck(range?.min ?? 0, Math.min(range?.max ?? MAX_PUT_BYTES, MAX_PUT_BYTES), checksum);
  const pump = (async () => {
    try {
      for await (const b of form.file) {
        if (check.destroyed) return;
        if (!check.write(b)) await new Promise((res) => { check.once('drain', res); check.once('close', res); });
      }
      check.end();
    } catch (e) { check.destroy(e as Error); }
  })();
  let content: ContentInfo;
  try {
    const out = encrypted(sse, check);
    content = await r.storage.objectPut(bucket, key, out.data, { mime, properties: { ...properties, ...out.props, ...checksumProps(checksum) }, policy: sc.policy });
  } catch (e) {
    check.destroy();
    const own = (check as unknown as { errored?: unknown }).errored;
    if (own instanceof S3Error) throw own;
    if (isNotFound(e) && (e as OioError).code === 'CONTAINER_NOT_FOUND') throw new S3Error('NoSuchBucket', 'The specified bucket does not exist');
    throw e;
  } finally {
    await pump;
  }
  await form.file.rest();
  const etag = etagOf(content);
  const headers: Record<string, string> = { etag, ...(await settleVersion(r, bucket, content)), ...(sse?.headers ?? {}) };
  const host = req.headers.host ?? 'localhost';
  const location = `http://${host}/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;
  headers.location = location;
  const redirect = f.get('success_action_redirect') ?? f.get('redirect');
  if (redirect !== undefined && /^https?:\/\//i.test(redirect)) {
    const q = `bucket=${encodeURIComponent(bucket)}&key=${encodeURIComponent(key)}&etag=${encodeURIComponent(etag)}`;
    r.res.writeHead(303, { ...headers, location: `${redirect}${redirect.includes('?') ? '&' : '?'}${q}`, 'content-length': 0 });
    r.res.end();
    return r;
  }
  const status = f.get('success_action_status');
  if (status === '201') {
    // Without the S3 namespace, as S3 answers it (clients find <Key> unqualified).
    const body = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n${el('PostResponse', txt('Location', location), txt('Bucket', bucket), txt('Key', key), txt('ETag', etag))}`);
    r.res.writeHead(201, { ...headers, 'content-type': 'application/xml', 'content-length': body.length });
    r.res.end(body);
  } else {
    r.res.writeHead(status === '200' ? 200 : 204, { ...headers, 'content-length': 0 });
    r.res.end();
  }
  return r;
}
