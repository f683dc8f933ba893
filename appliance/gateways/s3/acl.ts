/**
 * @module gateways/s3/acl
 * Access control lists of buckets and objects, as S3 documents them: an owner (the canonical
 * user id is the account name) and grants of FULL_CONTROL, READ, WRITE, READ_ACP or WRITE_ACP
 * to a canonical user or to a group (AllUsers, AuthenticatedUsers, LogDelivery). Made from a
 * canned ACL (x-amz-acl), x-amz-grant-* headers or an AccessControlPolicy document, kept as
 * JSON (container property / content property `s3-acl`), answered as XML. No HTTP here, no
 * store: the caller reads and writes (access.ts, bucket.ts, object.ts).
 */
import { S3Error } from './errors';
import { XmlError, child, childText, children, doc, el, parseXml, txt, type XmlNode } from './xml';

export const PERMISSIONS = ['FULL_CONTROL', 'READ', 'WRITE', 'READ_ACP', 'WRITE_ACP'] as const;
export type Permission = typeof PERMISSIONS[number];

export const GROUPS = {
  allUsers: 'http://acs.amazonaws.com/groups/global/AllUsers',
  authenticatedUsers: 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers',
  logDelivery: 'http://acs.amazonaws.com/groups/s3/LogDelivery',
} as const;
const GROUP_URIS: string[] = Object.values(GROUPS);

export type Grantee = { type: 'CanonicalUser'; id: string } | { type: 'Group'; uri: string };
export interface Grant { grantee: Grantee; permission: Permission }
export interface Acl { owner: string; grants: Grant[] }

export const CANNED_ACLS = ['private', 'public-read', 'public-read-write', 'authenticated-read', 'bucket-owner-read', 'bucket-owner-full-control', 'log-delivery-write'];

const user = (id: string, permission: Permission): Grant => ({ grantee: { type: 'CanonicalUser', id }, permission });
const group = (uri: string, permission: Permission): Grant => ({ grantee: { type: 'Group', uri }, permission });

/** The ACL of a resource nobody set one on: its owner's full control. */
export const privateAcl = (owner: string): Acl => ({ owner, grants: [user(owner, 'FULL_CONTROL')] });

/** A canned ACL for a resource of `owner` in a bucket of `bucketOwner`; InvalidArgument when unknown. */
export function cannedAcl(name: string, owner: string, bucketOwner: string): Acl {
  const acl = privateAcl(owner);
  switch (name) {
    case 'private': break;
    case 'public-read': acl.grants.push(group(GROUPS.allUsers, 'READ')); break;
    case 'public-read-write': acl.grants.push(group(GROUPS.allUsers, 'READ'), group(GROUPS.allUsers, 'WRITE')); break;
    case 'authenticated-read': acl.grants.push(group(GROUPS.authenticatedUsers, 'READ')); break;
    case 'bucket-owner-read': if (bucketOwner !== owner) acl.grants.push(user(bucketOwner, 'READ')); break;
    case 'bucket-owner-full-control': if (bucketOwner !== owner) acl.grants.push(user(bucketOwner, 'FULL_CONTROL')); break;
    case 'log-delivery-write': acl.grants.push(group(GROUPS.logDelivery, 'WRITE'), group(GROUPS.logDelivery, 'READ_ACP')); break;
    default: throw new S3Error('InvalidArgument', `Invalid canned ACL: ${name}`, { ArgumentName: 'x-amz-acl', ArgumentValue: name });
  }
  return acl;
}

const GRANT_HEADERS: Array<[string, Permission]> = [
  ['x-amz-grant-full-control', 'FULL_CONTROL'], ['x-amz-grant-read', 'READ'], ['x-amz-grant-write', 'WRITE'],
  ['x-amz-grant-read-acp', 'READ_ACP'], ['x-amz-grant-write-acp', 'WRITE_ACP'],
];

/** One grantee of an x-amz-grant-* header: `id="..."`, `uri="..."` or `emailAddress="..."`. */
function granteeOfHeader(text: string, header: string): Grantee {
  const m = /^\s*(id|uri|emailAddress)\s*=\s*"?([^"]*)"?\s*$/i.exec(text);
  if (!m) throw new S3Error('InvalidArgument', `Invalid grantee in ${header}: ${text}`, { ArgumentName: header, ArgumentValue: text });
  const kind = m[1]!.toLowerCase();
  const v = m[2]!.trim();
  if (kind === 'emailaddress') throw new S3Error('UnresolvableGrantByEmailAddress', 'The e-mail address you provided does not match any account on record.');
  if (kind === 'uri') {
    if (!GROUP_URIS.includes(v)) throw new S3Error('InvalidArgument', `Invalid group uri: ${v}`, { ArgumentName: 'uri', ArgumentValue: v });
    return { type: 'Group', uri: v };
  }
  if (v === '') throw new S3Error('InvalidArgument', 'Invalid id', { ArgumentName: 'id', ArgumentValue: v });
  return { type: 'CanonicalUser', id: v };
}

/**
 * The ACL a request's headers ask for (x-amz-acl or x-amz-grant-*), or undefined when none;
 * InvalidRequest when both are given, InvalidArgument for an unknown canned ACL or grantee.
 * The owner's full control is kept with explicit grants only when they give it.
 */
export function aclOfHeaders(header: (name: string) => string | undefined, owner: string, bucketOwner: string): Acl | undefined {
  const canned = header('x-amz-acl');
  const grants: Grant[] = [];
  for (const [h, permission] of GRANT_HEADERS) {
    const v = header(h);
    if (v === undefined) continue;
    for (const part of v.split(',')) if (part.trim() !== '') grants.push({ grantee: granteeOfHeader(part, h), permission });
  }
  if (canned !== undefined && grants.length > 0) throw new S3Error('InvalidRequest', 'Specifying both Canned ACLs and Header Grants is not allowed');
  if (canned !== undefined) return cannedAcl(canned.trim(), owner, bucketOwner);
  return grants.length > 0 ? { owner, grants } : undefined;
}

const malformedAcl = (): never => { throw new S3Error('MalformedACLError', 'The XML you provided was not well-formed or did not validate against our published schema'); };

/**
 * An AccessControlPolicy document (PutBucketAcl / PutObjectAcl body). MalformedACLError when
 * it is not one, InvalidArgument for an unknown permission or group, AccessDenied when it
 * names another owner than `owner` (the owner of an ACL does not change), UnresolvableGrantByEmailAddress.
 */
export function parseAclXml(body: string | XmlNode, owner: string): Acl {
  let x: XmlNode;
  if (typeof body === 'string') {
    try { x = parseXml(body); } catch (e) { if (e instanceof XmlError) return malformedAcl(); throw e; }
  } else x = body;
  if (x.name !== 'AccessControlPolicy') malformedAcl();
  const o = child(x, 'Owner');
  const ownerId = o ? childText(o, 'ID')?.trim() : undefined;
  if (o && ownerId === undefined) malformedAcl();
  if (ownerId !== undefined && ownerId !== owner) throw new S3Error('AccessDenied', 'Access Denied');
  const list = child(x, 'AccessControlList');
  if (!list) malformedAcl();
  const grants = children(list!, 'Grant').map((g): Grant => {
    const ge = child(g, 'Grantee');
    const permission = childText(g, 'Permission')?.trim();
    if (!ge || permission === undefined) malformedAcl();
    if (!(PERMISSIONS as readonly string[]).includes(permission!)) throw new S3Error('MalformedACLError', `Invalid permission: ${permission}`);
    const type = ge!.attrs.type; // xsi:type (attribute names are kept without their prefix)
    const id = childText(ge!, 'ID')?.trim();
    const uri = childText(ge!, 'URI')?.trim();
    const email = childText(ge!, 'EmailAddress')?.trim();
    if (email !== undefined || type === 'AmazonCustomerByEmail') throw new S3Error('UnresolvableGrantByEmailAddress', 'The e-mail address you provided does not match any account on record.');
    if (uri !== undefined && (type === undefined || type === 'Group')) {
      if (!GROUP_URIS.includes(uri)) throw new S3Error('InvalidArgument', `Invalid group uri: ${uri}`, { ArgumentName: 'uri', ArgumentValue: uri });
      return { grantee: { type: 'Group', uri }, permission: permission as Permission };
    }
    if (id !== undefined && id !== '' && (type === undefined || type === 'CanonicalUser')) return { grantee: { type: 'CanonicalUser', id }, permission: permission as Permission };
    if (type !== undefined && !['CanonicalUser', 'Group', 'AmazonCustomerByEmail'].includes(type)) throw new S3Error('MalformedACLError', `Invalid grantee type: ${type}`);
    if (id === '') throw new S3Error('InvalidArgument', 'Invalid id', { ArgumentName: 'CanonicalUser/ID', ArgumentValue: '' });
    return malformedAcl();
  });
  if (grants.length > 100) throw new S3Error('MalformedACLError', 'An ACL may hold at most 100 grants');
  return { owner, grants };
}

/** The canonical user ids an ACL grants to (to check they exist). */
export const grantedIds = (acl: Acl): string[] => [...new Set(acl.grants.flatMap((g) => (g.grantee.type === 'CanonicalUser' ? [g.grantee.id] : [])))];

/** The AccessControlPolicy document of an ACL (display names are the account names; group grants first, as RGW). */
export function aclXml(acl: Acl): string {
  const ordered = [...acl.grants.filter((g) => g.grantee.type === 'Group'), ...acl.grants.filter((g) => g.grantee.type !== 'Group')];
  const grants = ordered.map((g) => {
    const ge = g.grantee.type === 'CanonicalUser'
      ? `<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">${txt('ID', g.grantee.id)}${txt('DisplayName', g.grantee.id)}</Grantee>`
      : `<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group">${txt('URI', g.grantee.uri)}</Grantee>`;
    return `<Grant>${ge}${txt('Permission', g.permission)}</Grant>`;
  });
  return doc('AccessControlPolicy', el('Owner', txt('ID', acl.owner), txt('DisplayName', acl.owner)), el('AccessControlList', ...grants));
}

/** A stored ACL (JSON), or the owner's full control when absent or unreadable. */
export function storedAcl(raw: string | undefined, defaultOwner: string): Acl {
  if (raw) {
    try {
      const a = JSON.parse(raw) as Acl;
      if (typeof a.owner === 'string' && Array.isArray(a.grants)) return a;
    } catch { /* the owner's full control */ }
  }
  return privateAcl(defaultOwner);
}

/** Whether a grant gives anyone (AllUsers) or any signed requester (AuthenticatedUsers) something. */
const isPublicGrant = (g: Grant) => g.grantee.type === 'Group' && (g.grantee.uri === GROUPS.allUsers || g.grantee.uri === GROUPS.authenticatedUsers);

/** Whether an ACL grants anything to AllUsers or AuthenticatedUsers. */
export const isPublicAcl = (acl: Acl): boolean => acl.grants.some(isPublicGrant);

/**
 * Whether `acl` gives `requester` (an account; undefined: anonymous) `permission` (FULL_CONTROL
 * gives every one). `ignorePublic` (IgnorePublicAcls): AllUsers and AuthenticatedUsers grants count for nothing.
 */
export function aclAllows(acl: Acl, requester: string | undefined, permission: Permission, ignorePublic = false): boolean {
  if (requester !== undefined && requester === acl.owner && (permission === 'READ_ACP' || permission === 'WRITE_ACP')) return true;
  return acl.grants.some((g) => {
    if (g.permission !== permission && g.permission !== 'FULL_CONTROL') return false;
    if (ignorePublic && isPublicGrant(g)) return false;
    if (g.grantee.type === 'CanonicalUser') return requester !== undefined && g.grantee.id === requester;
    if (g.grantee.uri === GROUPS.allUsers) return true;
    if (g.grantee.uri === GROUPS.authenticatedUsers) return requester !== undefined;
    return false;
  });
}
