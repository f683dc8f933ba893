/**
 * Unit: request parsing of the S3 gateway: bucket/key from path or Host, key and bucket name
 * rules, Range headers, x-amz-copy-source, and the error table.
 */
import { strict as assert } from 'node:assert';
import { ERROR_CODES } from '../../../../../appliance/common';
import { checkBucketName, checkKey, checkNewBucketName } from '../../../../../appliance/gateways/s3/context';
import { S3Error, S3_ERRORS, S3_OF_CODE, errorXml, toS3Error } from '../../../../../appliance/gateways/s3/errors';
import { parseCopySource, parseRange } from '../../../../../appliance/gateways/s3/object';
import { targetOf } from '../../../../../appliance/gateways/s3/router';
import { OioError } from '../../../../../appliance/common';

const code = (fn: () => unknown): string | undefined => { try { fn(); return undefined; } catch (e) { return (e as S3Error).s3Code; } };

describe('s3/request parsing', () => {
  it('takes bucket and key from the path, or the bucket from a <bucket>.<domain> Host', () => {
    assert.deepEqual(targetOf('/', '127.0.0.1:6007', ['localhost']), { bucket: undefined, key: undefined });
    assert.deepEqual(targetOf('/b', 'h', []), { bucket: 'b', key: undefined });
    assert.deepEqual(targetOf('/b/', 'h', []), { bucket: 'b', key: undefined });
    assert.deepEqual(targetOf('/b/dir/a%20b%2Fc', 'h', []), { bucket: 'b', key: 'dir/a b/c' });
    assert.deepEqual(targetOf('/dir/k', 'photos.localhost:6007', ['localhost']), { bucket: 'photos', key: 'dir/k' });
    assert.deepEqual(targetOf('/', 'photos.s3.example.com', ['s3.example.com']), { bucket: 'photos', key: undefined });
    assert.deepEqual(targetOf('/x/y', 'localhost:6007', ['localhost']), { bucket: 'x', key: 'y' });
    assert.equal(code(() => targetOf('/b/%E0%A4%A', 'h', [])), 'InvalidURI');
  });

  it('refuses keys with NUL, dot segments, "//", the reserved character, or over 1,024 bytes', () => {
    for (const ok of ['a', 'a/b/c.txt', 'dir/', 'a..b', '.hidden', 'é/ü']) assert.equal(code(() => checkKey(ok)), undefined, ok);
    for (const bad of ['a\0b', '../x', 'a/../b', 'a/./b', 'a//b', '.', '\u{10FFFF}mpu/x']) assert.equal(code(() => checkKey(bad)), 'InvalidArgument', JSON.stringify(bad));
    assert.equal(code(() => checkKey('k'.repeat(1025))), 'KeyTooLongError');
  });

  it('applies the S3 bucket naming rules on creation', () => {
    for (const ok of ['abc', 'my-bucket.photos', 'a1b2c3']) assert.equal(code(() => checkNewBucketName(ok)), undefined, ok);
    for (const bad of ['ab', 'Upper', 'under_score', '-start', 'end-', 'a..b', '192.168.1.1', 'a'.repeat(64), 'a.-b']) assert.equal(code(() => checkNewBucketName(bad)), 'InvalidBucketName', bad);
    assert.equal(code(() => checkBucketName('Legacy_Bucket')), undefined);
    assert.equal(code(() => checkBucketName('x')), 'InvalidBucketName');
  });

  it('parses single, suffix and open-ended ranges; ignores what S3 ignores; 416 beyond the end', () => {
    assert.deepEqual(parseRange('bytes=0-9', 100), { start: 0, end: 9 });
    assert.deepEqual(parseRange('bytes=90-200', 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange('bytes=-10', 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange('bytes=-500', 100), { start: 0, end: 99 });
    assert.deepEqual(parseRange('bytes=50-', 100), { start: 50, end: 99 });
    assert.equal(parseRange(undefined, 100), undefined);
    assert.equal(parseRange('bytes=0-1,5-6', 100), undefined);
    assert.equal(parseRange('items=0-1', 100), undefined);
    assert.equal(parseRange('bytes=9-3', 100), undefined);
    assert.equal(code(() => parseRange('bytes=100-', 100)), 'InvalidRange');
    assert.equal(code(() => parseRange('bytes=-0', 100)), 'InvalidRange');
    assert.equal(code(() => parseRange('bytes=0-', 0)), 'InvalidRange');
  });

  it('parses x-amz-copy-source with or without a leading slash, encoding and version id', () => {
    assert.deepEqual(parseCopySource('b/k'), { bucket: 'b', key: 'k', versionId: undefined });
    assert.deepEqual(parseCopySource('/b/dir/a%20b?versionId=123'), { bucket: 'b', key: 'dir/a b', versionId: '123' });
    assert.equal(code(() => parseCopySource('onlybucket')), 'InvalidArgument');
    assert.equal(code(() => parseCopySource('b/')), 'InvalidArgument');
  });

  it('maps every internal code to an S3 error, and answers XML with the RequestId', () => {
    for (const c of Object.keys(ERROR_CODES) as Array<keyof typeof ERROR_CODES>) assert.ok(S3_OF_CODE[c] in S3_ERRORS, c);
    assert.equal(toS3Error(new OioError('CONTAINER_NOT_FOUND', 'x')).err.s3Code, 'NoSuchBucket');
    assert.equal(toS3Error(new OioError('CONTAINER_NOT_EMPTY', 'x')).err.status, 409);
    const internal = toS3Error(new Error('secret internal detail'));
    assert.equal(internal.internal, true);
    assert.ok(!internal.err.message.includes('secret'));
    const xml = errorXml(new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: 'a<b' }), '/b/a<b', 'REQ1');
    assert.match(xml, /<Error><Code>NoSuchKey<\/Code><Message>The specified key does not exist.<\/Message><Key>a&lt;b<\/Key><Resource>\/b\/a&lt;b<\/Resource><RequestId>REQ1<\/RequestId><\/Error>/);
  });
});
