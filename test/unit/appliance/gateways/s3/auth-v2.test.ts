/**
 * Unit: Signature V2 verification. The expected signatures were computed once, independently
 * of this code, with `printf '<StringToSign>' | openssl dgst -sha1 -hmac <secret> -binary |
 * base64` (and Python's hmac), for the requests of the S3 documentation's V2 examples
 * ("Signing and Authenticating REST Requests"): they are the documentation's values.
 */
import { strict as assert } from 'node:assert';
import type { IncomingMessage } from 'node:http';
import { authenticate } from '../../../../../appliance/gateways/s3/auth';
import { canonicalSubResources, stringToSignV2 } from '../../../../../appliance/gateways/s3/auth-v2';
import { S3Error } from '../../../../../appliance/gateways/s3/errors';

const AK = 'AKIAIOSFODNN7EXAMPLE';
const SK = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const lookup = async (k: string) => {
  if (k !== AK) throw new S3Error('InvalidAccessKeyId', 'unknown');
  return { secret: SK, account: 'acct' };
};
const req = (method: string, headers: Array<[string, string]>): IncomingMessage => ({ method, rawHeaders: headers.flat() } as unknown as IncomingMessage);
const at = (date: string) => Date.parse(date);

async function expectS3Error(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof S3Error && e.s3Code === code && (message === undefined || message.test(e.message)));
}

describe('s3/auth-v2: Signature V2', () => {
  // openssl: GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/johnsmith/photos/puppy.jpg -> bWq2s1WEIj+Ydj0vQ697zp+IXMU=
  const GET_DATE = 'Tue, 27 Mar 2007 19:36:42 +0000';
  const get = (sig: string, date = GET_DATE) => req('GET', [['Host', 'johnsmith.s3.amazonaws.com'], ['Date', date], ['Authorization', `AWS ${AK}:${sig}`]]);

  it('verifies the GET Object example (virtual-hosted style)', async () => {
    const a = await authenticate(get('bWq2s1WEIj+Ydj0vQ697zp+IXMU='), '/photos/puppy.jpg', '', lookup, at(GET_DATE), 'johnsmith');
    assert.equal(a.account, 'acct');
    assert.equal(a.accessKey, AK);
    assert.equal(a.sigV2, true);
    assert.equal(a.presigned, false);
    assert.deepEqual(a.payload, { kind: 'unsigned' });
  });

  it('verifies the same request path style, and the PUT example (Content-Type signed)', async () => {
    await authenticate(get('bWq2s1WEIj+Ydj0vQ697zp+IXMU='), '/johnsmith/photos/puppy.jpg', '', lookup, at(GET_DATE));
    // openssl: PUT\n\nimage/jpeg\nTue, 27 Mar 2007 21:15:45 +0000\n/johnsmith/photos/puppy.jpg
    const date = 'Tue, 27 Mar 2007 21:15:45 +0000';
    const put = req('PUT', [['Host', 'johnsmith.s3.amazonaws.com'], ['Content-Type', 'image/jpeg'], ['Content-Length', '94328'], ['Date', date], ['Authorization', `AWS ${AK}:MyyxeRY7whkBe+bq8fHCL/2kKUg=`]]);
    await authenticate(put, '/photos/puppy.jpg', '', lookup, at(date), 'johnsmith');
  });

  it('takes a bucket named alone in the path signed as /bucket/ (botocore signs its virtual-hosted form)', async () => {
    // openssl: PUT\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/johnsmith/
    const r = req('PUT', [['Host', 's3.amazonaws.com'], ['Date', GET_DATE], ['Authorization', `AWS ${AK}:OXbO7vXfDZbqoIyub583vxfx2n0=`]]);
    await authenticate(r, '/johnsmith', '', lookup, at(GET_DATE));
    await authenticate(r, '/johnsmith/', '', lookup, at(GET_DATE));
    await expectS3Error(authenticate(r, '/johnsmith/k', '', lookup, at(GET_DATE)), 'SignatureDoesNotMatch');
  });

  it('signs sub-resources of the query (?acl) and not the other parameters', async () => {
    // openssl: GET\n\n\nTue, 27 Mar 2007 19:44:46 +0000\n/johnsmith/?acl
    const date = 'Tue, 27 Mar 2007 19:44:46 +0000';
    const r = req('GET', [['Host', 'johnsmith.s3.amazonaws.com'], ['Date', date], ['Authorization', `AWS ${AK}:c2WLPFtWHVgbEmeEG93a4cG37dM=`]]);
    await authenticate(r, '/', 'acl', lookup, at(date), 'johnsmith');
    await expectS3Error(authenticate(r, '/', 'cors', lookup, at(date), 'johnsmith'), 'SignatureDoesNotMatch');
    assert.equal(canonicalSubResources('prefix=a&versionId=v%201&acl&max-keys=3&uploads='), '?acl&uploads=&versionId=v 1');
    assert.equal(canonicalSubResources('prefix=photos&max-keys=50'), '');
  });

  it('verifies the DELETE example: x-amz-date signed among the x-amz- headers, the Date line empty', async () => {
    // openssl: DELETE\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\n/johnsmith/photos/puppy.jpg
    const date = 'Tue, 27 Mar 2007 21:20:26 +0000';
    const r = req('DELETE', [['Host', 's3.amazonaws.com'], ['Date', 'Tue, 27 Mar 2007 21:20:27 +0000'], ['x-amz-date', date], ['Authorization', `AWS ${AK}:R4dJ53KECjStyBO5iTBJZ4XVOaI=`]]);
    await authenticate(r, '/johnsmith/photos/puppy.jpg', '', lookup, at(date));
  });

  it('verifies the upload example: Content-MD5, repeated and mixed-case x-amz- headers', async () => {
    // openssl: PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\nTue, 27 Mar 2007 21:06:08 +0000\n
    //   x-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\nx-amz-meta-filechecksum:0x02661779\n
    //   x-amz-meta-reviewedby:joe@johnsmith.net,jane@johnsmith.net\n/static.johnsmith.net/db-backup.dat.gz
    const date = 'Tue, 27 Mar 2007 21:06:08 +0000';
    const h: Array<[string, string]> = [['User-Agent', 'curl/7.15.5'], ['Host', 'static.johnsmith.net:8080'], ['Date', date], ['x-amz-acl', 'public-read'],
      ['content-type', 'application/x-download'], ['Content-MD5', '4gJE4saaMU4BqNR0kLY+lw=='], ['X-Amz-Meta-ReviewedBy', 'joe@johnsmith.net'],
      ['X-Amz-Meta-ReviewedBy', 'jane@johnsmith.net'], ['X-Amz-Meta-FileChecksum', '0x02661779'], ['X-Amz-Meta-ChecksumAlgorithm', 'crc32'],
      ['Content-Disposition', 'attachment; filename=database.dat'], ['Content-Encoding', 'gzip'], ['Content-Length', '5913339'],
      ['Authorization', `AWS ${AK}:ilyl83RwaSoYIEdixDQcA4OnAnc=`]];
    await authenticate(req('PUT', h), '/db-backup.dat.gz', '', lookup, at(date), 'static.johnsmith.net');
    const text = stringToSignV2('PUT', new Map([['content-type', 'a/b'], ['x-amz-b', '2'], ['x-amz-a', '1'], ['x-other', 'no']]), 'D', '/b/k');
    assert.equal(text, 'PUT\n\na/b\nD\nx-amz-a:1\nx-amz-b:2\n/b/k');
  });

  it('verifies the presigned URL example and refuses it once expired', async () => {
    // openssl: GET\n\n\n1175139620\n/johnsmith/photos/puppy.jpg -> NpgCjnDzrM+WFzoENXmpNDUsSn8=
    const q = `AWSAccessKeyId=${AK}&Expires=1175139620&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D`;
    const r = req('GET', [['Host', 'johnsmith.s3.amazonaws.com']]);
    const a = await authenticate(r, '/photos/puppy.jpg', q, lookup, 1175139620_000 - 60_000, 'johnsmith');
    assert.equal(a.presigned, true);
    assert.equal(a.sigV2, true);
    await expectS3Error(authenticate(r, '/photos/puppy.jpg', q, lookup, 1175139620_000 + 1000, 'johnsmith'), 'AccessDenied', /Request has expired/);
    await expectS3Error(authenticate(r, '/photos/puppy.jpg', q.replace('Expires=1175139620', 'Expires=1175139621'), lookup, 1175139620_000, 'johnsmith'), 'SignatureDoesNotMatch');
  });

  it('refuses a wrong signature, an unknown key, a skewed or missing date, a malformed header', async () => {
    await expectS3Error(authenticate(get('bWq2s1WEIj+Ydj0vQ697zp+IXMV='), '/photos/puppy.jpg', '', lookup, at(GET_DATE), 'johnsmith'), 'SignatureDoesNotMatch');
    await expectS3Error(authenticate(get('bWq2s1WEIj+Ydj0vQ697zp+IXMU='), '/photos/kitten.jpg', '', lookup, at(GET_DATE), 'johnsmith'), 'SignatureDoesNotMatch');
    await expectS3Error(authenticate(get('bWq2s1WEIj+Ydj0vQ697zp+IXMU='), '/photos/puppy.jpg', '', lookup, at(GET_DATE) + 16 * 60_000, 'johnsmith'), 'RequestTimeTooSkewed');
    await authenticate(get('bWq2s1WEIj+Ydj0vQ697zp+IXMU='), '/photos/puppy.jpg', '', lookup, at(GET_DATE) + 14 * 60_000, 'johnsmith');
    const unknown = req('GET', [['Host', 'x'], ['Date', GET_DATE], ['Authorization', 'AWS NOPE:bWq2s1WEIj+Ydj0vQ697zp+IXMU=']]);
    await expectS3Error(authenticate(unknown, '/', '', lookup, at(GET_DATE)), 'InvalidAccessKeyId');
    await expectS3Error(authenticate(req('GET', [['Host', 'x'], ['Authorization', `AWS ${AK}:x`]]), '/', '', lookup, at(GET_DATE)), 'AccessDenied');
    await expectS3Error(authenticate(req('GET', [['Host', 'x'], ['Date', GET_DATE], ['Authorization', 'AWS nocolon']]), '/', '', lookup, at(GET_DATE)), 'InvalidArgument');
  });
});
