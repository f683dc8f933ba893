/**
 * Unit tests of ACLs (acl.ts): canned ACLs, x-amz-grant-* headers, AccessControlPolicy
 * documents (and their errors), the XML answered, and what a grant allows to whom.
 */
import { strict as assert } from 'node:assert';
import { GROUPS, aclAllows, aclOfHeaders, aclXml, cannedAcl, isPublicAcl, parseAclXml, privateAcl, storedAcl } from '../../../../../appliance/gateways/s3/acl';
import { S3Error } from '../../../../../appliance/gateways/s3/errors';

const code = (fn: () => unknown): string | undefined => { try { fn(); return undefined; } catch (e) { return e instanceof S3Error ? e.s3Code : String(e); } };
const headers = (h: Record<string, string>) => (name: string) => h[name];
const policyXml = (owner: string | undefined, grants: string) => `<?xml version="1.0"?><AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${owner === undefined ? '' : `<Owner><ID>${owner}</ID></Owner>`}<AccessControlList>${grants}</AccessControlList></AccessControlPolicy>`;
const userGrant = (id: string, perm: string) => `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>${id}</ID></Grantee><Permission>${perm}</Permission></Grant>`;
const groupGrant = (uri: string, perm: string) => `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>${uri}</URI></Grantee><Permission>${perm}</Permission></Grant>`;

describe('s3/acl: access control lists', () => {
  it('makes the canned ACLs', () => {
    assert.deepEqual(cannedAcl('private', 'alice', 'alice'), privateAcl('alice'));
    const pr = cannedAcl('public-read', 'alice', 'alice');
    assert.equal(pr.grants.length, 2);
    assert.ok(isPublicAcl(pr));
    assert.deepEqual(cannedAcl('public-read-write', 'a', 'a').grants.map((g) => g.permission), ['FULL_CONTROL', 'READ', 'WRITE']);
    assert.ok(isPublicAcl(cannedAcl('authenticated-read', 'a', 'a')));
    assert.deepEqual(cannedAcl('bucket-owner-full-control', 'bob', 'alice').grants[1], { grantee: { type: 'CanonicalUser', id: 'alice' }, permission: 'FULL_CONTROL' });
    assert.equal(cannedAcl('bucket-owner-read', 'alice', 'alice').grants.length, 1);
    assert.deepEqual(cannedAcl('log-delivery-write', 'a', 'a').grants.slice(1).map((g) => g.permission), ['WRITE', 'READ_ACP']);
    assert.equal(code(() => cannedAcl('public-everything', 'a', 'a')), 'InvalidArgument');
  });

  it('reads x-amz-grant-* headers, refusing bad grantees and a mix with x-amz-acl', () => {
    const acl = aclOfHeaders(headers({ 'x-amz-grant-read': `id="bob", uri="${GROUPS.allUsers}"`, 'x-amz-grant-write-acp': 'id=carol' }), 'alice', 'alice')!;
    assert.deepEqual(acl, { owner: 'alice', grants: [
      { grantee: { type: 'CanonicalUser', id: 'bob' }, permission: 'READ' },
      { grantee: { type: 'Group', uri: GROUPS.allUsers }, permission: 'READ' },
      { grantee: { type: 'CanonicalUser', id: 'carol' }, permission: 'WRITE_ACP' },
    ] });
    assert.equal(aclOfHeaders(headers({}), 'a', 'a'), undefined);
    assert.equal(code(() => aclOfHeaders(headers({ 'x-amz-acl': 'private', 'x-amz-grant-read': 'id=bob' }), 'a', 'a')), 'InvalidRequest');
    assert.equal(code(() => aclOfHeaders(headers({ 'x-amz-grant-read': 'emailAddress="bob@example.com"' }), 'a', 'a')), 'UnresolvableGrantByEmailAddress');
    assert.equal(code(() => aclOfHeaders(headers({ 'x-amz-grant-read': 'uri="http://example.com/group"' }), 'a', 'a')), 'InvalidArgument');
    assert.equal(code(() => aclOfHeaders(headers({ 'x-amz-grant-read': 'bob' }), 'a', 'a')), 'InvalidArgument');
  });

  it('parses an AccessControlPolicy and answers it back', () => {
    const acl = parseAclXml(policyXml('alice', userGrant('alice', 'FULL_CONTROL') + userGrant('bob', 'READ') + groupGrant(GROUPS.authenticatedUsers, 'READ_ACP')), 'alice');
    assert.equal(acl.grants.length, 3);
    assert.deepEqual(acl.grants[2], { grantee: { type: 'Group', uri: GROUPS.authenticatedUsers }, permission: 'READ_ACP' });
    // Answered with group grants first (as RGW, which s3-tests expect).
    const again = parseAclXml(aclXml(acl), 'alice');
    assert.deepEqual(again, { owner: 'alice', grants: [acl.grants[2], acl.grants[0], acl.grants[1]] });
    assert.match(aclXml(acl), /<Owner><ID>alice<\/ID><DisplayName>alice<\/DisplayName><\/Owner>/);
    // No Owner element: the resource's owner stays.
    assert.equal(parseAclXml(policyXml(undefined, userGrant('bob', 'WRITE')), 'alice').owner, 'alice');
  });

  it('refuses malformed documents, unknown permissions, groups and another owner', () => {
    assert.equal(code(() => parseAclXml('<AccessControlPolicy><Owner>', 'a')), 'MalformedACLError');
    assert.equal(code(() => parseAclXml('<Other/>', 'a')), 'MalformedACLError');
    assert.equal(code(() => parseAclXml('<AccessControlPolicy><Owner><ID>a</ID></Owner></AccessControlPolicy>', 'a')), 'MalformedACLError');
    assert.equal(code(() => parseAclXml(policyXml('a', userGrant('b', 'EVERYTHING')), 'a')), 'MalformedACLError');
    assert.equal(code(() => parseAclXml(policyXml('a', groupGrant('http://example.com/g', 'READ')), 'a')), 'InvalidArgument');
    assert.equal(code(() => parseAclXml(policyXml('mallory', userGrant('mallory', 'FULL_CONTROL')), 'a')), 'AccessDenied');
    assert.equal(code(() => parseAclXml(policyXml('a', '<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="AmazonCustomerByEmail"><EmailAddress>x@y</EmailAddress></Grantee><Permission>READ</Permission></Grant>'), 'a')), 'UnresolvableGrantByEmailAddress');
  });

  it('evaluates grants: users, groups, FULL_CONTROL, the owner\'s ACP, IgnorePublicAcls', () => {
    const acl = { owner: 'alice', grants: [
      { grantee: { type: 'CanonicalUser' as const, id: 'alice' }, permission: 'FULL_CONTROL' as const },
      { grantee: { type: 'CanonicalUser' as const, id: 'bob' }, permission: 'WRITE' as const },
      { grantee: { type: 'Group' as const, uri: GROUPS.allUsers }, permission: 'READ' as const },
      { grantee: { type: 'Group' as const, uri: GROUPS.authenticatedUsers }, permission: 'READ_ACP' as const },
    ] };
    assert.ok(aclAllows(acl, 'alice', 'WRITE_ACP'));
    assert.ok(aclAllows(acl, 'bob', 'WRITE'));
    assert.ok(!aclAllows(acl, 'bob', 'WRITE_ACP'));
    assert.ok(aclAllows(acl, undefined, 'READ'));
    assert.ok(!aclAllows(acl, undefined, 'READ', true));
    assert.ok(!aclAllows(acl, undefined, 'READ_ACP'));
    assert.ok(aclAllows(acl, 'carol', 'READ_ACP'));
    assert.ok(!aclAllows(acl, 'carol', 'READ_ACP', true));
    // The owner reads and writes its ACL even with no grant left.
    assert.ok(aclAllows({ owner: 'alice', grants: [] }, 'alice', 'READ_ACP'));
    assert.ok(!aclAllows({ owner: 'alice', grants: [] }, 'alice', 'READ'));
  });

  it('reads a stored ACL, the owner\'s full control when absent or unreadable', () => {
    assert.deepEqual(storedAcl(undefined, 'alice'), privateAcl('alice'));
    assert.deepEqual(storedAcl('{not json', 'alice'), privateAcl('alice'));
    const acl = cannedAcl('public-read', 'bob', 'alice');
    assert.deepEqual(storedAcl(JSON.stringify(acl), 'alice'), acl);
  });
});
