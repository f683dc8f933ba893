/**
 * @module gateways/s3/access
 * Who may do what, decided once per request before its handler runs (the router's `run`):
 * the requester is the account of the access key, or nobody (anonymous, unsigned).
 *
 * - The bucket's owner may do anything its policy does not Deny (the policy operations never are).
 * - Anyone else: refused by a policy Deny; else let in by a policy Allow naming it (or "*"), or
 *   by the ACLs (acl.ts): bucket READ lists, bucket WRITE writes and deletes objects and runs
 *   multipart uploads, READ_ACP / WRITE_ACP read and write the ACL, object READ reads the
 *   object, FULL_CONTROL gives all of its resource. Every other bucket operation is the owner's.
 * - Public access block: IgnorePublicAcls makes AllUsers / AuthenticatedUsers grants count for
 *   nothing, RestrictPublicBuckets leaves a public policy serving the owner alone (BlockPublicAcls
 *   and BlockPublicPolicy refuse the writes that would make things public: `aclForWrite`, policy.ts).
 * - BucketOwnerEnforced ownership: ACLs are disabled, only the policy lets others in.
 * A copy also needs READ of its source, which may be another account's (r.sourceStorage).
 * The bucket's owner reads another account's object only as its ACL says (checkOwnerObjectAccess).
 */
import { isNotFound } from '../../common';
import type { ContainerInfo, ContentInfo } from '../../common/model';
import { type Acl, type Permission, aclAllows, aclOfHeaders, cannedAcl, grantedIds, isPublicAcl, privateAcl, storedAcl } from './acl';
import { BUCKET_PROP, PROP, S3Request, S3Scope, bucketInfo, bucketJson, bucketOwner, checkBucketName, checkKey, resolveVersion } from './context';
import { S3Error } from './errors';
import { parseCopySource } from './object';
import { POLICY_OPS, actionOf, allows, arnOf, denies, isPublicPolicy, loadConditionContext, statementsOf, type Statement } from './policy';

const accessDenied = (): never => { throw new S3Error('AccessDenied', 'Access Denied'); };

/** What the bucket ACL must grant a non-owner for each operation. */
const BUCKET_PERMS: Record<string, Permission> = {
  ListObjects: 'READ', ListObjectsV2: 'READ', ListObjectVersions: 'READ', ListMultipartUploads: 'READ', HeadBucket: 'READ',
  GetBucketAcl: 'READ_ACP', PutBucketAcl: 'WRITE_ACP',
  PutObject: 'WRITE', PostObject: 'WRITE', CopyObject: 'WRITE', DeleteObject: 'WRITE', DeleteObjects: 'WRITE',
  CreateMultipartUpload: 'WRITE', UploadPart: 'WRITE', UploadPartCopy: 'WRITE', CompleteMultipartUpload: 'WRITE', AbortMultipartUpload: 'WRITE', ListParts: 'WRITE',
};

/** What the object ACL must grant a non-owner of the bucket (FULL_CONTROL: the object's other settings). */
const OBJECT_PERMS: Record<string, Permission> = {
  GetObject: 'READ', HeadObject: 'READ', GetObjectAttributes: 'READ', GetObjectAcl: 'READ_ACP', PutObjectAcl: 'WRITE_ACP',
  GetObjectTagging: 'FULL_CONTROL', PutObjectTagging: 'FULL_CONTROL', DeleteObjectTagging: 'FULL_CONTROL',
  GetObjectRetention: 'FULL_CONTROL', PutObjectRetention: 'FULL_CONTROL', GetObjectLegalHold: 'FULL_CONTROL', PutObjectLegalHold: 'FULL_CONTROL',
};

export interface PublicAccessBlock { BlockPublicAcls?: boolean; IgnorePublicAcls?: boolean; BlockPublicPolicy?: boolean; RestrictPublicBuckets?: boolean }

export const publicAccessBlockOf = (info: ContainerInfo): PublicAccessBlock => bucketJson<PublicAccessBlock>(info.properties, 'publicAccessBlock') ?? {};
const aclsDisabled = (info: ContainerInfo): boolean => info.properties[BUCKET_PROP.ownership] === 'BucketOwnerEnforced';

/** The ACL of a bucket (its owner's full control when none was set). */
export const bucketAclOf = (info: ContainerInfo, owner: string): Acl => storedAcl(info.properties[BUCKET_PROP.acl], owner);

/** The ACL of an object (the bucket owner's full control when none was set: objects written before ACLs, or by the owner). */
export const objectAclOf = (c: ContentInfo, bucketOwner: string): Acl => storedAcl(c.properties[PROP.acl], bucketOwner);

/** Whether a bucket's policy lets `r` in (an Allow; a public one serves the owner alone under RestrictPublicBuckets). */
function policyLetsIn(statements: Statement[] | undefined, block: PublicAccessBlock, r: S3Request, action: string, resource: string): boolean {
  return statements !== undefined && !(block.RestrictPublicBuckets && isPublicPolicy(statements)) && allows(statements, r, action, resource);
}

/** The object a request names, or undefined when there is none (or it is a delete marker). */
async function objectOf(r: S3Scope, bucket: string, key: string, versionId: string | undefined): Promise<ContentInfo | undefined> {
  const c = await resolveVersion(r, bucket, key, versionId).catch((e: unknown) => {
    if (isNotFound(e) || (e instanceof S3Error && e.s3Code === 'NoSuchVersion')) return undefined;
    throw e;
  });
  return c && !c.deleted ? c : undefined;
}

/** AccessDenied unless the requester of `r` may run operation `op` (see the module's doc). */
export async function authorize(r: S3Request, op: string): Promise<void> {
  if (r.bucket === undefined || op === 'CreateBucket') {
    if (r.requester === undefined) accessDenied();
    return;
  }
  const owner = r.storage.account;
  const statements = await statementsOf(r, r.bucket);
  await loadConditionContext(r, statements);
  const action = actionOf(op, r);
  const resource = arnOf(r.bucket, r.key);
  if (r.requester === owner) {
    if (statements && !POLICY_OPS.has(op) && denies(statements, r, action, resource)) accessDenied();
    await authorizeSource(r, op);
    return;
  }
  if (POLICY_OPS.has(op) || op === 'DeleteBucket') accessDenied();
  if (statements && denies(statements, r, action, resource)) accessDenied();
  const info = await bucketInfo(r);
  const block = publicAccessBlockOf(info);
  if (policyLetsIn(statements, block, r, action, resource)) { await authorizeSource(r, op); return; }
  if (!aclsDisabled(info)) {
    const ignore = block.IgnorePublicAcls === true;
    const bucketAcl = bucketAclOf(info, owner);
    const bperm = BUCKET_PERMS[op];
    if (bperm && aclAllows(bucketAcl, r.requester, bperm, ignore)) { await authorizeSource(r, op); return; }
    const operm = OBJECT_PERMS[op];
    if (operm && r.key !== undefined) {
      const c = await objectOf(r, r.bucket, r.key, r.query.get('versionId'));
      // No such object: NoSuchKey for who may list the bucket, AccessDenied for the others (as S3).
      if (!c) { if (aclAllows(bucketAcl, r.requester, 'READ', ignore)) return; accessDenied(); }
      if (aclAllows(objectAclOf(c!, owner), r.requester, operm, ignore)) return;
    }
  }
  accessDenied();
}

/**
 * A copy reads its source, which may be another account's bucket: resolves that account
 * (r.sourceStorage) and checks READ of the source object for a requester who does not own it
 * (its bucket's policy, else the object's ACL).
 */
async function authorizeSource(r: S3Request, op: string): Promise<void> {
  if (op !== 'CopyObject' && op !== 'UploadPartCopy') return;
  const raw = r.header('x-amz-copy-source');
  if (raw === undefined) return;
  const src = parseCopySource(raw);
  checkBucketName(src.bucket);
  checkKey(src.key);
  const srcOwner = (await bucketOwner(r.gw, r.storage, src.bucket)) ?? r.requester ?? r.storage.account;
  const storage = srcOwner === r.storage.account ? r.storage : r.storage.forAccount(srcOwner, r.reqId);
  r.sourceStorage = storage;
  const expected = r.header('x-amz-source-expected-bucket-owner');
  if (expected !== undefined && expected.trim() !== srcOwner) accessDenied();
  if (srcOwner === r.requester) return;
  const scope: S3Scope = { gw: r.gw, storage };
  const statements = await statementsOf(scope, src.bucket);
  const action = src.versionId !== undefined ? 's3:GetObjectVersion' : 's3:GetObject';
  const resource = arnOf(src.bucket, src.key);
  if (statements && denies(statements, r, action, resource)) accessDenied();
  const info = await bucketInfo(scope, src.bucket);
  const block = publicAccessBlockOf(info);
  if (policyLetsIn(statements, block, r, action, resource)) return;
  if (aclsDisabled(info)) accessDenied();
  const c = await objectOf(scope, src.bucket, src.key, src.versionId);
  if (!c || !aclAllows(objectAclOf(c, srcOwner), r.requester, 'READ', block.IgnorePublicAcls === true)) accessDenied();
}

/**
 * The bucket's owner reaches another account's object (written under ObjectWriter ownership)
 * only as its ACL says, as in S3: checked by the handlers that read the object anyway (GET,
 * HEAD, the object ACL operations), so the owner's requests cost no extra lookup.
 */
export async function checkOwnerObjectAccess(r: S3Request, c: ContentInfo, permission: Permission): Promise<void> {
  if (r.requester !== r.storage.account || !c.properties[PROP.acl]) return;
  const acl = objectAclOf(c, r.storage.account);
  if (acl.owner === r.requester || aclAllows(acl, r.requester, permission)) return;
  if (aclsDisabled(await bucketInfo(r))) return;
  accessDenied();
}

/**
 * Checks an ACL about to be stored on a resource of the bucket `info` (none: a new bucket): AccessDenied for a
 * public one under BlockPublicAcls, InvalidArgument for a grant to an account that does not exist.
 */
export async function checkAclToStore(r: S3Request, info: ContainerInfo | undefined, acl: Acl): Promise<void> {
  if (info && publicAccessBlockOf(info).BlockPublicAcls && isPublicAcl(acl)) accessDenied();
  for (const id of grantedIds(acl)) {
    if (id === r.storage.account || id === r.requester) continue;
    const known = await Promise.resolve().then(() => r.storage.forAccount(id).accountShow()).then(() => true, (e: unknown) => {
      const code = (e as { code?: string }).code;
      if (isNotFound(e) || code === 'INVALID_NAME' || code === 'BAD_REQUEST') return false;
      throw e;
    });
    if (!known) throw new S3Error('InvalidArgument', 'Invalid id', { ArgumentName: 'CanonicalUser/ID', ArgumentValue: id });
  }
}

/**
 * The ACL property of an object being written (PutObject, CopyObject, CreateMultipartUpload,
 * a form upload with its `acl` field): the writer owns the object unless the bucket's
 * ownership says the bucket owner does (BucketOwnerEnforced; BucketOwnerPreferred with the
 * bucket-owner-full-control ACL). Nothing is stored for the bucket owner's private objects.
 */
export async function aclForWrite(r: S3Request, formAcl?: string): Promise<Record<string, string>> {
  const bucketOwnerId = r.storage.account;
  const info = await bucketInfo(r);
  if (aclsDisabled(info)) return {};
  const canned = formAcl ?? r.header('x-amz-acl');
  let owner = r.requester ?? bucketOwnerId;
  if (info.properties[BUCKET_PROP.ownership] === 'BucketOwnerPreferred' && canned?.trim() === 'bucket-owner-full-control') owner = bucketOwnerId;
  const asked = formAcl !== undefined ? cannedAcl(formAcl.trim(), owner, bucketOwnerId) : aclOfHeaders((h) => r.header(h), owner, bucketOwnerId);
  if (asked) await checkAclToStore(r, info, asked);
  const acl = asked ?? (owner !== bucketOwnerId ? privateAcl(owner) : undefined);
  return acl ? { [PROP.acl]: JSON.stringify(acl) } : {};
}
