/**
 * Unit: the browser-upload parts that need no node: the streaming multipart/form-data reader
 * (boundaries split across arbitrary chunk edges) and the policy rules.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { boundaryOf, checkPolicy, readForm } from '../../../../../appliance/gateways/s3/post-object';
import { S3Error } from '../../../../../appliance/gateways/s3/errors';

function form(boundary: string, fields: Array<[string, string]>, file: Buffer, after = ''): Buffer {
  const parts: Buffer[] = [Buffer.from('preamble to ignore\r\n')];
  for (const [k, v] of fields) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="f.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`), file, Buffer.from(`\r\n--${boundary}\r\n`));
  parts.push(Buffer.from(`Content-Disposition: form-data; name="ignored"\r\n\r\n${after}\r\n--${boundary}--\r\n`));
  return Buffer.concat(parts);
}

/** Emits `data` in random pieces of 1..max bytes. */
function pieces(data: Buffer, max: number, seed: number): Readable {
  const out: Buffer[] = [];
  let s = seed;
  for (let i = 0; i < data.length;) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const n = 1 + (s % max);
    out.push(data.subarray(i, i + n));
    i += n;
  }
  return Readable.from(out);
}

async function collect(f: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of f) parts.push(b);
  return Buffer.concat(parts);
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64');

describe('S3 POST Object: form reader and policy', () => {
  it('reads fields and streams the file whatever the chunk edges (a file holding CRLF-- sequences)', async () => {
    const boundary = '----x1y2z3';
    const file = Buffer.concat([randomBytes(5000), Buffer.from(`\r\n--${boundary.slice(0, 6)}\r\n--`), randomBytes(3000)]);
    const body = form(boundary, [['key', 'a/${filename}'], ['X-Amz-Meta-Colour', 'blue']], file, 'x');
    for (const [max, seed] of [[1, 1], [3, 2], [17, 3], [70_000, 4]] as const) {
      const f = await readForm(pieces(body, max, seed), boundary);
      assert.equal(f.fields.get('key'), 'a/${filename}');
      assert.equal(f.fields.get('x-amz-meta-colour'), 'blue');
      assert.equal(f.filename, 'f.bin');
      assert.ok((await collect(f.file)).equals(file), `pieces of ${max}`);
      await f.file.rest();
    }
  });

  it('refuses a form without a file, a truncated file and a bad boundary parameter', async () => {
    const boundary = 'bnd';
    await assert.rejects(readForm(Readable.from([Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n--${boundary}--\r\n`)]), boundary), /MalformedPOSTRequest|not well-formed/);
    const cut = form(boundary, [['key', 'k']], randomBytes(100)).subarray(0, 250);
    const f = await readForm(Readable.from([cut]), boundary);
    await assert.rejects(collect(f.file), /terminated unexpectedly/);
    assert.equal(boundaryOf('multipart/form-data; boundary="quoted b"'), 'quoted b');
    assert.throws(() => boundaryOf('multipart/form-data'), /no boundary/);
  });

  it('applies the policy rules: expiration, eq / starts-with / exact, extra fields, content-length-range', () => {
    const now = Date.parse('2026-12-04T12:00:00Z');
    const fields = new Map([['key', 'user/a.txt'], ['policy', 'p'], ['x-amz-signature', 's'], ['content-type', 'text/plain'], ['x-ignore-me', '1']]);
    const conditions = [{ bucket: 'b' }, ['starts-with', '$key', 'user/'], ['eq', '$Content-Type', 'text/plain'], ['content-length-range', 1, 100]];
    assert.deepEqual(checkPolicy(b64({ expiration: '2026-12-05T00:00:00Z', conditions }), fields, 'b', now), { min: 1, max: 100 });
    assert.throws(() => checkPolicy(b64({ expiration: '2026-12-04T11:00:00Z', conditions }), fields, 'b', now), /Policy expired/);
    assert.throws(() => checkPolicy(b64({ expiration: '2026-12-05T00:00:00Z', conditions }), fields, 'other', now), /Policy Condition failed/);
    assert.throws(() => checkPolicy(b64({ expiration: '2026-12-05T00:00:00Z', conditions: conditions.slice(0, 2) }), fields, 'b', now), /Extra input fields: content-type/);
    assert.throws(() => checkPolicy(b64({ expiration: '2026-12-05T00:00:00Z', conditions: [...conditions, ['starts-with', '$key', 'admin/']] }), fields, 'b', now), /Policy Condition failed/);
    assert.throws(() => checkPolicy('not base64 json', fields, 'b', now), /InvalidPolicyDocument|Invalid JSON/);
    assert.throws(() => checkPolicy(b64({ conditions }), fields, 'b', now), /missing expiration/);
    assert.throws(() => checkPolicy(b64({ expiration: '2026-12-05T00:00:00Z', conditions: [['content-length-range', 10, 1]] }), new Map(), 'b', now), /content-length-range/);
    // An expiration not in ISO 8601 UTC, a simple condition naming nothing or two fields.
    assert.throws(() => checkPolicy(b64({ expiration: '2026-12-05 00:00:00.123+00:00', conditions }), fields, 'b', now), /Invalid 'expiration'/);
    assert.deepEqual(checkPolicy(b64({ expiration: '2026-12-05T00:00:00.000Z', conditions }), fields, 'b', now), { min: 1, max: 100 });
    assert.throws(() => checkPolicy(b64({ expiration: '2026-12-05T00:00:00Z', conditions: [{}] }), new Map(), 'b', now), /exactly one property/);
    assert.throws(() => checkPolicy(b64({ expiration: '2026-12-05T00:00:00Z', conditions: [{ bucket: 'b', acl: 'private' }] }), new Map(), 'b', now), /exactly one property/);
  });

  it('wants the expiration in ISO 8601 UTC and one field per simple condition', () => {
    const now = Date.parse('2026-12-04T12:00:00Z');
    const fields = new Map([['key', 'a'], ['policy', 'p'], ['x-amz-signature', 's']]);
    const conditions = [{ bucket: 'b' }, { key: 'a' }];
    assert.deepEqual(checkPolicy(b64({ expiration: '2026-12-05T00:00:00.000Z', conditions }), fields, 'b', now), undefined);
    // A date Date.parse reads but S3 refuses (Python's str(datetime)), and a local time.
    for (const expiration of ['2026-12-05 00:00:00.123456+00:00', '2026-12-05T00:00:00', 'Sat, 05 Dec 2026 00:00:00 GMT']) {
      assert.throws(() => checkPolicy(b64({ expiration, conditions }), fields, 'b', now), (e: S3Error) => e.s3Code === 'InvalidPolicyDocument' && /expiration/.test(e.message), expiration);
    }
    assert.throws(() => checkPolicy(b64({ expiration: '2026-12-05T00:00:00Z', conditions: [{}] }), fields, 'b', now), (e: S3Error) => e.s3Code === 'InvalidPolicyDocument' && /exactly one property/.test(e.message));
    assert.throws(() => checkPolicy(b64({ expiration: '2026-12-05T00:00:00Z', conditions: [{ bucket: 'b', key: 'a' }] }), fields, 'b', now), /exactly one property/);
  });

  it('needs no condition for the signature fields of either version nor for an x-amz-checksum-* field', () => {
    const now = Date.parse('2026-12-04T12:00:00Z');
    const fields = new Map([['key', 'a'], ['policy', 'p'], ['awsaccesskeyid', 'AK'], ['signature', 's'], ['x-amz-checksum-sha256', 'x']]);
    assert.deepEqual(checkPolicy(b64({ expiration: '2026-12-05T00:00:00Z', conditions: [{ key: 'a' }] }), fields, 'b', now), undefined);
    fields.set('x-amz-checksum-algorithm', 'SHA256');
    assert.throws(() => checkPolicy(b64({ expiration: '2026-12-05T00:00:00Z', conditions: [{ key: 'a' }] }), fields, 'b', now), /Extra input fields: x-amz-checksum-algorithm/);
  });
});
