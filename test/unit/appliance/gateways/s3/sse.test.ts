/**
 * Unit tests of SSE-C decryption at any place: a range of an object encrypted in one or several
 * segments (parts), each from byte 0 with its own IV, decrypts to the plaintext's range,
 * including counters that carry across IV bytes (AES-256-CTR, as OpenSSL counts).
 */
import { strict as assert } from 'node:assert';
import { createCipheriv, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ContentInfo } from '../../../../../appliance/common/model';
import { PROP } from '../../../../../appliance/gateways/s3/context';
import { Decryptor, keySafe } from '../../../../../appliance/gateways/s3/sse';

async function collect(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

const encrypt = (key: Buffer, iv: Buffer, data: Buffer) => { const c = createCipheriv('aes-256-ctr', key, iv); return Buffer.concat([c.update(data), c.final()]); };

describe('s3/sse-c: decryption at any place', () => {
  const key = randomBytes(32);
  const k = { key, md5: '' };

  it('decrypts any range of a one-segment object, counters carrying across IV bytes', async () => {
    for (const iv of [randomBytes(16), Buffer.from('00000000000000000000000000fffff0', 'hex'), Buffer.alloc(16, 0xff)]) {
      const plain = randomBytes(70_000);
      const stored = encrypt(key, iv, plain);
      const c = { size: plain.length, properties: { [PROP.sseIv]: iv.toString('base64') } } as unknown as ContentInfo;
      for (const [start, end] of [[0, plain.length - 1], [1, 15], [15, 16], [16, 16], [4095, 40_000], [69_990, 69_999]] as const) {
        // The stored range arrives in pieces of odd sizes, as from the network.
        const pieces: Buffer[] = [];
        for (let i = start; i <= end; i += 777) pieces.push(stored.subarray(i, Math.min(end + 1, i + 777)));
        const got = await collect(Readable.from(pieces).pipe(new Decryptor(k, c, start)));
        assert.ok(got.equals(plain.subarray(start, end + 1)), `iv ${iv.toString('hex')} range ${start}-${end}`);
      }
    }
  });

  it('decrypts across the parts of a multipart object, each with its IV', async () => {
    const sizes = [5000, 33, 12_345];
    const ivs = sizes.map(() => randomBytes(16));
    const plains = sizes.map((n) => randomBytes(n));
    const stored = Buffer.concat(plains.map((p, i) => encrypt(key, ivs[i]!, p)));
    const plain = Buffer.concat(plains);
    const c = { size: plain.length, properties: { [PROP.sseIvs]: ivs.map((v) => v.toString('base64')).join(','), [PROP.partSizes]: sizes.join(',') } } as unknown as ContentInfo;
    for (const [start, end] of [[0, plain.length - 1], [4990, 5040], [5000, 5032], [5033, plain.length - 1], [17, 5035]] as const) {
      const got = await collect(Readable.from([stored.subarray(start, end + 1)]).pipe(new Decryptor(k, c, start)));
      assert.ok(got.equals(plain.subarray(start, end + 1)), `range ${start}-${end}`);
    }
  });
});

describe('s3/sse-c: where a customer key may come from', () => {
  const conn = (remoteAddress: string, encrypted = false, sseCOverHttp = false) => ({ req: { socket: { remoteAddress, encrypted } }, gw: { sseCOverHttp } }) as unknown as Parameters<typeof keySafe>[0];

  it('takes it over TLS from anywhere, over plain HTTP only from this host unless s3.sse_c_over_http', () => {
    assert.equal(keySafe(conn('10.1.2.3', true)), true);
    assert.equal(keySafe(conn('10.1.2.3')), false);
    assert.equal(keySafe(conn('::ffff:192.168.0.9')), false);
    assert.equal(keySafe(conn('2001:db8::1')), false);
    assert.equal(keySafe(conn('127.0.0.1')), true);
    assert.equal(keySafe(conn('127.0.33.5')), true);
    assert.equal(keySafe(conn('::ffff:127.0.0.1')), true);
    assert.equal(keySafe(conn('::1')), true);
    assert.equal(keySafe(conn('10.1.2.3', false, true)), true);
  });
});
