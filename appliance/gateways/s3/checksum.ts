/**
 * @module gateways/s3/checksum
 * The additional checksums of S3 (`x-amz-checksum-crc32|crc32c|sha1|sha256`), computed
 * incrementally and given in base64 as S3 does. CRC32 uses zlib's; CRC32C (Castagnoli) has
 * its own table here.
 */
import { createHash, Hash } from 'node:crypto';
import zlib from 'node:zlib';
import { S3Error } from './errors';

export const CHECKSUM_ALGORITHMS = ['crc32', 'crc32c', 'sha1', 'sha256'] as const;
export type ChecksumAlgorithm = typeof CHECKSUM_ALGORITHMS[number];

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC32C of `data` continuing from `crc` (0 to start). */
export function crc32c(data: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC32C_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** An incremental checksum; `digest()` gives base64 as in the x-amz-checksum-* headers. */
export interface Checksummer { update(b: Buffer): void; digest(): string }

const u32 = (n: number): string => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b.toString('base64'); };

export function checksummer(algo: ChecksumAlgorithm): Checksummer {
  switch (algo) {
    case 'crc32': { let c = 0; return { update: (b) => { c = zlib.crc32(b, c); }, digest: () => u32(c) }; }
    case 'crc32c': { let c = 0; return { update: (b) => { c = crc32c(b, c); }, digest: () => u32(c) }; }
    default: { const h: Hash = createHash(algo); return { update: (b) => { h.update(b); }, digest: () => h.digest('base64') }; }
  }
}

/** The algorithm named by a header such as `x-amz-checksum-crc32`, or undefined. */
export function algorithmOfHeader(name: string): ChecksumAlgorithm | undefined {
  const m = /^x-amz-checksum-([a-z0-9]+)$/.exec(name.toLowerCase());
  if (!m) return undefined;
  if ((CHECKSUM_ALGORITHMS as readonly string[]).includes(m[1]!)) return m[1] as ChecksumAlgorithm;
  throw new S3Error('InvalidRequest', `unsupported checksum algorithm ${m[1]}`);
}
