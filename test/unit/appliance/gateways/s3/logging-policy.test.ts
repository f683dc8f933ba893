/**
 * Unit: whether a target bucket's policy lets S3 deliver server access logs (the service
 * principal logging.s3.amazonaws.com, s3:PutObject under the prefix, aws:SourceArn and
 * aws:SourceAccount conditions, a matching Deny winning).
 */
import { strict as assert } from 'node:assert';
import { allowsLogDelivery } from '../../../../../appliance/gateways/s3/logging-policy';

const d = { targetBucket: 'logs', prefix: 'log/', sourceBucket: 'src', sourceAccount: 'acct' };
const statement = (over: Record<string, unknown> = {}) => ({
  Effect: 'Allow', Principal: { Service: 'logging.s3.amazonaws.com' }, Action: ['s3:PutObject'], Resource: 'arn:aws:s3:::logs/log/',
  Condition: { ArnLike: { 'aws:SourceArn': 'arn:aws:s3:::src' }, StringEquals: { 'aws:SourceAccount': 'acct' } }, ...over,
});
const allows = (...statements: unknown[]) => allowsLogDelivery(JSON.stringify({ Version: '2012-10-17', Statement: statements }), d);

describe('s3/logging-policy: log delivery permission', () => {
  it('allows the service for the source bucket and account under the prefix', () => {
    assert.equal(allows(statement()), true);
    assert.equal(allows(statement({ Resource: 'arn:aws:s3:::logs/log/*' })), true);
    assert.equal(allows(statement({ Resource: 'arn:aws:s3:::logs/*', Action: 's3:*', Condition: undefined })), true);
    assert.equal(allows(statement({ Condition: { ArnLike: { 'aws:SourceArn': 'arn:aws:s3:::*' }, StringLike: { 'aws:SourceAccount': '*' } } })), true);
    assert.equal(allows(statement({ Principal: { Service: ['other.amazonaws.com', 'logging.s3.amazonaws.com'] } })), true);
  });

  it('refuses without a policy, another principal, action, resource, source or account, or with a Deny', () => {
    assert.equal(allowsLogDelivery(undefined, d), false);
    assert.equal(allowsLogDelivery('not json', d), false);
    assert.equal(allows(statement({ Principal: { AWS: '*' } })), false);
    assert.equal(allows(statement({ Principal: { Service: 'logging.s3.amazonaws.comkaboom' } })), false);
    assert.equal(allows(statement({ Action: ['s3:GetObject'] })), false);
    assert.equal(allows(statement({ Resource: 'arn:aws:s3:::logs/kaboom' })), false);
    assert.equal(allows(statement({ Resource: 'arn:aws:s3:::other/log/*' })), false);
    assert.equal(allows(statement({ Condition: { ArnLike: { 'aws:SourceArn': 'arn:aws:s3:::kaboom' } } })), false);
    assert.equal(allows(statement({ Condition: { StringEquals: { 'aws:SourceAccount': 'kaboom' } } })), false);
    assert.equal(allows(statement({ Condition: { StringNotEquals: { 'aws:SourceAccount': 'acct' } } })), false);
    assert.equal(allows(statement({ Condition: { StringEquals: { 'aws:SourceIp': '1.2.3.4' } } })), false, 'an unknown key never holds');
    assert.equal(allows(statement(), statement({ Effect: 'Deny', Condition: undefined })), false);
  });
});
