/**
 * Unit tests of the multipart checksums: CRCs combined from the parts' values and sizes match
 * the CRC of the whole data (CRC32, CRC32C, CRC64/NVME), and COMPOSITE values are the algorithm
 * over the parts' raw checksums with `-N`.
 */
import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { checksummer, multipartChecksum, typeAllowed, type ChecksumAlgorithm } from '../../../../../appliance/gateways/s3/checksum';

const sumOf = (algo: ChecksumAlgorithm, data: Buffer): string => { const s = checksummer(algo); s.update(data); return s.digest(); };

describe('s3/checksum: multipart checksums', () => {
  it('combines part CRCs into the CRC of the whole object (FULL_OBJECT), whatever the part sizes', () => {
    const data = randomBytes(300_001);
    for (const cuts of [[0, 300_001], [0, 1, 300_001], [0, 100_000, 100_000, 250_007, 300_001], [0, 65_536, 131_072, 299_999, 300_001]]) {
      const parts = cuts.slice(1).map((end, i) => data.subarray(cuts[i], end));
      for (const algo of ['crc32', 'crc32c', 'crc64nvme'] as const) {
        const got = multipartChecksum(algo, 'FULL_OBJECT', parts.map((p) => ({ value: sumOf(algo, p), size: p.length })));
        assert.equal(got, sumOf(algo, data), `${algo} over ${parts.length} parts`);
      }
    }
  });

  it('makes COMPOSITE checksums from the raw part checksums, with the part count', () => {
    const parts = [randomBytes(1000), randomBytes(10), Buffer.alloc(0)];
    const values = parts.map((p) => createHash('sha256').update(p).digest());
    const want = `${createHash('sha256').update(Buffer.concat(values)).digest('base64')}-3`;
    assert.equal(multipartChecksum('sha256', 'COMPOSITE', parts.map((p, i) => ({ value: values[i]!.toString('base64'), size: p.length }))), want);
    const crcs = parts.map((p) => sumOf('crc32', p));
    assert.equal(multipartChecksum('crc32', 'COMPOSITE', crcs.map((value, i) => ({ value, size: parts[i]!.length }))), `${sumOf('crc32', Buffer.concat(crcs.map((c) => Buffer.from(c, 'base64'))))}-3`);
  });

  it('allows the types S3 allows', () => {
    assert.ok(typeAllowed('sha256', 'COMPOSITE'));
    assert.ok(!typeAllowed('sha256', 'FULL_OBJECT'));
    assert.ok(typeAllowed('crc32', 'FULL_OBJECT'));
    assert.ok(typeAllowed('crc32c', 'COMPOSITE'));
    assert.ok(!typeAllowed('crc64nvme', 'COMPOSITE'));
    assert.ok(typeAllowed('crc64nvme', 'FULL_OBJECT'));
  });
});
