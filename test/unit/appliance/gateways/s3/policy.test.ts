/**
 * Unit tests of bucket policies: what a document may say (MalformedPolicy, NotImplemented), and
 * how Deny and Allow statements match a request: principal (the account, one of its users, anyone),
 * action and resource wildcards, NotAction, and the conditions on transport, source address,
 * prefix and encryption header.
 */
import { strict as assert } from 'node:assert';
import type { S3Request } from '../../../../../appliance/gateways/s3/context';
import { S3Error } from '../../../../../appliance/gateways/s3/errors';
import { allows, denies, isPublicPolicy, parsePolicy } from '../../../../../appliance/gateways/s3/policy';

/** Just what evaluation reads of a request. */
function request(o: { requester?: string | null; accessKey?: string; sigV2?: boolean; ip?: string; tls?: boolean; headers?: Record<string, string>; query?: Record<string, string> } = {}): S3Request {
  return {
    storage: { account: 'acct' },
    requester: o.requester === null ? undefined : o.requester ?? 'acct',
    auth: o.requester === null ? { accessKey: '', anonymous: true, scope: '' } : { accessKey: o.accessKey ?? 'owner-key', sigV2: o.sigV2, scope: o.sigV2 ? '' : '20130524/us-east-1/s3/aws4_request' },
    req: { socket: { remoteAddress: o.ip ?? '::ffff:10.1.2.3', encrypted: o.tls ?? false } },
    query: new Map(Object.entries(o.query ?? {})),
    header: (n: string) => o.headers?.[n],
  } as unknown as S3Request;
}

const policy = (...Statement: unknown[]) => parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement }), 'bkt');
const deny = (extra: Record<string, unknown>) => ({ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: ['arn:aws:s3:::bkt', 'arn:aws:s3:::bkt/*'], ...extra });
const obj = (key: string) => `arn:aws:s3:::bkt/${key}`;

function refused(doc: unknown, code: string): void {
  assert.throws(() => parsePolicy(typeof doc === 'string' ? doc : JSON.stringify(doc), 'bkt'), (e: unknown) => e instanceof S3Error && e.s3Code === code, `${code} for ${JSON.stringify(doc)}`);
}

describe('s3/policy: bucket policies', () => {
  it('matches actions and resources with wildcards, and NotAction', () => {
    const p = policy(deny({ Action: 's3:Delete*', Resource: 'arn:aws:s3:::bkt/logs/*' }), deny({ Action: undefined, NotAction: ['s3:Get*', 's3:List*'], Resource: 'arn:aws:s3:::bkt/ro/?' }));
    const r = request();
    assert.equal(denies(p, r, 's3:DeleteObject', obj('logs/a/b')), true);
    assert.equal(denies(p, r, 's3:deleteobjectversion', obj('logs/x')), true);
    assert.equal(denies(p, r, 's3:DeleteObject', obj('other/x')), false);
    assert.equal(denies(p, r, 's3:PutObject', obj('ro/x')), true);
    assert.equal(denies(p, r, 's3:GetObject', obj('ro/x')), false);
    assert.equal(denies(p, r, 's3:PutObject', obj('ro/xy')), false);
  });

  it('matches principals: anyone, the account, one of its users', () => {
    const p = policy(deny({ Principal: { AWS: ['arn:aws:iam::acct:user/backup'] } }));
    assert.equal(denies(p, request({ accessKey: 'backup' }), 's3:GetObject', obj('k')), true);
    assert.equal(denies(p, request(), 's3:GetObject', obj('k')), false);
    const all = policy(deny({ Principal: { AWS: 'arn:aws:iam::acct:root' } }));
    assert.equal(denies(all, request({ accessKey: 'anyone-of-acct' }), 's3:GetObject', obj('k')), true);
  });

  it('evaluates conditions: transport, source address, prefix, encryption header', () => {
    const tls = policy(deny({ Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    assert.equal(denies(tls, request(), 's3:GetObject', obj('k')), true);
    assert.equal(denies(tls, request({ tls: true }), 's3:GetObject', obj('k')), false);
    const lan = policy(deny({ Condition: { NotIpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '2001:db8::/32'] } } }));
    assert.equal(denies(lan, request({ ip: '::ffff:10.9.9.9' }), 's3:GetObject', obj('k')), false);
    assert.equal(denies(lan, request({ ip: '192.168.1.5' }), 's3:GetObject', obj('k')), true);
    assert.equal(denies(lan, request({ ip: '2001:db8::5' }), 's3:GetObject', obj('k')), false);
    const prefix = policy(deny({ Action: 's3:ListBucket', Condition: { StringNotLike: { 's3:prefix': ['home/*'] } } }));
    assert.equal(denies(prefix, request({ query: { prefix: 'home/me/' } }), 's3:ListBucket', 'arn:aws:s3:::bkt'), false);
    assert.equal(denies(prefix, request({ query: { prefix: 'etc/' } }), 's3:ListBucket', 'arn:aws:s3:::bkt'), true);
    assert.equal(denies(prefix, request(), 's3:ListBucket', 'arn:aws:s3:::bkt'), true);
    const sealed = policy(deny({ Action: 's3:PutObject', Condition: { Null: { 's3:x-amz-server-side-encryption': 'true' } } }));
    assert.equal(denies(sealed, request(), 's3:PutObject', obj('k')), true);
    assert.equal(denies(sealed, request({ headers: { 'x-amz-server-side-encryption': 'AES256' } }), 's3:PutObject', obj('k')), false);
    const customer = policy(deny({ Action: 's3:PutObject', Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption-customer-algorithm': 'AES256' } } }));
    assert.equal(denies(customer, request(), 's3:PutObject', obj('k')), true);
    assert.equal(denies(customer, request({ headers: { 'x-amz-server-side-encryption-customer-algorithm': 'AES256' } }), 's3:PutObject', obj('k')), false);
  });

  it('evaluates ...IfExists, Numeric operators, request headers and the tags a request sets', () => {
    // An ...IfExists condition holds when the key is absent: uploads without a storage class are denied too.
    const sc = policy(deny({ Action: 's3:PutObject', Condition: { StringNotEqualsIfExists: { 's3:x-amz-storage-class': 'STANDARD' } } }));
    assert.equal(denies(sc, request(), 's3:PutObject', obj('k')), true);
    assert.equal(denies(sc, request({ headers: { 'x-amz-storage-class': 'STANDARD' } }), 's3:PutObject', obj('k')), false);
    assert.equal(denies(sc, request({ headers: { 'x-amz-storage-class': 'GLACIER' } }), 's3:PutObject', obj('k')), true);
    const keys = policy(deny({ Action: 's3:ListBucket', Condition: { NumericGreaterThan: { 's3:max-keys': '100' } } }));
    assert.equal(denies(keys, request({ query: { 'max-keys': '1000' } }), 's3:ListBucket', 'arn:aws:s3:::bkt'), true);
    assert.equal(denies(keys, request({ query: { 'max-keys': '10' } }), 's3:ListBucket', 'arn:aws:s3:::bkt'), false);
    assert.equal(denies(keys, request(), 's3:ListBucket', 'arn:aws:s3:::bkt'), false);
    const acl = policy(deny({ Action: 's3:PutObject', Condition: { StringEquals: { 's3:x-amz-acl': ['public-read', 'public-read-write'] } } }));
    assert.equal(denies(acl, request({ headers: { 'x-amz-acl': 'public-read' } }), 's3:PutObject', obj('k')), true);
    assert.equal(denies(acl, request({ headers: { 'x-amz-acl': 'private' } }), 's3:PutObject', obj('k')), false);
    const sseC = policy(deny({ Action: 's3:PutObject', Condition: { Null: { 's3:x-amz-server-side-encryption-customer-algorithm': 'true' } } }));
    assert.equal(denies(sseC, request(), 's3:PutObject', obj('k')), true);
    assert.equal(denies(sseC, request({ headers: { 'x-amz-server-side-encryption-customer-algorithm': 'AES256' } }), 's3:PutObject', obj('k')), false);
    // Tag keys keep their case; the tag comes from x-amz-tagging (URL-encoded).
    const tag = policy(deny({ Action: 's3:PutObject', Condition: { StringNotEquals: { 's3:RequestObjectTag/Project': 'Apollo' } } }));
    assert.equal(denies(tag, request({ headers: { 'x-amz-tagging': 'Project=Apollo&x=1' } }), 's3:PutObject', obj('k')), false);
    assert.equal(denies(tag, request({ headers: { 'x-amz-tagging': 'project=Apollo' } }), 's3:PutObject', obj('k')), true);
    assert.equal(denies(tag, request(), 's3:PutObject', obj('k')), true);
    // s3:signatureversion: AWS (V2) or AWS4-HMAC-SHA256; absent for an anonymous request.
    const v4only = policy(deny({ Condition: { StringNotEquals: { 's3:signatureversion': 'AWS4-HMAC-SHA256' } } }));
    assert.equal(denies(v4only, request(), 's3:GetObject', obj('k')), false);
    assert.equal(denies(v4only, request({ sigV2: true }), 's3:GetObject', obj('k')), true);
    const signed = policy(deny({ Condition: { Null: { 's3:signatureversion': 'true' } } }));
    assert.equal(denies(signed, request({ requester: null }), 's3:GetObject', obj('k')), true);
    assert.equal(denies(signed, request({ sigV2: true }), 's3:GetObject', obj('k')), false);
    refused({ Statement: [deny({ Condition: { NumericLessThan: { 's3:max-keys': 'ten' } } })] }, 'MalformedPolicy');
    refused({ Statement: [deny({ Condition: { NullIfExists: { 's3:prefix': 'true' } } })] }, 'NotImplemented');
    refused({ Statement: [deny({ Condition: { StringEquals: { 's3:ExistingObjectTag/': 'x' } } })] }, 'NotImplemented');
  });

  it('allows other accounts and anyone by Allow statements; public policies are told apart', () => {
    const allow = (extra: Record<string, unknown>) => ({ ...deny({}), Effect: 'Allow', ...extra });
    const cross = policy(allow({ Principal: { AWS: ['arn:aws:iam::other:root'] }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::bkt/*' }));
    assert.equal(allows(cross, request({ requester: 'other' }), 's3:GetObject', obj('k')), true);
    assert.equal(allows(cross, request({ requester: 'third' }), 's3:GetObject', obj('k')), false);
    assert.equal(allows(cross, request({ requester: null }), 's3:GetObject', obj('k')), false);
    assert.equal(allows(cross, request({ requester: 'other' }), 's3:PutObject', obj('k')), false);
    assert.equal(isPublicPolicy(cross), false);
    const pub = policy(allow({ Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::bkt/*' }));
    assert.equal(allows(pub, request({ requester: null }), 's3:GetObject', obj('k')), true);
    assert.equal(isPublicPolicy(pub), true);
    const lan = policy(allow({ Principal: { AWS: '*' }, Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }));
    assert.equal(isPublicPolicy(lan), false);
    assert.equal(allows(lan, request({ requester: null }), 's3:GetObject', obj('k')), true);
    assert.equal(allows(lan, request({ requester: null, ip: '192.168.1.1' }), 's3:GetObject', obj('k')), false);
    // Request headers as condition keys, and the IfExists forms.
    const noPublicAcl = policy(deny({ Action: 's3:PutObject', Condition: { StringEquals: { 's3:x-amz-acl': 'public-read' } } }));
    assert.equal(denies(noPublicAcl, request({ headers: { 'x-amz-acl': 'public-read' } }), 's3:PutObject', obj('k')), true);
    assert.equal(denies(noPublicAcl, request(), 's3:PutObject', obj('k')), false);
    const ifExists = policy(allow({ Principal: '*', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::bkt', Condition: { StringLikeIfExists: { 's3:prefix': 'pub/*' } } }));
    assert.equal(allows(ifExists, request({ requester: null }), 's3:ListBucket', 'arn:aws:s3:::bkt'), true);
    assert.equal(allows(ifExists, request({ requester: null, query: { prefix: 'pub/x' } }), 's3:ListBucket', 'arn:aws:s3:::bkt'), true);
    assert.equal(allows(ifExists, request({ requester: null, query: { prefix: 'priv/x' } }), 's3:ListBucket', 'arn:aws:s3:::bkt'), false);
    // A Deny to "*" covers anonymous requesters too.
    assert.equal(denies(policy(deny({})), request({ requester: null }), 's3:GetObject', obj('k')), true);
  });

  it('refuses what it cannot keep or read', () => {
    refused('{"Statement": [', 'MalformedPolicy');
    refused({ Version: '2012-10-17', Statement: [] }, 'MalformedPolicy');
    refused({ Statement: [deny({ Effect: 'Maybe' })] }, 'MalformedPolicy');
    refused({ Statement: [deny({ Action: 'ec2:*' })] }, 'MalformedPolicy');
    refused({ Statement: [deny({ Resource: 'arn:aws:s3:::other/*' })] }, 'MalformedPolicy');
    refused({ Statement: [deny({ Sid: 'a' }), deny({ Sid: 'a' })] }, 'MalformedPolicy');
    refused({ Statement: [deny({ Condition: { IpAddress: { 'aws:SourceIp': 'not-an-ip' } } })] }, 'MalformedPolicy');
    refused({ Statement: [deny({ Condition: { DateGreaterThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } } })] }, 'NotImplemented');
    // Service principals (log delivery, logging-policy.ts): only the conditions it evaluates.
    refused({ Statement: [deny({ Principal: { Service: 'logging.s3.amazonaws.com' }, Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } })] }, 'NotImplemented');
    assert.equal(parsePolicy(JSON.stringify({ Statement: [deny({ Principal: { Service: 'logging.s3.amazonaws.com' } })] }), 'bkt').length, 1);
    assert.equal(parsePolicy(JSON.stringify({ Statement: [{ ...deny({}), Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::acct:root' } }] }), 'bkt').length, 1);
  });
});
