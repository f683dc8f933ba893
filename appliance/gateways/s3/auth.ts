/**
 * @module gateways/s3/auth
 * AWS Signature Version 4: the Authorization header form, presigned URLs (query form), and
 * the signing of streamed payload chunks (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`;
 * see aws-chunked.ts). Signature V2 requests are handed to auth-v2.ts; a request without any
 * signature is anonymous (access.ts decides what it may do). Secrets are only used here, never
 * logged.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { S3Error } from './errors';
import { authenticateV2, isSigV2 } from './auth-v2';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const STREAMING_SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
export const STREAMING_SIGNED_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
export const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** Largest clock difference accepted between client and gateway. */
export const MAX_SKEW_MS = 15 * 60 * 1000;
/** Longest validity of a presigned URL (7 days, as AWS). */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

/** What a request's body is, as its signature announces it. */
export type PayloadMode =
  | { kind: 'unsigned' }
  | { kind: 'sha256'; hex: string }
  | { kind: 'streaming'; signed: boolean; trailer: boolean };

/** A verified request: who sent it and what is needed to check its streamed chunks. */
export interface AuthResult {
  /** '' when anonymous */
  accessKey: string;
  /** '' when anonymous */
  account: string;
  /** an unsigned request (no Authorization header, no presigned query) */
  anonymous?: boolean;
  /** kept to verify chunk signatures of a streamed body */
  signingKey: Buffer;
  amzDate: string;
  /** date/region/service/aws4_request */
  scope: string;
  /** the request's own signature: the seed of the chunk signature chain */
  signature: string;
  payload: PayloadMode;
  presigned: boolean;
  /** signed with Signature V2 (auth-v2.ts): no signing key, scope or streamed chunks */
  sigV2?: boolean;
}

/** The AuthResult of an unsigned request: nobody, an unsigned payload. */
export function anonymousAuth(): AuthResult {
  return { accessKey: '', account: '', anonymous: true, signingKey: Buffer.alloc(0), amzDate: '', scope: '', signature: '', payload: { kind: 'unsigned' }, presigned: false };
}

/** Looks up a user's secret and account; ACCOUNT_NOT_FOUND (InvalidAccessKeyId) when unknown. */
export type UserLookup = (accessKey: string) => Promise<{ secret: string; account: string }>;

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** kSigning = HMAC chain over date, region, service, "aws4_request". */
export function deriveSigningKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

/** Signing keys of the users seen lately (a key is valid for one day, region and service). */
const signingKeys = new Map<string, { secret: string; key: Buffer }>();

/** deriveSigningKey through a small cache: four HMACs less for each request of a known user. */
function signingKeyOf(accessKey: string, secret: string, date: string, region: string, service: string): Buffer {
  const k = `${accessKey}\n${date}\n${region}\n${service}`;
  const hit = signingKeys.get(k);
  if (hit && hit.secret === secret) return hit.key;
  const key = deriveSigningKey(secret, date, region, service);
  if (signingKeys.size >= 1000) signingKeys.clear();
  signingKeys.set(k, { secret, key });
  return key;
}

/** RFC 3986 encoding as SigV4 wants it: unreserved kept, the rest %XX upper case. */
export function uriEncode(s: string, encodeSlash = true): string {
  let out: string;
  try {
    // encodeURIComponent keeps !'()* too, which SigV4 encodes.
    out = encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  } catch {
    return uriEncodeBytes(s, encodeSlash); // a lone surrogate: encoded as Buffer encodes it
  }
  return encodeSlash ? out : out.replace(/%2F/g, '/');
}

function uriEncodeBytes(s: string, encodeSlash: boolean): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-._~]/.test(c) || (c === '/' && !encodeSlash)) out += c;
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function safeDecode(s: string): string {
  try { return decodeURIComponent(s); } catch { throw new S3Error('InvalidArgument', 'malformed percent-encoding'); }
}

/** The query pairs of a raw query string, decoded ('+' is a space only in form encoding: kept). */
export function queryPairs(rawQuery: string): Array<[string, string]> {
  if (rawQuery === '') return [];
  return rawQuery.split('&').filter((p) => p !== '').map((p) => {
    const i = p.indexOf('=');
    return i < 0 ? [safeDecode(p), ''] : [safeDecode(p.slice(0, i)), safeDecode(p.slice(i + 1))];
  });
}

/** Canonical query string: encoded pairs sorted by key then value. */
export function canonicalQuery(pairs: Array<[string, string]>, exclude?: string): string {
  return pairs.filter(([k]) => k !== exclude)
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`).join('&');
}

/** Header values by lower-case name from raw headers (repeated headers joined by ","). */
export function headerMap(rawHeaders: string[]): Map<string, string> {
  const m = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const k = rawHeaders[i]!.toLowerCase();
    const v = rawHeaders[i + 1]!.trim().replace(/\s+/g, ' ');
    const list = m.get(k) ?? [];
    list.push(v);
    m.set(k, list);
  }
  return new Map([...m].map(([k, v]) => [k, v.join(',')]));
}

/**
 * A header value as the client signed it. Node reads header bytes as latin-1; clients sign the
 * UTF-8 text they sent (x-amz-meta-* with accents), so bytes that are valid UTF-8 are read as
 * UTF-8 here (hashing the canonical request in UTF-8 then gives back the bytes on the wire).
 */
function signedValue(v: string): string {
  if (!/[\x80-\xff]/.test(v)) return v;
  const bytes = Buffer.from(v, 'latin1');
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? text : v;
}

export function canonicalRequest(method: string, canonicalUri: string, canonicalQueryString: string, headers: Map<string, string>, signedHeaders: string[], payloadHash: string): string {
  const ch = signedHeaders.map((h) => `${h}:${signedValue(headers.get(h) ?? '')}\n`).join('');
  return `${method}\n${canonicalUri}\n${canonicalQueryString}\n${ch}\n${signedHeaders.join(';')}\n${payloadHash}`;
}

export function stringToSign(amzDate: string, scope: string, canonicalRequestText: string): string {
  return `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonicalRequestText)}`;
}

export function signHex(signingKey: Buffer, text: string): string {
  return createHmac('sha256', signingKey).update(text, 'utf8').digest('hex');
}

/** String to sign of one chunk of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD body. */
export function chunkStringToSign(amzDate: string, scope: string, previousSignature: string, chunkSha256Hex: string): string {
  return `AWS4-HMAC-SHA256-PAYLOAD\n${amzDate}\n${scope}\n${previousSignature}\n${EMPTY_SHA256}\n${chunkSha256Hex}`;
}

/** String to sign of the trailer of a signed streamed body (x-amz-trailer-signature). */
export function trailerStringToSign(amzDate: string, scope: string, previousSignature: string, trailerSha256Hex: string): string {
  return `AWS4-HMAC-SHA256-TRAILER\n${amzDate}\n${scope}\n${previousSignature}\n${trailerSha256Hex}`;
}

export function sameSignature(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Parses an ISO 8601 basic date-time (20130524T000000Z) to epoch ms, or NaN. */
export function parseAmzDate(s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return Number.NaN;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

function payloadModeOf(v: string | undefined): PayloadMode {
  if (v === undefined || v === UNSIGNED_PAYLOAD) return { kind: 'unsigned' };
  if (v === STREAMING_SIGNED) return { kind: 'streaming', signed: true, trailer: false };
  if (v === STREAMING_SIGNED_TRAILER) return { kind: 'streaming', signed: true, trailer: true };
  if (v === STREAMING_UNSIGNED_TRAILER) return { kind: 'streaming', signed: false, trailer: true };
  if (/^[0-9a-f]{64}$/.test(v)) return { kind: 'sha256', hex: v };
  throw new S3Error('InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-* or a hex SHA-256', { ArgumentName: 'x-amz-content-sha256' });
}

interface Parsed { accessKey: string; date: string; region: string; service: string; signedHeaders: string[]; signature: string }

function parseCredential(cred: string, err: 'AuthorizationHeaderMalformed' | 'AuthorizationQueryParametersError'): Omit<Parsed, 'signedHeaders' | 'signature'> {
  const parts = cred.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request' || !/^\d{8}$/.test(parts[1]!)) throw new S3Error(err, 'the Credential is malformed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request"');
  return { accessKey: parts[0]!, date: parts[1]!, region: parts[2]!, service: parts[3]! };
}

/**
 * Verifies a request's SigV4 signature (header or query form). `rawPath` is the path as sent
 * (percent-encoded); the canonical URI is that path, or (some clients) its decoded form
 * re-encoded. `hostBucket` is the bucket the Host header names (virtual-hosted style; V2
 * signs it). An unsigned request is `anonymousAuth()`. Throws AccessDenied (expired),
 * InvalidAccessKeyId,
 * SignatureDoesNotMatch, RequestTimeTooSkewed, AuthorizationHeaderMalformed.
 */
export async function authenticate(req: IncomingMessage, rawPath: string, rawQuery: string, lookup: UserLookup, now: number, hostBucket?: string): Promise<AuthResult> {
  const headers = headerMap(req.rawHeaders);
  const pairs = queryPairs(rawQuery);
  const q = new Map(pairs);
  const authz = headers.get('authorization');
  if (isSigV2(authz, q)) return authenticateV2(req, rawPath, rawQuery, lookup, now, hostBucket);
  let parsed: Parsed;
  let amzDate: string;
  let payloadHash: string;
  let presigned = false;
  if (authz !== undefined) {
    if (!authz.startsWith(`${ALGORITHM} `)) throw new S3Error('AuthorizationHeaderMalformed', 'unsupported authorization type');
    const fields = new Map<string, string>();
    for (const part of authz.slice(ALGORITHM.length + 1).split(',')) {
      const i = part.indexOf('=');
      if (i > 0) fields.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
    }
    const cred = fields.get('Credential');
    const sh = fields.get('SignedHeaders');
    const sig = fields.get('Signature');
    if (!cred || !sh || !sig) throw new S3Error('AuthorizationHeaderMalformed', 'the authorization header is malformed');
    parsed = { ...parseCredential(cred, 'AuthorizationHeaderMalformed'), signedHeaders: sh.split(';'), signature: sig };
    amzDate = headers.get('x-amz-date') ?? '';
    if (Number.isNaN(parseAmzDate(amzDate))) {
      const d = Date.parse(headers.get('date') ?? '');
      if (Number.isNaN(d)) throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
      amzDate = new Date(d).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    }
    const sha = headers.get('x-amz-content-sha256');
    if (sha === undefined) throw new S3Error('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
    payloadHash = sha;
  } else if (q.has('X-Amz-Algorithm') || q.has('X-Amz-Signature')) {
    presigned = true;
    if (q.get('X-Amz-Algorithm') !== ALGORITHM) throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
    const cred = q.get('X-Amz-Credential');
    const sh = q.get('X-Amz-SignedHeaders');
    const sig = q.get('X-Amz-Signature');
    amzDate = q.get('X-Amz-Date') ?? '';
    const expires = Number(q.get('X-Amz-Expires') ?? 'x');
    if (!cred || !sh || !sig || Number.isNaN(parseAmzDate(amzDate))) throw new S3Error('AuthorizationQueryParametersError', 'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.');
    // 0 or less: a request already expired (AccessDenied below), as S3 answers it.
    if (!Number.isInteger(expires) || expires > MAX_PRESIGN_SECONDS) throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Expires must be between 1 and 604800 seconds');
    const t = parseAmzDate(amzDate);
    if (t - now > MAX_SKEW_MS) throw new S3Error('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', { RequestTime: amzDate, ServerTime: new Date(now).toISOString() });
    if (now > t + expires * 1000) throw new S3Error('AccessDenied', 'Request has expired', { Expires: new Date(t + expires * 1000).toISOString(), ServerTime: new Date(now).toISOString() });
    parsed = { ...parseCredential(cred, 'AuthorizationQueryParametersError'), signedHeaders: sh.split(';'), signature: sig };
    payloadHash = q.get('X-Amz-Content-Sha256') ?? UNSIGNED_PAYLOAD;
  } else {
    return anonymousAuth();
  }

  if (!presigned) {
    const t = parseAmzDate(amzDate);
    if (Math.abs(now - t) > MAX_SKEW_MS) {
      throw new S3Error('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', { RequestTime: amzDate, ServerTime: new Date(now).toISOString(), MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS) });
    }
  }
  if (!amzDate.startsWith(parsed.date)) throw new S3Error(presigned ? 'AuthorizationQueryParametersError' : 'AuthorizationHeaderMalformed', 'the credential date does not match the request date');
  if (!parsed.signedHeaders.includes('host')) throw new S3Error('AccessDenied', 'the host header must be signed');
  const payload = payloadModeOf(payloadHash);

  const user = await lookup(parsed.accessKey);
  const scope = `${parsed.date}/${parsed.region}/${parsed.service}/aws4_request`;
  const signingKey = signingKeyOf(parsed.accessKey, user.secret, parsed.date, parsed.region, parsed.service);
  const cq = canonicalQuery(pairs, presigned ? 'X-Amz-Signature' : undefined);
  const method = req.method ?? 'GET';
  const uris = [rawPath];
  const reencoded = uriEncode(safeDecode(rawPath), false);
  if (reencoded !== rawPath) uris.push(reencoded);
  let last = '';
  for (const uri of uris) {
    last = stringToSign(amzDate, scope, canonicalRequest(method, uri, cq, headers, parsed.signedHeaders, payloadHash));
    if (sameSignature(signHex(signingKey, last), parsed.signature)) {
      return { accessKey: parsed.accessKey, account: user.account, signingKey, amzDate, scope, signature: parsed.signature, payload, presigned };
    }
  }
  throw new S3Error('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', { AWSAccessKeyId: parsed.accessKey, StringToSign: last });
}
