/**
 * Unit: SigV4 verification against the examples of the AWS S3 documentation ("Signature
 * Calculations for the Authorization Header", "Authenticating Requests: Using Query
 * Parameters", "Transferring Payload in Multiple Chunks"), and the refusals.
 */
import { strict as assert } from 'node:assert';
import type { IncomingMessage } from 'node:http';
import { authenticate, deriveSigningKey, signHex, chunkStringToSign, EMPTY_SHA256, sha256Hex, uriEncode } from '../../../../../appliance/gateways/s3/auth';
import { S3Error } from '../../../../../appliance/gateways/s3/errors';

const AK = 'AKIAIOSFODNN7EXAMPLE';
const SK = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const NOW = Date.UTC(2013, 4, 24, 0, 0, 0);
const lookup = async (k: string) => {
  if (k !== AK) throw new S3Error('InvalidAccessKeyId', 'unknown');
  return { secret: SK, account: 'acct' };
};

function req(method: string, headers: Array<[string, string]>): IncomingMessage {
  return { method, rawHeaders: headers.flat() } as unknown as IncomingMessage;
}

const auth = (sig: string, signed: string) => `AWS4-HMAC-SHA256 Credential=${AK}/20130524/us-east-1/s3/aws4_request,SignedHeaders=${signed},Signature=${sig}`;

async function expectS3Error(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof S3Error && e.s3Code === code);
}

describe('s3/auth: Signature V4', () => {
  it('verifies the GET Object example (Range header signed)', async () => {
    const r = req('GET', [['Host', 'examplebucket.s3.amazonaws.com'], ['Range', 'bytes=0-9'], ['x-amz-content-sha256', EMPTY_SHA256], ['x-amz-date', '20130524T000000Z'],
      ['Authorization', auth('f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41', 'host;range;x-amz-content-sha256;x-amz-date')]]);
    const a = await authenticate(r, '/test.txt', '', lookup, NOW);
    assert.equal(a.account, 'acct');
    assert.deepEqual(a.payload, { kind: 'sha256', hex: EMPTY_SHA256 });
  });

  it('verifies the PUT Object example ($ in the key, Date header, storage class)', async () => {
    const r = req('PUT', [['Host', 'examplebucket.s3.amazonaws.com'], ['Date', 'Fri, 24 May 2013 00:00:00 GMT'], ['x-amz-date', '20130524T000000Z'],
      ['x-amz-storage-class', 'REDUCED_REDUNDANCY'], ['x-amz-content-sha256', '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072'],
      ['Authorization', auth('98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd', 'date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class')]]);
    await authenticate(r, '/test$file.text', '', lookup, NOW);
  });

  it('verifies the GET Bucket lifecycle and list objects examples (query strings)', async () => {
    const base: Array<[string, string]> = [['Host', 'examplebucket.s3.amazonaws.com'], ['x-amz-date', '20130524T000000Z'], ['x-amz-content-sha256', EMPTY_SHA256]];
    await authenticate(req('GET', [...base, ['Authorization', auth('fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543', 'host;x-amz-content-sha256;x-amz-date')]]), '/', 'lifecycle', lookup, NOW);
    await authenticate(req('GET', [...base, ['Authorization', auth('34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7', 'host;x-amz-content-sha256;x-amz-date')]]), '/', 'max-keys=2&prefix=J', lookup, NOW);
  });

  it('verifies the presigned URL example and refuses it once expired', async () => {
    const q = `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${AK}%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404`;
    const r = req('GET', [['Host', 'examplebucket.s3.amazonaws.com']]);
    const a = await authenticate(r, '/test.txt', q, lookup, NOW + 3600_000);
    assert.equal(a.presigned, true);
    assert.deepEqual(a.payload, { kind: 'unsigned' });
    await expectS3Error(authenticate(r, '/test.txt', q, lookup, NOW + 86_401_000), 'AccessDenied');
  });

  it('refuses a presigned URL whose X-Amz-Expires is 0 or negative as expired (AccessDenied)', async () => {
    const r = req('GET', [['Host', 'examplebucket.s3.amazonaws.com']]);
    for (const expires of ['-1000', '0']) {
      const q = `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${AK}%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=${expires}&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404`;
      await expectS3Error(authenticate(r, '/test.txt', q, lookup, NOW + 1000), 'AccessDenied');
    }
  });

  it('verifies a header value sent as UTF-8 bytes (x-amz-meta-* with an accent), as the client signed it', async () => {
    // Signed by botocore's S3SigV4Auth (Python, not our code) over 'Hello World\u00e9'; Node hands
    // the header's bytes to us decoded as latin-1.
    const wire = Buffer.from('Hello World\u00e9', 'utf8').toString('latin1');
    const r = req('PUT', [['Host', 'examplebucket.s3.amazonaws.com'], ['x-amz-content-sha256', EMPTY_SHA256], ['x-amz-date', '20261205T122026Z'], ['x-amz-meta-greeting', wire],
      ['Authorization', `AWS4-HMAC-SHA256 Credential=${AK}/20261205/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-meta-greeting, Signature=4792999ce4ee99f448a73698baa95e7a2e9ebf3d6e4a42dfc6d98ee9079de32b`]]);
    await authenticate(r, '/meta.txt', '', lookup, Date.UTC(2026, 11, 5, 12, 20, 26));
  });

  it('verifies the seed signature of the aws-chunked example and its chunk signatures', async () => {
    const r = req('PUT', [['Host', 's3.amazonaws.com'], ['x-amz-date', '20130524T000000Z'], ['x-amz-storage-class', 'REDUCED_REDUNDANCY'],
      ['x-amz-content-sha256', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'], ['Content-Encoding', 'aws-chunked'], ['x-amz-decoded-content-length', '66560'], ['Content-Length', '66824'],
      ['Authorization', auth('4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9', 'content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class')]]);
    const a = await authenticate(r, '/examplebucket/chunkObject.txt', '', lookup, NOW);
    assert.deepEqual(a.payload, { kind: 'streaming', signed: true, trailer: false });
    const key = deriveSigningKey(SK, '20130524', 'us-east-1', 's3');
    const s1 = signHex(key, chunkStringToSign(a.amzDate, a.scope, a.signature, sha256Hex(Buffer.alloc(65536, 'a'))));
    assert.equal(s1, 'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648');
    const s2 = signHex(key, chunkStringToSign(a.amzDate, a.scope, s1, sha256Hex(Buffer.alloc(1024, 'a'))));
    assert.equal(s2, '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497');
    const s3 = signHex(key, chunkStringToSign(a.amzDate, a.scope, s2, EMPTY_SHA256));
    assert.equal(s3, 'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9');
  });

  it('refuses a wrong signature, an unknown key and a skewed clock; an unsigned request is anonymous', async () => {
    const h = (sig: string, date = '20130524T000000Z'): Array<[string, string]> => [['Host', 'examplebucket.s3.amazonaws.com'], ['Range', 'bytes=0-9'], ['x-amz-content-sha256', EMPTY_SHA256], ['x-amz-date', date],
      ['Authorization', auth(sig, 'host;range;x-amz-content-sha256;x-amz-date')]];
    await expectS3Error(authenticate(req('GET', h('0'.repeat(64))), '/test.txt', '', lookup, NOW), 'SignatureDoesNotMatch');
    await expectS3Error(authenticate(req('GET', h('f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41')), '/test.txt', '', lookup, NOW + 16 * 60_000), 'RequestTimeTooSkewed');
    await expectS3Error(authenticate(req('GET', h('f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41')), '/other.txt', '', lookup, NOW), 'SignatureDoesNotMatch');
    const unknown = req('GET', [['Host', 'x'], ['x-amz-date', '20130524T000000Z'], ['x-amz-content-sha256', EMPTY_SHA256], ['Authorization', 'AWS4-HMAC-SHA256 Credential=NOPE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=00']]);
    await expectS3Error(authenticate(unknown, '/', '', lookup, NOW), 'InvalidAccessKeyId');
    const anon = await authenticate(req('GET', [['Host', 'x']]), '/', '', lookup, NOW);
    assert.equal(anon.anonymous, true);
    assert.equal(anon.account, '');
    const noSha = req('GET', [['Host', 'x'], ['x-amz-date', '20130524T000000Z'], ['Authorization', auth('00', 'host;x-amz-date')]]);
    await expectS3Error(authenticate(noSha, '/', '', lookup, NOW), 'InvalidRequest');
  });

  it('encodes as SigV4 wants (unreserved kept, UTF-8 bytes upper-case hex)', () => {
    assert.equal(uriEncode('a b/c~d*é', false), 'a%20b/c~d%2A%C3%A9');
    assert.equal(uriEncode('a/b'), 'a%2Fb');
    // Every ASCII character, some multi-byte ones and a lone surrogate, against the definition.
    const byDefinition = (s: string, slash: boolean) => [...Buffer.from(s, 'utf8')]
      .map((b) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(b)) || (b === 0x2f && !slash) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
    const ascii = Array.from({ length: 128 }, (_, i) => String.fromCharCode(i)).join('');
    for (const s of [ascii, `${ascii}é€😀/%2F`, 'x\ud800y', '']) {
      for (const slash of [true, false]) assert.equal(uriEncode(s, slash), byDefinition(s, slash), JSON.stringify([s, slash]));
    }
  });
});
