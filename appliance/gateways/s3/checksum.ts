/**
 * @module gateways/s3/checksum
 * The additional checksums of S3 (`x-amz-checksum-crc32|crc32c|crc64nvme|sha1|sha256`),
 * computed incrementally and given in base64 as S3 does. CRC32 uses zlib's; CRC32C
 * (Castagnoli) and CRC64/NVME have their own tables here.
 */
import { createHash, Hash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import zlib from 'node:zlib';
import { S3Error } from './errors';

export const CHECKSUM_ALGORITHMS = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'] as const;
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

/** CRC-64/NVME (reflected polynomial 0x9A6C9329AC4BC9B5), as 32-bit halves: [hi, lo] per byte. */
const CRC64_TABLE = (() => {
  const hi = new Uint32Array(256);
  const lo = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let h = 0;
    let l = n;
    for (let k = 0; k < 8; k++) {
      const bit = l & 1;
      l = ((l >>> 1) | ((h & 1) << 31)) >>> 0;
      h >>>= 1;
      if (bit) { h = (h ^ 0x9a6c9329) >>> 0; l = (l ^ 0xac4bc9b5) >>> 0; }
    }
    hi[n] = h;
    lo[n] = l;
  }
  return { hi, lo };
})();

/** CRC-64/NVME of `data` continuing from `crc` ([hi, lo] of the previous result; [0, 0] to start). */
export function crc64nvme(data: Uint8Array, crc: [number, number] = [0, 0]): [number, number] {
  let h = ~crc[0] >>> 0;
  let l = ~crc[1] >>> 0;
  const { hi, lo } = CRC64_TABLE;
  for (let i = 0; i < data.length; i++) {
    const idx = (l ^ data[i]!) & 0xff;
    l = (((l >>> 8) | ((h & 0xff) << 24)) ^ lo[idx]!) >>> 0;
    h = ((h >>> 8) ^ hi[idx]!) >>> 0;
  }
  return [~h >>> 0, ~l >>> 0];
}

/** An incremental checksum; `digest()` gives base64 as in the x-amz-checksum-* headers. */
export interface Checksummer { update(b: Buffer): void; digest(): string }

const u32 = (n: number): string => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b.toString('base64'); };

export function checksummer(algo: ChecksumAlgorithm): Checksummer {
  switch (algo) {
    case 'crc32': { let c = 0; return { update: (b) => { c = zlib.crc32(b, c); }, digest: () => u32(c) }; }
    case 'crc32c': { let c = 0; return { update: (b) => { c = crc32c(b, c); }, digest: () => u32(c) }; }
    case 'crc64nvme': {
      let c: [number, number] = [0, 0];
      return { update: (b) => { c = crc64nvme(b, c); }, digest: () => { const out = Buffer.alloc(8); out.writeUInt32BE(c[0], 0); out.writeUInt32BE(c[1], 4); return out.toString('base64'); } };
    }
    default: { const h: Hash = createHash(algo); return { update: (b) => { h.update(b); }, digest: () => h.digest('base64') }; }
  }
}

/**
 * `source` as it flows through `sum` (a copy computing a checksum): an error of the source
 * errors the result, and the source is closed if the result is closed before its end.
 */
export function summed(source: Readable, sum: Checksummer): Readable {
  const tap = new Transform({ transform(chunk: Buffer, _e, cb) { sum.update(chunk); cb(null, chunk); } });
  source.on('error', (e) => tap.destroy(e)).pipe(tap);
  tap.on('close', () => { if (!source.readableEnded) source.destroy(); });
  return tap;
}

/** The algorithm an `x-amz-checksum-algorithm` value names (undefined: none given); InvalidRequest. */
export function algorithmNamed(value: string | undefined): ChecksumAlgorithm | undefined {
  if (value === undefined) return undefined;
  const a = value.trim().toLowerCase();
  if (!(CHECKSUM_ALGORITHMS as readonly string[]).includes(a)) throw new S3Error('InvalidRequest', 'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]');
  return a as ChecksumAlgorithm;
}

/** The algorithm named by a header such as `x-amz-checksum-crc32`, or undefined. */
export function algorithmOfHeader(name: string): ChecksumAlgorithm | undefined {
  const m = /^x-amz-checksum-([a-z0-9]+)$/.exec(name.toLowerCase());
  if (!m) return undefined;
  if ((CHECKSUM_ALGORITHMS as readonly string[]).includes(m[1]!)) return m[1] as ChecksumAlgorithm;
  throw new S3Error('InvalidRequest', `unsupported checksum algorithm ${m[1]}`);
}

/** The multipart checksum types: over the part checksums (COMPOSITE, `value-N`) or the whole object. */
export type ChecksumType = 'COMPOSITE' | 'FULL_OBJECT';

/** Reflected polynomials of the CRCs whose values combine (init and final xor all ones). */
const CRC_POLY: Partial<Record<ChecksumAlgorithm, { poly: bigint; bits: number }>> = {
  crc32: { poly: 0xedb88320n, bits: 32 },
  crc32c: { poly: 0x82f63b78n, bits: 32 },
  crc64nvme: { poly: 0x9a6c9329ac4bc9b5n, bits: 64 },
};

/** A GF(2) matrix (one column per bit, as a bigint) applied to a vector. */
function gf2Times(mat: bigint[], vec: bigint): bigint {
  let sum = 0n;
  for (let i = 0; vec !== 0n; i++, vec >>= 1n) if (vec & 1n) sum ^= mat[i]!;
  return sum;
}

/** Per algorithm, the operators that run a CRC through 2^k zero bytes (k = 0, 1, ...), made on demand. */
const zeroOps = new Map<ChecksumAlgorithm, bigint[][]>();

function zeroOperator(algo: ChecksumAlgorithm, k: number): bigint[] {
  const { poly, bits } = CRC_POLY[algo]!;
  let ops = zeroOps.get(algo);
  if (!ops) {
    // One zero bit, then squared three times: one zero byte.
    let op: bigint[] = [poly, ...Array.from({ length: bits - 1 }, (_, n) => 1n << BigInt(n))];
    for (let i = 0; i < 3; i++) op = op.map((col) => gf2Times(op, col));
    ops = [op];
    zeroOps.set(algo, ops);
  }
  while (ops.length <= k) { const last = ops[ops.length - 1]!; ops.push(last.map((col) => gf2Times(last, col))); }
  return ops[k]!;
}

/**
 * CRC of A followed by B from CRC(A), CRC(B) and B's length (zlib's crc32_combine, for any of
 * the CRCs in CRC_POLY): A's CRC is run through len(B) zero bytes, then xor-ed with B's.
 */
export function crcCombine(algo: ChecksumAlgorithm, crcA: bigint, crcB: bigint, lengthB: number): bigint {
  if (!CRC_POLY[algo]) throw new Error(`${algo} values do not combine`);
  let c = crcA;
  for (let k = 0, n = lengthB; n > 0; k++, n = Math.floor(n / 2)) if (n % 2 === 1) c = gf2Times(zeroOperator(algo, k), c);
  return c ^ crcB;
}

const toBig = (b64: string): bigint => BigInt(`0x${Buffer.from(b64, 'base64').toString('hex') || '0'}`);
const fromBig = (v: bigint, bits: number): string => Buffer.from(v.toString(16).padStart(bits / 4, '0'), 'hex').toString('base64');

/** Whether a multipart upload can end with this checksum type for this algorithm (S3's rules). */
export function typeAllowed(algo: ChecksumAlgorithm, type: ChecksumType): boolean {
  return type === 'COMPOSITE' ? algo !== 'crc64nvme' : CRC_POLY[algo] !== undefined;
}

/**
 * The checksum of a multipart object from its parts' (base64) checksums and sizes: COMPOSITE is
 * the algorithm over the parts' raw checksums, with `-N`; FULL_OBJECT the CRC of the whole data.
 */
export function multipartChecksum(algo: ChecksumAlgorithm, type: ChecksumType, parts: Array<{ value: string; size: number }>): string {
  if (type === 'COMPOSITE') {
    const sum = checksummer(algo);
    for (const p of parts) sum.update(Buffer.from(p.value, 'base64'));
    return `${sum.digest()}-${parts.length}`;
  }
  const { bits } = CRC_POLY[algo]!;
  let crc = toBig(parts[0]!.value);
  for (const p of parts.slice(1)) crc = crcCombine(algo, crc, toBig(p.value), p.size);
  return fromBig(crc, bits);
}
