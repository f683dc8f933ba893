/**
 * @module gateways/s3/policy
 * Bucket policies (PUT/GET/DELETE /bucket?policy, GetBucketPolicyStatus). Statements match a
 * request by principal ("*": anyone, anonymous included; an account, arn:aws:iam::ACCOUNT:root,
 * or arn:aws:iam::ACCOUNT:user/ACCESS_KEY), action, resource and conditions. A Deny that
 * matches refuses the request (the owner's too); an Allow that matches lets another account
 * or an anonymous requester in (access.ts, with the ACLs). Conditions: aws:SecureTransport,
 * aws:SourceIp, aws:UserAgent, aws:Referer, s3:prefix, s3:delimiter, s3:max-keys, s3:VersionId,
 * s3:authType, s3:signatureversion, the request headers of HEADER_KEYS (s3:x-amz-acl,
 * s3:x-amz-grant-*, s3:x-amz-server-side-encryption, ...), s3:RequestObjectTag/<k> and
 * s3:ExistingObjectTag/<k> (the object's tags, read when a statement names one), with Bool,
 * IpAddress/NotIpAddress, Null, the String and Numeric operators and their ...IfExists forms;
 * other keys and operators are NotImplemented (they would be silently ignored). The policy operations themselves are the
 * owner's alone and never denied, so the owner can always mend a policy that locks it out (as
 * an AWS account's root can). A public policy (an Allow to "*" not bound to source addresses)
 * is refused by BlockPublicPolicy and only serves the owner under RestrictPublicBuckets.
 */
import net from 'node:net';
import { isNotFound } from '../../common';
import { BUCKET_PROP, PROP, S3Request, S3Scope, bucketInfo, bucketJson, resolveVersion, setBucketProperty, readSmallBody, sendEmpty, sendXml } from './context';
import { S3Error } from './errors';
import { checkServiceStatement, isServiceStatement } from './logging-policy';
import { doc, txt } from './xml';

const MAX_POLICY_BYTES = 20 * 1024;
/** Request headers that are condition keys of the same name (s3:x-amz-acl, ...). */
const HEADER_KEYS = ['x-amz-server-side-encryption', 'x-amz-server-side-encryption-customer-algorithm', 'x-amz-acl', 'x-amz-grant-read', 'x-amz-grant-write',
  'x-amz-grant-read-acp', 'x-amz-grant-write-acp', 'x-amz-grant-full-control', 'x-amz-copy-source', 'x-amz-metadata-directive', 'x-amz-storage-class',
  'x-amz-content-sha256', 'x-amz-object-lock-mode', 'x-amz-object-lock-legal-hold'];
const CONDITION_KEYS = ['aws:securetransport', 'aws:sourceip', 'aws:useragent', 'aws:referer', 's3:prefix', 's3:delimiter', 's3:max-keys', 's3:versionid',
  's3:authtype', 's3:signatureversion', ...HEADER_KEYS.map((h) => `s3:${h}`)];
/** Condition keys naming a tag: s3:ExistingObjectTag/<key> (the object's), s3:RequestObjectTag/<key> (x-amz-tagging's). */
const TAG_KEY_PREFIXES = ['s3:existingobjecttag/', 's3:requestobjecttag/'];
const BASE_OPERATORS = ['Bool', 'IpAddress', 'NotIpAddress', 'StringEquals', 'StringNotEquals', 'StringLike', 'StringNotLike', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase',
  'NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals'];
/** Every operator also has its ...IfExists form (true when the key is absent); Null has none. */
const OPERATORS = ['Null', ...BASE_OPERATORS, ...BASE_OPERATORS.map((o) => `${o}IfExists`)];
const knownKey = (key: string): boolean => CONDITION_KEYS.includes(key) || TAG_KEY_PREFIXES.some((p) => key.startsWith(p) && key.length > p.length);

export interface Statement {
  effect: 'Allow' | 'Deny';
  /** '*' or principals as given (account, arn:aws:iam::ACCOUNT:root, arn:aws:iam::ACCOUNT:user/ACCESS_KEY) */
  principals: string[];
  actions?: string[];
  notActions?: string[];
  resources?: string[];
  notResources?: string[];
  conditions: Array<{ op: string; key: string; values: string[] }>;
}

const malformed = (message: string): never => { throw new S3Error('MalformedPolicy', message); };
const list = (v: unknown, what: string): string[] => {
  const a = Array.isArray(v) ? v : [v];
  if (a.length === 0 || a.some((x) => typeof x !== 'string' || x === '')) malformed(`${what} must be a string or a list of strings`);
  return a as string[];
};

/** `*` and `?` wildcards of a policy pattern. */
function matches(pattern: string, value: string, ignoreCase = false): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, ignoreCase ? 'is' : 's');
  return re.test(value);
}

function principalsOf(p: unknown): string[] {
  if (p === '*') return ['*'];
  if (typeof p === 'object' && p !== null && !Array.isArray(p)) {
    const keys = Object.keys(p);
    if (keys.length !== 1 || keys[0] !== 'AWS') throw new S3Error('NotImplemented', `policy principals other than AWS (${keys.join(', ')}) are not implemented`);
    return list((p as Record<string, unknown>).AWS, 'Principal.AWS');
  }
  return malformed('Principal must be "*" or {"AWS": ...}');
}

/** Whether a principal names the requester's account (undefined: anonymous) or one of its users, or anyone. */
function principalMatches(principal: string, account: string | undefined, accessKey: string): boolean {
  if (principal === '*' || principal === 'arn:aws:iam::*:root') return true;
  return account !== undefined && (principal === account || principal === `arn:aws:iam::${account}:root` || principal === `arn:aws:iam::${account}:user/${accessKey}`);
}

/** The statements of a policy document, checked against the bucket. */
export function parsePolicy(text: string, bucket: string): Statement[] {
  if (Buffer.byteLength(text) > MAX_POLICY_BYTES) malformed('Policies must be no larger than 20 KB');
  let doc: unknown;
  try { doc = JSON.parse(text); } catch { return malformed('This policy contains invalid Json'); }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) malformed('This policy contains invalid Json');
  const d = doc as Record<string, unknown>;
  if (d.Version !== undefined && d.Version !== '2012-10-17' && d.Version !== '2008-10-17') malformed('The policy must contain a valid version string');
  const raw = Array.isArray(d.Statement) ? d.Statement : d.Statement !== undefined ? [d.Statement] : [];
  if (raw.length === 0) malformed('Missing required field Statement');
  const ids = new Set<string>();
  return raw.map((s: unknown): Statement => {
    if (typeof s !== 'object' || s === null) malformed('Statement must be an object');
    const st = s as Record<string, unknown>;
    // A service principal (log delivery) never matches a request: read by logging-policy.ts.
    if (isServiceStatement(st)) {
      checkServiceStatement(st);
      return { effect: st.Effect as 'Allow' | 'Deny', principals: [], conditions: [] };
    }
    if (st.Sid !== undefined) {
      if (typeof st.Sid !== 'string' || ids.has(st.Sid)) malformed('Statement IDs (SID) in a single policy must be unique');
      ids.add(st.Sid as string);
    }
    if (st.Effect !== 'Allow' && st.Effect !== 'Deny') malformed('Invalid effect');
    if (st.NotPrincipal !== undefined && st.Effect === 'Allow') malformed('NotPrincipal is not allowed with an Allow effect');
    if (st.NotPrincipal !== undefined) throw new S3Error('NotImplemented', 'NotPrincipal is not implemented');
    if (st.Principal === undefined) malformed('Missing required field Principal');
    const principals = principalsOf(st.Principal);
    if ((st.Action === undefined) === (st.NotAction === undefined)) malformed('A statement needs Action or NotAction');
    if ((st.Resource === undefined) === (st.NotResource === undefined)) malformed('A statement needs Resource or NotResource');
    const actions = st.Action === undefined ? undefined : list(st.Action, 'Action');
    const notActions = st.NotAction === undefined ? undefined : list(st.NotAction, 'NotAction');
    for (const a of [...(actions ?? []), ...(notActions ?? [])]) if (a !== '*' && !/^s3:[A-Za-z*?]+$/.test(a)) malformed(`Policy has invalid action: ${a}`);
    const resources = st.Resource === undefined ? undefined : list(st.Resource, 'Resource');
    const notResources = st.NotResource === undefined ? undefined : list(st.NotResource, 'NotResource');
    for (const r of [...(resources ?? []), ...(notResources ?? [])]) {
      if (r !== '*' && !(r.startsWith('arn:aws:s3:::') && matches(r.slice(13).split('/')[0]!, bucket))) malformed('Policy has invalid resource');
    }
    const conditions: Statement['conditions'] = [];
    if (st.Condition !== undefined) {
      if (typeof st.Condition !== 'object' || st.Condition === null) malformed('Condition must be an object');
      for (const [op, block] of Object.entries(st.Condition as Record<string, unknown>)) {
        if (!OPERATORS.includes(op)) throw new S3Error('NotImplemented', `policy condition operator ${op} is not implemented`);
        if (typeof block !== 'object' || block === null) malformed(`Condition ${op} must be an object`);
        for (const [key, v] of Object.entries(block as Record<string, unknown>)) {
          if (!knownKey(key.toLowerCase())) throw new S3Error('NotImplemented', `policy condition key ${key} is not implemented`);
          const values = (Array.isArray(v) ? v : [v]).map((x) => String(x));
          if (op.includes('IpAddress')) for (const c of values) if (!blockOf([c])) malformed(`Invalid IP address: ${c}`);
          if (op.startsWith('Numeric')) for (const c of values) if (!/^-?\d+(\.\d+)?$/.test(c)) malformed(`Invalid numeric value: ${c}`);
          // Tag keys keep their case (s3:ExistingObjectTag/Project); the rest is case-insensitive.
          const name = TAG_KEY_PREFIXES.find((p) => key.toLowerCase().startsWith(p));
          conditions.push({ op, key: name ? `${name}${key.slice(name.length)}` : key.toLowerCase(), values });
        }
      }
    }
    return { effect: st.Effect as 'Allow' | 'Deny', principals, actions, notActions, resources, notResources, conditions };
  });
}

function blockOf(cidrs: string[]): net.BlockList | undefined {
  const b = new net.BlockList();
  for (const c of cidrs) {
    const [addr, bits] = c.split('/');
    const type = net.isIPv6(addr ?? '') ? 'ipv6' : net.isIPv4(addr ?? '') ? 'ipv4' : undefined;
    if (!type) return undefined;
    const prefix = bits === undefined ? (type === 'ipv4' ? 32 : 128) : Number(bits);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > (type === 'ipv4' ? 32 : 128)) return undefined;
    b.addSubnet(addr!, prefix, type);
  }
  return b;
}

/** The IAM action of an S3 operation (the router's names). */
export function actionOf(op: string, r: S3Request): string {
  const versioned = r.query.has('versionId');
  switch (op) {
    case 'GetObject': case 'HeadObject': case 'GetObjectAttributes': return versioned ? 's3:GetObjectVersion' : 's3:GetObject';
    case 'CopyObject': case 'PostObject': case 'CreateMultipartUpload': case 'UploadPart': case 'UploadPartCopy': case 'CompleteMultipartUpload': return 's3:PutObject';
    case 'DeleteObject': return versioned ? 's3:DeleteObjectVersion' : 's3:DeleteObject';
    case 'ListObjects': case 'ListObjectsV2': case 'HeadBucket': return 's3:ListBucket';
    case 'ListObjectVersions': return 's3:ListBucketVersions';
    case 'ListParts': return 's3:ListMultipartUploadParts';
    case 'ListMultipartUploads': return 's3:ListBucketMultipartUploads';
    case 'DeleteBucketTagging': return 's3:PutBucketTagging';
    case 'DeleteObjectTagging': return versioned ? 's3:DeleteObjectVersionTagging' : 's3:DeleteObjectTagging';
    case 'GetBucketCors': return 's3:GetBucketCORS';
    case 'PutBucketCors': case 'DeleteBucketCors': return 's3:PutBucketCORS';
    case 'GetBucketLifecycleConfiguration': return 's3:GetLifecycleConfiguration';
    case 'PutBucketLifecycleConfiguration': case 'DeleteBucketLifecycle': return 's3:PutLifecycleConfiguration';
    case 'GetBucketEncryption': return 's3:GetEncryptionConfiguration';
    case 'PutBucketEncryption': case 'DeleteBucketEncryption': return 's3:PutEncryptionConfiguration';
    case 'GetObjectLockConfiguration': return 's3:GetBucketObjectLockConfiguration';
    case 'PutObjectLockConfiguration': return 's3:PutBucketObjectLockConfiguration';
    case 'DeleteBucketOwnershipControls': return 's3:PutBucketOwnershipControls';
    case 'GetPublicAccessBlock': return 's3:GetBucketPublicAccessBlock';
    case 'PutPublicAccessBlock': case 'DeletePublicAccessBlock': return 's3:PutBucketPublicAccessBlock';
    default: return `s3:${op}`;
  }
}

/** The tags of the object a request names, when a policy condition asks for them (loadConditionContext). */
const existingTags = new WeakMap<S3Request, Map<string, string>>();

/** The value of condition key `key` for `r` (undefined: absent). */
function contextValue(r: S3Request, key: string): string | undefined {
  if (key.startsWith('s3:existingobjecttag/')) return existingTags.get(r)?.get(key.slice('s3:existingobjecttag/'.length));
  if (key.startsWith('s3:requestobjecttag/')) {
    const tagging = r.header('x-amz-tagging');
    return tagging === undefined ? undefined : new URLSearchParams(tagging).get(key.slice('s3:requestobjecttag/'.length)) ?? undefined;
  }
  switch (key) {
    case 'aws:securetransport': return (r.req.socket as { encrypted?: boolean }).encrypted ? 'true' : 'false';
    case 'aws:sourceip': return (r.req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    case 'aws:useragent': return r.header('user-agent');
    case 'aws:referer': return r.header('referer');
    case 's3:prefix': case 's3:delimiter': case 's3:max-keys': return r.query.get(key.slice(3));
    case 's3:versionid': return r.query.get('versionId');
    case 's3:authtype': return r.auth.presigned ? 'REST-QUERY-STRING' : r.op === 'PostObject' ? 'POST' : 'REST-HEADER';
    case 's3:signatureversion': return r.auth.anonymous ? undefined : r.auth.sigV2 ? 'AWS' : 'AWS4-HMAC-SHA256';
    default: return key.startsWith('s3:x-amz-') ? r.header(key.slice(3)) : undefined;
  }
}

/** Whether a statement's conditions all hold for `r`. */
function conditionsHold(st: Statement, r: S3Request): boolean {
  return st.conditions.every(({ op: given, key, values }) => {
    const v = contextValue(r, key);
    const op = given.endsWith('IfExists') ? given.slice(0, -'IfExists'.length) : given;
    if (op !== given && v === undefined) return true;
    if (op.startsWith('Numeric')) {
      const n = Number(v);
      if (v === undefined || v.trim() === '' || !Number.isFinite(n)) return op === 'NumericNotEquals';
      const cmp = (x: string): boolean => {
        const w = Number(x);
        switch (op) {
          case 'NumericEquals': return n === w;
          case 'NumericNotEquals': return n !== w;
          case 'NumericLessThan': return n < w;
          case 'NumericLessThanEquals': return n <= w;
          case 'NumericGreaterThan': return n > w;
          default: return n >= w;
        }
      };
      return op === 'NumericNotEquals' ? values.every(cmp) : values.some(cmp);
    }
    switch (op) {
      case 'Null': return values.some((x) => (x.toLowerCase() === 'true') === (v === undefined));
      case 'Bool': return v !== undefined && values.some((x) => x.toLowerCase() === v.toLowerCase());
      case 'IpAddress': case 'NotIpAddress': {
        const inside = v !== undefined && net.isIP(v) !== 0 && blockOf(values)!.check(v, net.isIPv6(v) ? 'ipv6' : 'ipv4');
        return op === 'IpAddress' ? inside : !inside;
      }
      default: {
        const negated = op.startsWith('StringNot');
        const like = op.endsWith('Like');
        const ci = op.endsWith('IgnoreCase');
        const hit = v !== undefined && values.some((x) => (like ? matches(x, v) : ci ? x.toLowerCase() === v.toLowerCase() : x === v));
        return negated ? v === undefined || !hit : hit;
      }
    }
  });
}

function statementMatches(st: Statement, r: S3Request, action: string, resource: string): boolean {
  return st.principals.some((p) => principalMatches(p, r.requester, r.auth.accessKey))
    && (st.actions ? st.actions.some((a) => matches(a, action, true)) : !st.notActions!.some((a) => matches(a, action, true)))
    && (st.resources ? st.resources.some((x) => matches(x, resource)) : !st.notResources!.some((x) => matches(x, resource)))
    && conditionsHold(st, r);
}

/** Whether the bucket's policy denies `action` on `resource` (an ARN) to `r` (exported for tests). */
export function denies(statements: Statement[], r: S3Request, action: string, resource: string): boolean {
  return statements.some((st) => st.effect === 'Deny' && statementMatches(st, r, action, resource));
}

/** Whether the bucket's policy allows `action` on `resource` to `r` (`publicToo` false: only Allows naming accounts count). */
export function allows(statements: Statement[], r: S3Request, action: string, resource: string, publicToo = true): boolean {
  return statements.some((st) => st.effect === 'Allow' && (publicToo || !isPublicStatement(st)) && statementMatches(st, r, action, resource));
}

/** An Allow to anyone ("*"), not bound to source addresses: what makes a policy public. */
function isPublicStatement(st: Statement): boolean {
  return st.effect === 'Allow' && st.principals.some((p) => p === '*' || p === 'arn:aws:iam::*:root') && !st.conditions.some((c) => c.key === 'aws:sourceip' && c.op === 'IpAddress');
}

/** Whether a policy is public (an Allow to anyone). */
export const isPublicPolicy = (statements: Statement[]): boolean => statements.some(isPublicStatement);

export const POLICY_OPS = new Set(['GetBucketPolicy', 'PutBucketPolicy', 'DeleteBucketPolicy', 'GetBucketPolicyStatus']);
export const arnOf = (bucket: string, key?: string) => `arn:aws:s3:::${bucket}${key === undefined ? '' : `/${key}`}`;

/** Parsed policies by account, bucket and text (the bucket cache holds the text). */
const parsed = new Map<string, Statement[]>();

/** The statements of a bucket's policy (undefined: none, or no such bucket). */
export async function statementsOf(r: S3Scope, bucket: string): Promise<Statement[] | undefined> {
  const info = await bucketInfo(r, bucket).catch(() => undefined);
  const raw = info?.properties[BUCKET_PROP.policy];
  if (!raw) return undefined;
  const k = `${r.storage.account}\n${bucket}\n${raw}`;
  let statements = parsed.get(k);
  if (!statements) {
    // A stored policy was checked when put: one that no longer parses allows and denies nothing.
    try { statements = parsePolicy(raw, bucket); } catch { return undefined; }
    if (parsed.size >= 1000) parsed.clear();
    parsed.set(k, statements);
  }
  return statements;
}

/** Reads the tags of the object `r` names when a statement's condition needs them (s3:ExistingObjectTag/<k>). */
export async function loadConditionContext(r: S3Request, statements: Statement[] | undefined): Promise<void> {
  if (statements && r.key !== undefined && statements.some((st) => st.conditions.some((c) => c.key.startsWith('s3:existingobjecttag/')))) {
    existingTags.set(r, await tagsOfObject(r));
  }
}

/** The tags of the object (the version) a request names; none when it does not exist (yet). */
async function tagsOfObject(r: S3Request): Promise<Map<string, string>> {
  try {
    const c = await resolveVersion(r, r.bucket!, r.key!, r.query.get('versionId'));
    return new Map(new URLSearchParams(c.properties[PROP.tagging] ?? ''));
  } catch (e) {
    if (isNotFound(e) || (e instanceof S3Error && e.status === 404)) return new Map();
    throw e;
  }
}

/** The same check for one key of a DeleteObjects request. */
export async function deniedDelete(r: S3Request, key: string, versioned: boolean): Promise<boolean> {
  const statements = await statementsOf(r, r.bucket!);
  return statements !== undefined && denies(statements, r, versioned ? 's3:DeleteObjectVersion' : 's3:DeleteObject', arnOf(r.bucket!, key));
}

/** PUT /bucket?policy */
export async function putBucketPolicy(r: S3Request): Promise<void> {
  const text = await readSmallBody(r, MAX_POLICY_BYTES + 1, () => new S3Error('MalformedPolicy', 'Policies must be no larger than 20 KB'));
  const statements = parsePolicy(text, r.bucket!);
  const block = bucketJson<Record<string, boolean>>((await bucketInfo(r)).properties, 'publicAccessBlock');
  if (block?.BlockPublicPolicy && isPublicPolicy(statements)) throw new S3Error('AccessDenied', 'Access Denied');
  await setBucketProperty(r, 'policy', text);
  sendEmpty(r, 204);
}

/** GET /bucket?policy: the document as it was put. */
export async function getBucketPolicy(r: S3Request): Promise<void> {
  const raw = (await bucketInfo(r)).properties[BUCKET_PROP.policy];
  if (!raw) throw new S3Error('NoSuchBucketPolicy', 'The bucket policy does not exist', { BucketName: r.bucket! });
  const data = Buffer.from(raw, 'utf8');
  r.res.writeHead(200, { 'content-type': 'application/json', 'content-length': data.length });
  r.res.end(data);
}

/** GET /bucket?policyStatus: public when an Allow names anyone ("*") not bound to source addresses. */
export async function getBucketPolicyStatus(r: S3Request): Promise<void> {
  const raw = (await bucketInfo(r)).properties[BUCKET_PROP.policy];
  if (!raw) throw new S3Error('NoSuchBucketPolicy', 'The bucket policy does not exist', { BucketName: r.bucket! });
  const statements = await statementsOf(r, r.bucket!);
  sendXml(r, 200, doc('PolicyStatus', txt('IsPublic', statements !== undefined && isPublicPolicy(statements))));
}
