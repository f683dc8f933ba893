/**
 * Unit: the aws-chunked body decoder: signed chunks (the AWS documentation example), unsigned
 * chunks with a checksum trailer, and the failures (bad chunk signature, truncated body,
 * wrong checksum, wrong Content-MD5, wrong length).
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import { AuthResult, deriveSigningKey } from '../../../../../appliance/gateways/s3/auth';
import { S3Body, BodyOptions } from '../../../../../appliance/gateways/s3/aws-chunked';
import { checksummer, crc32c, crc64nvme } from '../../../../../appliance/gateways/s3/checksum';
import { S3Error } from '../../../../../appliance/gateways/s3/errors';

const SIGNED: BodyOptions['auth'] = {
  payload: { kind: 'streaming', signed: true, trailer: false },
  signingKey: deriveSigningKey('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', '20130524', 'us-east-1', 's3'),
  amzDate: '20130524T000000Z', scope: '20130524/us-east-1/s3/aws4_request',
  signature: '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
};

const UNSIGNED_TRAILER: BodyOptions['auth'] = { ...SIGNED, payload: { kind: 'streaming', signed: false, trailer: true } };

/** Feeds `input` in pieces of `step` bytes; resolves with the decoded bytes. */
function decode(opts: BodyOptions, input: Buffer, step = 7): Promise<Buffer> {
  const body = new S3Body(opts);
  const out: Buffer[] = [];
  return new Promise((resolve, reject) => {
    body.on('data', (b: Buffer) => out.push(b));
    body.on('end', () => resolve(Buffer.concat(out)));
    body.on('error', reject);
    for (let i = 0; i < input.length; i += step) body.write(input.subarray(i, i + step));
    body.end();
  });
}

function exampleBody(): Buffer {
  return Buffer.concat([
    Buffer.from('10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n'), Buffer.alloc(65536, 'a'), Buffer.from('\r\n'),
    Buffer.from('400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n'), Buffer.alloc(1024, 'a'), Buffer.from('\r\n'),
    Buffer.from('0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n'),
  ]);
}

const rejectsWith = (p: Promise<unknown>, code: string) => assert.rejects(p, (e: unknown) => e instanceof S3Error && e.s3Code === code);

describe('s3/aws-chunked: streamed bodies', () => {
  it('decodes the signed example of the AWS documentation (66,560 bytes) fed in odd pieces', async () => {
    const out = await decode({ auth: SIGNED, length: 66560 }, exampleBody(), 4093);
    assert.ok(out.equals(Buffer.alloc(66560, 'a')));
  });

  it('refuses a chunk whose data does not match its signature', async () => {
    const body = exampleBody();
    body[200] = 'b'.charCodeAt(0);
    await rejectsWith(decode({ auth: SIGNED }, body), 'SignatureDoesNotMatch');
  });

  it('refuses a body cut before its final chunk', async () => {
    const body = exampleBody();
    await rejectsWith(decode({ auth: SIGNED }, body.subarray(0, 66000)), 'IncompleteBody');
  });

  it('decodes unsigned chunks and checks the x-amz-checksum-crc32 trailer', async () => {
    const data = Buffer.from('hello trailer world');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(data));
    const framed = (sum: string) => Buffer.from(`5\r\n${data.subarray(0, 5).toString()}\r\n${(data.length - 5).toString(16)}\r\n${data.subarray(5).toString()}\r\n0\r\nx-amz-checksum-crc32:${sum}\r\n\r\n`);
    const body = new S3Body({ auth: UNSIGNED_TRAILER, trailerChecksum: 'crc32', length: data.length });
    const out = await new Promise<Buffer>((resolve, reject) => {
      const parts: Buffer[] = [];
      body.on('data', (b: Buffer) => parts.push(b)).on('end', () => resolve(Buffer.concat(parts))).on('error', reject);
      body.end(framed(crc.toString('base64')));
    });
    assert.ok(out.equals(data));
    assert.deepEqual(body.computed.checksum, { algorithm: 'crc32', value: crc.toString('base64') });
    await rejectsWith(decode({ auth: UNSIGNED_TRAILER, trailerChecksum: 'crc32' }, framed('AAAAAA==')), 'BadDigest');
  });

  it('checks Content-MD5, the payload SHA-256 and the announced length of a plain body', async () => {
    const data = Buffer.from('plain body');
    const md5 = createHash('md5').update(data).digest('base64');
    const sha = createHash('sha256').update(data).digest('hex');
    const plain = (over: Partial<AuthResult['payload']> | undefined): BodyOptions['auth'] => ({ ...SIGNED, payload: (over ?? { kind: 'unsigned' }) as AuthResult['payload'] });
    assert.ok((await decode({ auth: plain({ kind: 'sha256', hex: sha }), contentMd5: md5, length: data.length }, data)).equals(data));
    await rejectsWith(decode({ auth: plain(undefined), contentMd5: createHash('md5').update('other').digest('base64') }, data), 'BadDigest');
    await rejectsWith(decode({ auth: plain({ kind: 'sha256', hex: '0'.repeat(64) }) }, data), 'XAmzContentSHA256Mismatch');
    await rejectsWith(decode({ auth: plain(undefined), length: data.length + 1 }, data), 'IncompleteBody');
    await rejectsWith(decode({ auth: plain(undefined), checksum: { algorithm: 'sha256', value: 'AAAA' } }, data), 'BadDigest');
    // A checksum computed for a body that gives none (a part of an upload created with one).
    const computing = new S3Body({ auth: plain(undefined), computeChecksum: 'sha256' });
    computing.resume();
    computing.end(data);
    await new Promise((resolve) => computing.on('end', resolve));
    assert.deepEqual(computing.computed.checksum, { algorithm: 'sha256', value: createHash('sha256').update(data).digest('base64') });
  });

  it('computes CRC32C (Castagnoli) as the iSCSI check value', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
    assert.equal(crc32c(Buffer.from('56789'), crc32c(Buffer.from('1234'))), 0xe3069283);
    // CRC-64/NVME check value, whole and in pieces, and as the header's base64.
    assert.deepEqual(crc64nvme(Buffer.from('123456789')), [0xae8b1486, 0x0a799888]);
    assert.deepEqual(crc64nvme(Buffer.from('56789'), crc64nvme(Buffer.from('1234'))), [0xae8b1486, 0x0a799888]);
    const sum = checksummer('crc64nvme');
    sum.update(Buffer.from('123'));
    sum.update(Buffer.from('456789'));
    assert.equal(sum.digest(), Buffer.from('ae8b14860a799888', 'hex').toString('base64'));
  });
});
