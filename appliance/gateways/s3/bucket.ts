/**
 * @module gateways/s3/bucket
 * Bucket handlers: ListBuckets (the account's containers), Create/Head/DeleteBucket,
 * GetBucketLocation, versioning (Enabled = unlimited versions, Suspended = kept versions plus
 * a "null" version), tagging and CORS configuration (container properties), bucket and object
 * ACLs (acl.ts), and the settings this gateway cannot set, read as S3 reads a bucket without them.
 * Bucket names are global: CreateBucket reserves the name in the account service's bucket table
 * first (another account's: BucketAlreadyExists), DeleteBucket releases it.
 */
import { isNotFound, OioError } from '../../common';
import { type Acl, aclOfHeaders, aclXml, parseAclXml } from './acl';
import { bucketAclOf, checkAclToStore, checkOwnerObjectAccess, objectAclOf } from './access';
import { BUCKET_PROP, PROP, RESERVED, S3Request, bucketInfo, checkNewBucketName, forgetBucket, forgetOwner, setBucketProperty, readSmallBody, readXml, resolveVersion, sendEmpty, sendXml, versioningOf } from './context';
import { S3Error, S3ErrorCode } from './errors';
import { readTagging } from './object';
import { lockConfigOf, lockedBucketProps } from './object-lock';
import { BucketEncryption, bucketEncryptionOf } from './sse';
import { child, childText, children, doc, el, txt, type XmlNode } from './xml';

/** The bucket a ListBuckets continuation token resumes after (an opaque base64url name). */
function bucketAfter(token: string): string {
  const name = /^[A-Za-z0-9_-]+$/.test(token) ? Buffer.from(token, 'base64url').toString('utf8') : '';
  if (name === '' || Buffer.from(name, 'utf8').toString('base64url') !== token) throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
  return name;
}

/** GET / (prefix, and max-buckets with continuation-token to page) */
export async function listBuckets(r: S3Request): Promise<void> {
  const out: string[] = [];
  const prefix = r.query.get('prefix');
  const maxRaw = r.query.get('max-buckets');
  if (maxRaw !== undefined && (!/^\d{1,5}$/.test(maxRaw) || Number(maxRaw) < 1 || Number(maxRaw) > 10_000)) {
    throw new S3Error('InvalidArgument', 'Argument max-buckets must be an integer between 1 and 10000', { ArgumentName: 'max-buckets', ArgumentValue: maxRaw });
  }
  const max = maxRaw === undefined ? undefined : Number(maxRaw);
  const token = r.query.get('continuation-token');
  let marker = token === undefined ? undefined : bucketAfter(token);
  let last: string | undefined;
  let next: string | undefined;
  pages: for (;;) {
    const page = await r.storage.containerList({ marker, prefix, limit: 1000 }).catch((e: unknown) => {
      if (isNotFound(e) && (e as OioError).code === 'ACCOUNT_NOT_FOUND') return { containers: [], truncated: false, next_marker: undefined };
      throw e;
    });
    for (const c of page.containers) {
      // One more bucket than asked for: the page is truncated after the last one given.
      if (max !== undefined && out.length === max) { next = last; break pages; }
      out.push(el('Bucket', txt('Name', c.name), txt('CreationDate', new Date(Math.floor((c.ctime ?? c.mtime) / 1000) * 1000).toISOString())));
      last = c.name;
    }
    if (!page.truncated || !page.next_marker) break;
    marker = page.next_marker;
  }
  const owner = el('Owner', txt('ID', r.storage.account), txt('DisplayName', r.storage.account));
  const more = next === undefined ? undefined : Buffer.from(next, 'utf8').toString('base64url');
  sendXml(r, 200, doc('ListAllMyBucketsResult', owner, el('Buckets', ...out), txt('ContinuationToken', more), txt('Prefix', prefix)));
}

/** PUT /bucket */
export async function createBucket(r: S3Request): Promise<void> {
  const bucket = r.bucket!;
  checkNewBucketName(bucket);
  const x = await readXml(r, true);
  if (x) {
    if (x.name !== 'CreateBucketConfiguration') throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
    const loc = childText(x, 'LocationConstraint');
    if (loc !== undefined && loc !== '' && loc !== r.gw.region) {
      throw new S3Error('InvalidLocationConstraint', 'The specified location-constraint is not valid', { LocationConstraint: loc });
    }
  }
  const requester = r.requester!;
  const acl = aclOfHeaders((h) => r.header(h), requester, requester);
  const locked = r.header('x-amz-bucket-object-lock-enabled')?.toLowerCase() === 'true';
  const ownership = r.header('x-amz-object-ownership');
  if (ownership !== undefined && !OBJECT_OWNERSHIP.includes(ownership)) throw new S3Error('InvalidArgument', `Invalid x-amz-object-ownership header: ${ownership}`, { ArgumentName: 'x-amz-object-ownership', ArgumentValue: ownership });
  if (acl && ownership === 'BucketOwnerEnforced' && !isPrivate(acl)) throw new S3Error('InvalidBucketAclWithObjectOwnership', 'Bucket cannot have ACLs set with ObjectOwnership\'s BucketOwnerEnforced setting');
  const properties: Record<string, string> = {
    ...(ownership ? { [BUCKET_PROP.ownership]: ownership } : {}), ...(locked ? lockedBucketProps() : {}),
    ...(acl && !isPrivate(acl) ? { [BUCKET_PROP.acl]: JSON.stringify(acl) } : {}),
  };
  // The name first (global namespace), then the container in the requester's account (the
  // bucket's owner when it exists: r.storage is bound to that owner).
  const mine = r.storage.account === requester ? r.storage : r.storage.forAccount(requester, r.reqId);
  const scope = { gw: r.gw, storage: mine, bucket };
  if (acl) await checkAclToStore(r, undefined, acl);
  forgetOwner(r.gw, bucket);
  const held = await mine.bucketReserve(bucket);
  if (held.account !== requester) throw new S3Error('BucketAlreadyExists', 'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.', { BucketName: bucket });
  try {
    await mine.containerCreate(bucket, { properties, ...(locked ? { maxVersions: -1 } : {}) });
  } catch (e) {
    const exists = (e as OioError).code === 'CONTAINER_EXISTS';
    // The container is not there: the name is not kept for nothing (an existing one is ours).
    if (!exists) await mine.bucketRelease(bucket).catch(() => undefined);
    // us-east-1 answers a create of a bucket its caller owns with success (nothing changes);
    // every other region with BucketAlreadyOwnedByYou (S3 CreateBucket errors).
    if (!exists || r.gw.region !== 'us-east-1') throw e;
  } finally {
    forgetBucket(scope);
    forgetOwner(r.gw, bucket);
  }
  sendEmpty(r, 200, { location: `/${bucket}` });
}

/** HEAD /bucket */
export async function headBucket(r: S3Request): Promise<void> {
  await r.storage.containerShow(r.bucket!);
  sendEmpty(r, 200, { 'x-amz-bucket-region': r.gw.region });
}

/** DELETE /bucket: BucketNotEmpty while an object, version or delete marker is left (uploads under way are aborted). */
export async function deleteBucket(r: S3Request): Promise<void> {
  const bucket = r.bucket!;
  try {
    await r.storage.containerDelete(bucket);
  } catch (e) {
    if ((e as OioError).code !== 'CONTAINER_NOT_EMPTY') throw e;
    const page = await r.storage.objectList(bucket, { versions: true, limit: 1 });
    const first = page.objects[0]?.name ?? page.prefixes[0];
    if (first !== undefined && !first.startsWith(RESERVED)) throw new S3Error('BucketNotEmpty', 'The bucket you tried to delete is not empty', { BucketName: bucket });
    // Only multipart uploads under way are left: they go with the bucket.
    await r.storage.containerDelete(bucket, { force: true });
  }
  forgetBucket(r);
  // The container is gone: the name is free for anyone (a failure here leaves the name held by
  // its last owner, who may create the bucket again).
  await r.storage.bucketRelease(bucket).catch((e: unknown) => r.log.warn('bucket name not released', { bucket, err: e as Error }));
  forgetOwner(r.gw, bucket);
  sendEmpty(r, 204);
}

/** GET /bucket?location */
export async function getBucketLocation(r: S3Request): Promise<void> {
  await bucketInfo(r);
  const region = r.gw.region === 'us-east-1' ? '' : r.gw.region;
  sendXml(r, 200, `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${region}</LocationConstraint>`);
}

/** GET /bucket?versioning */
export async function getBucketVersioning(r: S3Request): Promise<void> {
  const state = versioningOf(await bucketInfo(r));
  sendXml(r, 200, doc('VersioningConfiguration', txt('Status', state)));
}

/** PUT /bucket?versioning: Enabled keeps every version; Suspended keeps them and writes "null" versions. */
export async function putBucketVersioning(r: S3Request): Promise<void> {
  const x = await readXml(r);
  if (x!.name !== 'VersioningConfiguration') throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
  const status = childText(x!, 'Status');
  if (childText(x!, 'MfaDelete') === 'Enabled') throw new S3Error('NotImplemented', 'MFA delete is not implemented');
  if (status !== 'Enabled' && status !== 'Suspended') throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
  const info = await bucketInfo(r);
  if (status === 'Suspended' && lockConfigOf(info)) throw new S3Error('InvalidBucketState', 'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.');
  await r.storage.containerSet(r.bucket!, { maxVersions: -1, properties: { [BUCKET_PROP.versioning]: status } });
  forgetBucket(r);
  sendEmpty(r, 200);
}

/** GET /bucket?tagging */
export async function getBucketTagging(r: S3Request): Promise<void> {
  const info = await bucketInfo(r);
  const raw = info.properties[BUCKET_PROP.tagging];
  if (!raw) throw new S3Error('NoSuchTagSet', 'The TagSet does not exist', { BucketName: r.bucket! });
  const tags = [...new URLSearchParams(raw).entries()].sort((a, b) => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])));
  sendXml(r, 200, doc('Tagging', el('TagSet', ...tags.map(([k, v]) => el('Tag', txt('Key', k), txt('Value', v))))));
}

/** PUT /bucket?tagging (at most 50 tags) */
export async function putBucketTagging(r: S3Request): Promise<void> {
  const tags = await readTagging(r, 50);
  await setBucketProperty(r, 'tagging', new URLSearchParams(tags).toString());
  sendEmpty(r, 204);
}

export interface CorsRule { id?: string; origins: string[]; methods: string[]; headers: string[]; expose: string[]; maxAge?: number }
const CORS_METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'];

/** PUT /bucket?cors */
export async function putBucketCors(r: S3Request): Promise<void> {
  const x = await readXml(r);
  if (x!.name !== 'CORSConfiguration') throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
  const rules: CorsRule[] = children(x!, 'CORSRule').map((c) => {
    const texts = (n: string) => children(c, n).map((e) => e.text.trim());
    const methods = texts('AllowedMethod');
    const origins = texts('AllowedOrigin');
    if (!methods.length || !origins.length) throw new S3Error('MalformedXML', 'a CORSRule needs AllowedMethod and AllowedOrigin');
    for (const m of methods) if (!CORS_METHODS.includes(m)) throw new S3Error('InvalidRequest', `Found unsupported HTTP method in CORS config. Unsupported method is ${m}`);
    const maxAge = childText(c, 'MaxAgeSeconds');
    return { id: childText(c, 'ID'), origins, methods, headers: texts('AllowedHeader'), expose: texts('ExposeHeader'), maxAge: maxAge === undefined ? undefined : Number(maxAge) };
  });
  if (!rules.length || rules.length > 100) throw new S3Error('MalformedXML', 'between 1 and 100 CORSRule are needed');
  await setBucketProperty(r, 'cors', JSON.stringify(rules));
  sendEmpty(r, 200);
}

/** GET /bucket?cors */
export async function getBucketCors(r: S3Request): Promise<void> {
  const rules = corsRulesOf((await bucketInfo(r)).properties);
  if (!rules) throw new S3Error('NoSuchCORSConfiguration', 'The CORS configuration does not exist', { BucketName: r.bucket! });
  sendXml(r, 200, doc('CORSConfiguration', ...rules.map((c) => el('CORSRule', txt('ID', c.id),
    ...c.origins.map((o) => txt('AllowedOrigin', o)), ...c.methods.map((m) => txt('AllowedMethod', m)), ...c.headers.map((h) => txt('AllowedHeader', h)),
    ...c.expose.map((h) => txt('ExposeHeader', h)), txt('MaxAgeSeconds', c.maxAge)))));
}

/**
 * Object ownership (access.ts): ObjectWriter (also when unset) gives an object to its writer,
 * BucketOwnerPreferred to the bucket's owner when written with bucket-owner-full-control, and
 * BucketOwnerEnforced disables ACLs (requests that set one: AccessControlListNotSupported), as S3 does.
 */
const OBJECT_OWNERSHIP = ['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter'];
const malformedXml = (): never => { throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema'); };

/** PUT /bucket?ownershipControls */
export async function putOwnershipControls(r: S3Request): Promise<void> {
  const x = (await readXml(r))!;
  const rules = x.name === 'OwnershipControls' ? children(x, 'Rule') : [];
  const value = rules.length === 1 ? childText(rules[0]!, 'ObjectOwnership') : undefined;
  if (value === undefined || !OBJECT_OWNERSHIP.includes(value)) malformedXml();
  await setBucketProperty(r, 'ownership', value!);
  sendEmpty(r, 200);
}

/** GET /bucket?ownershipControls */
export async function getOwnershipControls(r: S3Request): Promise<void> {
  const value = (await bucketInfo(r)).properties[BUCKET_PROP.ownership];
  if (!value) throw new S3Error('OwnershipControlsNotFoundError', 'The bucket ownership controls were not found', { BucketName: r.bucket! });
  sendXml(r, 200, doc('OwnershipControls', el('Rule', txt('ObjectOwnership', value))));
}

/**
 * Refuses a request setting an ACL other than the bucket owner's full control on a bucket whose
 * ownership is BucketOwnerEnforced (ACLs disabled), as S3 does.
 */
export async function checkAclsEnabled(r: S3Request): Promise<void> {
  if ((await bucketInfo(r)).properties[BUCKET_PROP.ownership] === 'BucketOwnerEnforced') {
    throw new S3Error('AccessControlListNotSupported', 'The bucket does not allow ACLs');
  }
}

/**
 * Public access block: kept as JSON and answered back; access.ts and policy.ts apply it
 * (BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets).
 */
const PUBLIC_ACCESS_BLOCK = ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'];

/** PUT /bucket?publicAccessBlock */
export async function putPublicAccessBlock(r: S3Request): Promise<void> {
  const x = (await readXml(r))!;
  if (x.name !== 'PublicAccessBlockConfiguration') malformedXml();
  const conf: Record<string, boolean> = {};
  for (const k of PUBLIC_ACCESS_BLOCK) {
    const v = childText(x, k)?.trim();
    if (v !== undefined && v !== 'true' && v !== 'false') malformedXml();
    conf[k] = v === 'true';
  }
  await setBucketProperty(r, 'publicAccessBlock', JSON.stringify(conf));
  sendEmpty(r, 200);
}

/** GET /bucket?publicAccessBlock */
export async function getPublicAccessBlock(r: S3Request): Promise<void> {
  const raw = (await bucketInfo(r)).properties[BUCKET_PROP.publicAccessBlock];
  if (!raw) throw new S3Error('NoSuchPublicAccessBlockConfiguration', 'The public access block configuration was not found', { BucketName: r.bucket! });
  const conf = JSON.parse(raw) as Record<string, boolean>;
  sendXml(r, 200, doc('PublicAccessBlockConfiguration', ...PUBLIC_ACCESS_BLOCK.map((k) => txt(k, conf[k] === true))));
}

/** DELETE /bucket?tagging, ?cors, ?lifecycle, ?policy, ?encryption, ...: the setting goes (nothing to remove is no error). */
export async function deleteBucketSetting(r: S3Request, prop: keyof typeof BUCKET_PROP): Promise<void> {
  await setBucketProperty(r, prop, '');
  sendEmpty(r, 204);
}

/**
 * Default encryption: SSE-S3 (AES256) for every new object without its own (sse.ts). An
 * aws:kms rule is kept and answered back (tools that apply a whole bucket configuration), but
 * the writes it would encrypt are NotImplemented (sse.ts writeKey): never stored otherwise than
 * it says. AES256 without the gateway's master key is NotImplemented.
 */
export async function putBucketEncryption(r: S3Request): Promise<void> {
  const x = (await readXml(r))!;
  const rules = x.name === 'ServerSideEncryptionConfiguration' ? children(x, 'Rule') : [];
  if (rules.length !== 1) malformedXml();
  const apply = child(rules[0]!, 'ApplyServerSideEncryptionByDefault');
  const algorithm = apply ? childText(apply, 'SSEAlgorithm') : undefined;
  if (algorithm === undefined) malformedXml();
  const kmsKeyId = childText(apply!, 'KMSMasterKeyID');
  if (algorithm !== 'AES256' && algorithm !== 'aws:kms' && algorithm !== 'aws:kms:dsse') malformedXml();
  if (algorithm === 'AES256' && kmsKeyId !== undefined) throw new S3Error('InvalidArgument', 'a KMSMasterKeyID is only allowed with the aws:kms algorithms', { ArgumentName: 'KMSMasterKeyID' });
  if (algorithm === 'AES256' && !r.gw.sseMaster && !r.gw.sseMasterPending) throw new S3Error('NotImplemented', 'server-side encryption with the gateway\'s keys needs the grid\'s master key (s3.sse_key_file)');
  const bucketKey = childText(rules[0]!, 'BucketKeyEnabled');
  const conf: BucketEncryption = { algorithm: algorithm as BucketEncryption['algorithm'], ...(kmsKeyId !== undefined ? { kmsKeyId } : {}), ...(bucketKey !== undefined ? { bucketKey: bucketKey === 'true' } : {}) };
  await setBucketProperty(r, 'encryption', JSON.stringify(conf));
  sendEmpty(r, 200);
}

/** GET /bucket?encryption */
export async function getBucketEncryption(r: S3Request): Promise<void> {
  const conf = bucketEncryptionOf((await bucketInfo(r)).properties);
  if (!conf) throw new S3Error('ServerSideEncryptionConfigurationNotFoundError', 'The server side encryption configuration was not found', { BucketName: r.bucket! });
  sendXml(r, 200, doc('ServerSideEncryptionConfiguration', el('Rule', el('ApplyServerSideEncryptionByDefault', txt('SSEAlgorithm', conf.algorithm), txt('KMSMasterKeyID', conf.kmsKeyId)), txt('BucketKeyEnabled', conf.bucketKey))));
}

/**
 * Bucket sub-resources this gateway cannot configure (their PUT answers NotImplemented). GET
 * answers what S3 answers for a bucket without one, and DELETE, where S3 has it, has nothing
 * to remove. Tools that read every setting of a bucket (Terraform, the consoles) need these.
 */
const UNCONFIGURED: Record<string, { get: S3Error | (() => string); canDelete: boolean; byId?: true }> = (() => {
  const none = (code: S3ErrorCode, message: string) => new S3Error(code, message);
  // Configurations named by an id: listed without one (an empty list), none exists with one.
  const list = (root: string) => ({ get: () => doc(root, txt('IsTruncated', false)), canDelete: true, byId: true as const });
  return {
    website: { get: none('NoSuchWebsiteConfiguration', 'The specified bucket does not have a website configuration'), canDelete: true },
    replication: { get: none('ReplicationConfigurationNotFoundError', 'The replication configuration was not found'), canDelete: true },
    notification: { get: () => doc('NotificationConfiguration'), canDelete: false },
    accelerate: { get: () => doc('AccelerateConfiguration'), canDelete: false },
    requestPayment: { get: () => doc('RequestPaymentConfiguration', txt('Payer', 'BucketOwner')), canDelete: false },
    inventory: list('ListInventoryConfigurationsResult'),
    metrics: list('ListMetricsConfigurationsResult'),
    analytics: list('ListBucketAnalyticsConfigurationResult'),
    'intelligent-tiering': list('ListBucketIntelligentTieringConfigurationsOutput'),
  };
})();

/**
 * GET or DELETE of a sub-resource in UNCONFIGURED; false when this gateway has no answer for
 * it (a PUT, or a DELETE S3 does not have): the caller answers NotImplemented then.
 */
export async function unconfigured(r: S3Request, sub: string, method: string): Promise<boolean> {
  const u = UNCONFIGURED[sub];
  if (!u || (method !== 'GET' && !(method === 'DELETE' && u.canDelete))) return false;
  await bucketInfo(r);
  if (u.byId && (method === 'DELETE' || r.query.has('id'))) throw new S3Error('NoSuchConfiguration', 'The specified configuration does not exist.');
  if (method === 'DELETE') { sendEmpty(r, 204); return true; }
  if (u.get instanceof S3Error) throw new S3Error(u.get.s3Code, u.get.message, { BucketName: r.bucket! });
  sendXml(r, 200, u.get());
  return true;
}

function originMatches(pattern: string, origin: string): boolean {
  if (pattern === '*') return true;
  const i = pattern.indexOf('*');
  return i < 0 ? pattern === origin : origin.startsWith(pattern.slice(0, i)) && origin.endsWith(pattern.slice(i + 1));
}

/**
 * CORS headers of an actual (not preflight) request carrying Origin, from the bucket's rules:
 * the first rule matching the origin and the method, the one the request names in
 * Access-Control-Request-Method if it does, else its own. Errors carry them too.
 */
export function corsRequestHeaders(rules: CorsRule[] | undefined, origin: string | undefined, method: string): Record<string, string> {
  if (!rules || origin === undefined) return {};
  const rule = rules.find((c) => c.methods.includes(method) && c.origins.some((o) => originMatches(o, origin)));
  return rule ? ruleHeaders(rule, origin) : {};
}

/** Sets the CORS headers of an authenticated request (`corsRequestHeaders`). Preflights (OPTIONS) are `corsPreflight`. */
export async function corsHeaders(r: S3Request): Promise<void> {
  const origin = r.header('origin');
  if (origin === undefined || r.bucket === undefined) return;
  const info = await bucketInfo(r).catch(() => undefined);
  const method = r.header('access-control-request-method') ?? r.req.method ?? 'GET';
  for (const [k, v] of Object.entries(corsRequestHeaders(info && corsRulesOf(info.properties), origin, method))) r.res.setHeader(k, v);
}

/** The CORS headers a matching rule grants to `origin` (simple requests and preflights). */
function ruleHeaders(rule: CorsRule, origin: string): Record<string, string> {
  const h: Record<string, string> = {
    'access-control-allow-origin': rule.origins.includes('*') ? '*' : origin,
    'access-control-allow-methods': rule.methods.join(', '),
    vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
  };
  if (rule.expose.length) h['access-control-expose-headers'] = rule.expose.join(', ');
  if (rule.maxAge !== undefined) h['access-control-max-age'] = String(rule.maxAge);
  return h;
}

/** Whether an ACL is its owner's full control alone. */
const isPrivate = (acl: Acl): boolean => acl.grants.length === 1 && acl.grants.every((g) => g.permission === 'FULL_CONTROL' && g.grantee.type === 'CanonicalUser' && g.grantee.id === acl.owner);

/** GET /bucket?acl */
export async function getBucketAcl(r: S3Request): Promise<void> {
  sendXml(r, 200, aclXml(bucketAclOf(await bucketInfo(r), r.storage.account)));
}

/** GET /bucket/key?acl (?versionId: that version's) */
export async function getObjectAcl(r: S3Request): Promise<void> {
  const c = await resolveVersion(r, r.bucket!, r.key!, r.query.get('versionId'));
  if (c.deleted) throw new S3Error(r.query.has('versionId') ? 'MethodNotAllowed' : 'NoSuchKey', r.query.has('versionId') ? 'The specified method is not allowed against this resource.' : 'The specified key does not exist.');
  await checkOwnerObjectAccess(r, c, 'READ_ACP');
  const headers: Record<string, string> = versioningOf(await bucketInfo(r)) !== undefined ? { 'x-amz-version-id': c.properties[PROP.nullVersion] === '1' ? 'null' : String(c.version) } : {};
  sendXml(r, 200, aclXml(objectAclOf(c, r.storage.account)), headers);
}

const MAX_ACL_BODY = 64 * 1024;

/** The ACL a PutBucketAcl / PutObjectAcl asks for (headers or an AccessControlPolicy body), for a resource of `owner`. */
async function askedAcl(r: S3Request, owner: string): Promise<Acl> {
  const fromHeaders = aclOfHeaders((h) => r.header(h), owner, r.storage.account);
  const body = await readSmallBody(r, MAX_ACL_BODY, () => new S3Error('MalformedACLError', 'The XML you provided was not well-formed or did not validate against our published schema'));
  if (fromHeaders && body.trim() !== '') throw new S3Error('UnexpectedContent', 'This request does not support content');
  if (fromHeaders) return fromHeaders;
  if (body.trim() === '') throw new S3Error('MissingSecurityHeader', 'Your request was missing a required header', { MissingHeaderName: 'x-amz-acl' });
  return parseAclXml(body, owner);
}

/**
 * PUT /bucket?acl or /bucket/key?acl (?versionId: that version's): replaces the ACL (the owner
 * stays). Buckets whose ownership is BucketOwnerEnforced take only the owner's full control.
 */
export async function putAcl(r: S3Request): Promise<void> {
  const info = await bucketInfo(r);
  if (r.key === undefined) {
    const acl = await askedAcl(r, r.storage.account);
    // ACLs disabled: only the owner's full control, as bucket-owner-full-control or a document.
    const canned = r.header('x-amz-acl');
    if (info.properties[BUCKET_PROP.ownership] === 'BucketOwnerEnforced' && !(isPrivate(acl) && (canned === undefined || canned === 'bucket-owner-full-control'))) {
      throw new S3Error('AccessControlListNotSupported', 'The bucket does not allow ACLs');
    }
    await checkAclToStore(r, info, acl);
    await setBucketProperty(r, 'acl', isPrivate(acl) ? '' : JSON.stringify(acl));
    sendEmpty(r, 200);
    return;
  }
  const c = await resolveVersion(r, r.bucket!, r.key, r.query.get('versionId'));
  if (c.deleted) throw new S3Error(r.query.has('versionId') ? 'MethodNotAllowed' : 'NoSuchKey', r.query.has('versionId') ? 'The specified method is not allowed against this resource.' : 'The specified key does not exist.');
  await checkOwnerObjectAccess(r, c, 'WRITE_ACP');
  const current = objectAclOf(c, r.storage.account);
  const acl = await askedAcl(r, current.owner);
  if (info.properties[BUCKET_PROP.ownership] === 'BucketOwnerEnforced' && !(isPrivate(acl) && acl.owner === r.storage.account)) throw new S3Error('AccessControlListNotSupported', 'The bucket does not allow ACLs');
  await checkAclToStore(r, info, acl);
  await r.storage.objectSetProperties(r.bucket!, r.key, { [PROP.acl]: JSON.stringify(acl) }, [], c.version);
  sendEmpty(r, 200);
}

function headerAllowed(patterns: string[], header: string): boolean {
  return patterns.some((p) => originMatches(p.toLowerCase(), header));
}

/**
 * The answer to a CORS preflight (OPTIONS with Origin and Access-Control-Request-Method; never
 * signed) from the rules of the bucket: the first rule allowing the origin, the method and
 * every requested header wins, as in S3. Throws the S3 errors S3 answers (AccessForbidden
 * with a `CORSResponse:` message, BadRequest without the needed headers).
 */
export function corsPreflight(rules: CorsRule[] | undefined, req: { origin?: string; method?: string; headers?: string }): Record<string, string> {
  const { origin, method } = req;
  if (!origin) throw new S3Error('BadRequest', 'Insufficient information. Origin request header needed.');
  if (!method) throw new S3Error('BadRequest', 'Invalid Access-Control-Request-Method: null');
  if (!CORS_METHODS.includes(method)) throw new S3Error('BadRequest', `Invalid Access-Control-Request-Method: ${method}`);
  if (!rules) throw new S3Error('AccessForbidden', 'CORSResponse: CORS is not enabled for this bucket.', { Method: method, ResourceType: 'BUCKET' });
  const wanted = (req.headers ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
  const rule = rules.find((c) => c.methods.includes(method) && c.origins.some((o) => originMatches(o, origin)) && wanted.every((h) => headerAllowed(c.headers, h)));
  if (!rule) {
    throw new S3Error('AccessForbidden', 'CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource\'s CORS spec.', { Method: method, ResourceType: 'OBJECT' });
  }
  const h = ruleHeaders(rule, origin);
  if (!rule.origins.includes('*')) h['access-control-allow-credentials'] = 'true';
  if (wanted.length) h['access-control-allow-headers'] = wanted.join(', ');
  return h;
}

/** The CORS rules kept on a container (undefined: none). */
export function corsRulesOf(properties: Record<string, string>): CorsRule[] | undefined {
  const raw = properties[BUCKET_PROP.cors];
  return raw ? JSON.parse(raw) as CorsRule[] : undefined;
}
