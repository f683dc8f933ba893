/**
 * @module gateways/s3/auth-v2
 * AWS Signature Version 2, as old clients (and SDKs configured with `signature_version='s3'`)
 * still sign: the header form `Authorization: AWS AccessKeyId:Signature` and presigned URLs
 * (`AWSAccessKeyId`, `Expires`, `Signature` in the query). The signature is
 * Base64(HMAC-SHA1(secret, UTF-8(StringToSign))) with, as the S3 documentation ("Signing and
 * Authenticating REST Requests") gives it:
 *
 *   StringToSign = HTTP-Verb \n Content-MD5 \n Content-Type \n Date \n
 *                  CanonicalizedAmzHeaders CanonicalizedResource
 *
 * Date is empty when x-amz-date is sent (it is then among the x-amz- headers), the Expires
 * value of a presigned URL; CanonicalizedAmzHeaders are the `x-amz-*` headers, lower case,
 * sorted, repeated ones joined by ",", each `name:value\n`; CanonicalizedResource is
 * `/bucket` (virtual-hosted style) then the path as sent, then the sub-resources of the query
 * (below) sorted by name, their values decoded. auth.ts hands V2 requests here.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AuthResult, UserLookup } from './auth';
import { S3Error } from './errors';

/** Largest clock difference accepted between client and gateway (as SigV4). */
const MAX_SKEW_MS = 15 * 60 * 1000;

/**
 * Query parameters that are part of the CanonicalizedResource: the sub-resources and response
 * overrides of the S3 documentation, and those the SDKs add to it (botocore's list).
 */
export const SUB_RESOURCES = new Set([
  'accelerate', 'acl', 'analytics', 'cors', 'defaultObjectAcl', 'delete', 'inventory', 'legal-hold', 'lifecycle', 'location',
  'logging', 'metrics', 'notification', 'object-lock', 'partNumber', 'policy', 'replication', 'requestPayment', 'restore',
  'retention', 'select', 'select-type', 'storageClass', 'tagging', 'torrent', 'uploadId', 'uploads', 'versionId', 'versioning',
  'versions', 'website',
  'response-cache-control', 'response-content-disposition', 'response-content-encoding', 'response-content-language',
  'response-content-type', 'response-expires',
]);

/** Whether a request is signed with Signature V2 (header or query form). */
export function isSigV2(authorization: string | undefined, query: ReadonlyMap<string, string>): boolean {
  if (authorization !== undefined) return authorization.startsWith('AWS ');
  return query.has('AWSAccessKeyId') && query.has('Signature');
}

function decode(s: string): string {
  try { return decodeURIComponent(s); } catch { throw new S3Error('InvalidArgument', 'malformed percent-encoding'); }
}

/** `?sub&sub=value...` of a raw query: the sub-resources, sorted by name, values decoded. */
export function canonicalSubResources(rawQuery: string): string {
  const subs: Array<[string, string | undefined]> = [];
  for (const p of rawQuery.split('&')) {
    if (p === '') continue;
    const i = p.indexOf('=');
    const name = decode(i < 0 ? p : p.slice(0, i));
    if (SUB_RESOURCES.has(name)) subs.push([name, i < 0 ? undefined : decode(p.slice(i + 1))]);
  }
  if (!subs.length) return '';
  subs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return `?${subs.map(([k, v]) => (v === undefined ? k : `${k}=${v}`)).join('&')}`;
}

/** Header values by lower-case name, trimmed, repeated headers joined by "," (folding unfolded). */
function headersOf(rawHeaders: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const k = rawHeaders[i]!.toLowerCase();
    const v = rawHeaders[i + 1]!.replace(/\r?\n[ \t]*/g, ' ').trim();
    const prev = m.get(k);
    m.set(k, prev === undefined ? v : `${prev},${v}`);
  }
  return m;
}

/** CanonicalizedAmzHeaders: every x-amz- header, `name:value\n`, sorted by name. */
export function canonicalAmzHeaders(headers: ReadonlyMap<string, string>): string {
  return [...headers.keys()].filter((k) => k.startsWith('x-amz-')).sort().map((k) => `${k}:${headers.get(k)!}\n`).join('');
}

/** The StringToSign of a V2 request. */
export function stringToSignV2(method: string, headers: ReadonlyMap<string, string>, date: string, resource: string): string {
  return `${method}\n${headers.get('content-md5') ?? ''}\n${headers.get('content-type') ?? ''}\n${date}\n${canonicalAmzHeaders(headers)}${resource}`;
}

export function signV2(secret: string, text: string): string {
  return createHmac('sha1', secret).update(text, 'utf8').digest('base64');
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** An HTTP date (RFC 1123, as V2 clients send it) or an ISO 8601 basic one, to epoch ms (NaN if neither). */
function parseDate(s: string | undefined): number {
  if (s === undefined || s === '') return Number.NaN;
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (m) return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return Date.parse(s);
}

const isoBasic = (ms: number): string => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

/**
 * Verifies a V2-signed request. `rawPath` is the path as sent; `hostBucket` the bucket named by
 * the Host header (virtual-hosted style), if any. Throws InvalidArgument (malformed
 * Authorization), AccessDenied (no date, expired URL), RequestTimeTooSkewed,
 * InvalidAccessKeyId, SignatureDoesNotMatch.
 */
export async function authenticateV2(req: IncomingMessage, rawPath: string, rawQuery: string, lookup: UserLookup, now: number, hostBucket?: string): Promise<AuthResult> {
  const headers = headersOf(req.rawHeaders);
  const authz = headers.get('authorization');
  let accessKey: string;
  let signature: string;
  /** the Date lines the client may have signed (x-amz-date sent: empty, as documented; or Date) */
  let dates: string[];
  let requestMs: number;
  let presigned = false;
  if (authz !== undefined) {
    const i = authz.indexOf(':');
    if (!authz.startsWith('AWS ') || i < 0) throw new S3Error('InvalidArgument', 'AWS authorization header is invalid.  Expected AwsAccessKeyId:signature', { ArgumentName: 'Authorization', ArgumentValue: authz });
    accessKey = authz.slice(4, i).trim();
    signature = authz.slice(i + 1).trim();
    const amzDate = headers.get('x-amz-date');
    const date = headers.get('date');
    requestMs = parseDate(amzDate ?? date);
    if (Number.isNaN(requestMs)) throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
    if (Math.abs(now - requestMs) > MAX_SKEW_MS) {
      throw new S3Error('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', { RequestTime: amzDate ?? date ?? '', ServerTime: new Date(now).toISOString(), MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS) });
    }
    dates = amzDate === undefined ? [date ?? ''] : date === undefined ? [''] : ['', date];
  } else {
    presigned = true;
    const q = new Map<string, string>();
    for (const p of rawQuery.split('&')) {
      const i = p.indexOf('=');
      if (i > 0) q.set(decode(p.slice(0, i)), decode(p.slice(i + 1)));
    }
    accessKey = q.get('AWSAccessKeyId') ?? '';
    signature = q.get('Signature') ?? '';
    const expires = q.get('Expires') ?? '';
    if (!/^\d+$/.test(expires)) throw new S3Error('AccessDenied', 'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters');
    const expiresMs = Number(expires) * 1000;
    if (now > expiresMs) throw new S3Error('AccessDenied', 'Request has expired', { Expires: new Date(expiresMs).toISOString(), ServerTime: new Date(now).toISOString() });
    dates = [expires];
    requestMs = now;
  }
  const user = await lookup(accessKey);
  const method = req.method ?? 'GET';
  const subs = canonicalSubResources(rawQuery);
  const prefix = hostBucket === undefined ? '' : `/${hostBucket}`;
  const paths = [rawPath];
  const decoded = decode(rawPath);
  if (decoded !== rawPath) paths.push(decoded);
  // A bucket named in the path alone: SDKs sign it as its virtual-hosted form, `/bucket/`.
  if (hostBucket === undefined && /^\/[^/]+$/.test(rawPath)) paths.push(`${rawPath}/`);
  let first = '';
  for (const path of paths) {
    for (const date of dates) {
      const text = stringToSignV2(method, headers, date, `${prefix}${path}${subs}`);
      first ||= text;
      if (same(signV2(user.secret, text), signature)) {
        return { accessKey, account: user.account, signingKey: Buffer.alloc(0), amzDate: isoBasic(requestMs), scope: '', signature, payload: { kind: 'unsigned' }, presigned, sigV2: true };
      }
    }
  }
  throw new S3Error('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    { AWSAccessKeyId: accessKey, StringToSign: first, SignatureProvided: signature, StringToSignBytes: Buffer.from(first, 'utf8').toString('hex').replace(/(..)(?!$)/g, '$1 ') });
}

/**
 * Verifies the signature of a browser form upload signed the V2 way: `signature` is
 * Base64(HMAC-SHA1(secret, policy)) (the base64 policy as sent), with `AWSAccessKeyId`.
 */
export async function verifyPostPolicyV2(fields: ReadonlyMap<string, string>, lookup: UserLookup, now: number): Promise<AuthResult> {
  const accessKey = fields.get('awsaccesskeyid');
  const signature = fields.get('signature');
  const policy = fields.get('policy');
  if (!accessKey || signature === undefined || policy === undefined) {
    throw new S3Error('InvalidArgument', 'Bucket POST must contain a field named AWSAccessKeyId, signature and policy', { ArgumentName: accessKey ? 'signature' : 'AWSAccessKeyId', ArgumentValue: '' });
  }
  const user = await lookup(accessKey);
  if (!same(signV2(user.secret, policy), signature)) {
    throw new S3Error('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', { AWSAccessKeyId: accessKey, StringToSign: policy, SignatureProvided: signature });
  }
  return { accessKey, account: user.account, signingKey: Buffer.alloc(0), amzDate: isoBasic(now), scope: '', signature, payload: { kind: 'unsigned' }, presigned: false, sigV2: true };
}
