/**
 * @module client/ec/gf256
 * The portable Reed-Solomon code (algo `js_rs_vand`): systematic code over GF(2^8)
 * (polynomial 0x11d) whose encoding matrix is a (k+m) x k Vandermonde matrix made systematic
 * (multiplied by the inverse of its top k x k square), as Backblaze / klauspost do. Any k of
 * the k+m shards rebuild the others. Pure synchronous math on byte arrays: callers run it off
 * the main thread (see codec-pool.ts) when the stripe is large.
 */

const EXP = new Uint8Array(512);
const LOG = new Uint8Array(256);
(() => {
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    LOG[x] = i;
    x <<= 1;
    if (x & 0x100) x ^= 0x11d;
  }
  for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255]!;
})();

/** Product of two field elements. */
export function gfMul(a: number, b: number): number {
  if (a === 0 || b === 0) return 0;
  return EXP[LOG[a]! + LOG[b]!]!;
}

function gfInv(a: number): number {
  if (a === 0) throw new Error('GF(256): inverse of 0');
  return EXP[255 - LOG[a]!]!;
}

function gfPow(a: number, n: number): number {
  if (n === 0) return 1;
  if (a === 0) return 0;
  return EXP[(LOG[a]! * n) % 255]!;
}

/** Full multiplication table: MUL[c << 8 | x] = c * x (64 KiB, built once). */
const MUL = new Uint8Array(65536);
for (let c = 0; c < 256; c++) for (let x = 0; x < 256; x++) MUL[(c << 8) | x] = gfMul(c, x);

type Matrix = number[][];

/** Inverse of a square matrix (Gauss-Jordan); throws when singular. */
export function invert(mat: Matrix): Matrix {
  const n = mat.length;
  const a = mat.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let col = 0; col < n; col++) {
    let p = col;
    while (p < n && a[p]![col] === 0) p++;
    if (p === n) throw new Error('GF(256): singular matrix');
    if (p !== col) [a[p], a[col]] = [a[col]!, a[p]!];
    const row = a[col]!;
    const inv = gfInv(row[col]!);
    for (let j = 0; j < 2 * n; j++) row[j] = gfMul(row[j]!, inv);
    for (let i = 0; i < n; i++) {
      if (i === col) continue;
      const r = a[i]!;
      const f = r[col]!;
      if (f === 0) continue;
      for (let j = 0; j < 2 * n; j++) r[j] = r[j]! ^ gfMul(f, row[j]!);
    }
  }
  return a.map((r) => r.slice(n));
}

function multiply(a: Matrix, b: Matrix): Matrix {
  return a.map((row) => b[0]!.map((_, j) => row.reduce((acc, v, t) => acc ^ gfMul(v, b[t]![j]!), 0)));
}

const matrices = new Map<string, Matrix>();

/** The (k+m) x k systematic encoding matrix (rows 0..k-1 are the identity). */
export function encodingMatrix(k: number, m: number): Matrix {
  const key = `${k},${m}`;
  let e = matrices.get(key);
  if (!e) {
    if (k < 1 || m < 1 || k + m > 256) throw new Error(`GF(256): k=${k}, m=${m} out of range (k + m <= 256)`);
    const v: Matrix = Array.from({ length: k + m }, (_, r) => Array.from({ length: k }, (_, c) => gfPow(r, c)));
    e = multiply(v, invert(v.slice(0, k)));
    matrices.set(key, e);
  }
  return e;
}

/** Pair tables: WORD[c][v] = c * (v & 0xff) | (c * (v >> 8)) << 8 (128 KiB each, a few cached). */
const WORD_TABLES = new Map<number, Uint16Array>();
const MAX_WORD_TABLES = 64;

function wordTable(c: number): Uint16Array {
  let t = WORD_TABLES.get(c);
  if (!t) {
    t = new Uint16Array(65536);
    const base = c << 8;
    for (let v = 0; v < 65536; v++) t[v] = MUL[base | (v & 0xff)]! | (MUL[base | (v >> 8)]! << 8);
    if (WORD_TABLES.size >= MAX_WORD_TABLES) WORD_TABLES.delete(WORD_TABLES.keys().next().value!);
    WORD_TABLES.set(c, t);
  }
  return t;
}

/**
 * out ^= c * input over `len` bytes (out cleared first when `first`). Aligned runs go 4 bytes
 * at a time through a pair table (3-4x the byte-wise loop).
 */
function mulAdd(c: number, input: Uint8Array, out: Uint8Array, len: number, first: boolean): void {
  if (c === 0) { if (first) out.fill(0, 0, len); return; }
  if (len % 4 === 0 && input.byteOffset % 4 === 0 && out.byteOffset % 4 === 0) {
    const n = len >> 2;
    const i32 = new Uint32Array(input.buffer, input.byteOffset, n);
    const o32 = new Uint32Array(out.buffer, out.byteOffset, n);
    if (c === 1) {
      if (first) o32.set(i32);
      else for (let x = 0; x < n; x++) o32[x] = o32[x]! ^ i32[x]!;
      return;
    }
    const t = wordTable(c);
    if (first) for (let x = 0; x < n; x++) { const v = i32[x]!; o32[x] = t[v & 0xffff]! | (t[v >>> 16]! << 16); }
    else for (let x = 0; x < n; x++) { const v = i32[x]!; o32[x] = o32[x]! ^ (t[v & 0xffff]! | (t[v >>> 16]! << 16)); }
    return;
  }
  if (c === 1) {
    if (first) out.set(input.subarray(0, len));
    else for (let x = 0; x < len; x++) out[x] = out[x]! ^ input[x]!;
    return;
  }
  const base = c << 8;
  if (first) for (let x = 0; x < len; x++) out[x] = MUL[base | input[x]!]!;
  else for (let x = 0; x < len; x++) out[x] = out[x]! ^ MUL[base | input[x]!]!;
}

/**
 * Computes the m parity shards of a stripe in place. `shards` holds the k data shards then
 * the m parity shards, each `cell` bytes.
 */
export function gfEncode(k: number, m: number, cell: number, shards: Uint8Array[]): void {
  const e = encodingMatrix(k, m);
  for (let p = 0; p < m; p++) {
    const row = e[k + p]!;
    const out = shards[k + p]!;
    for (let j = 0; j < k; j++) mulAdd(row[j]!, shards[j]!, out, cell, j === 0);
  }
}

/**
 * Rebuilds the shards listed in `targets` from the first k shards listed in `present`
 * (in place in `shards`, k data then m parity, each `cell` bytes).
 * @throws Error when fewer than k shards are present
 */
export function gfReconstruct(k: number, m: number, cell: number, shards: Uint8Array[], present: number[], targets: number[]): void {
  if (present.length < k) throw new Error(`GF(256): ${present.length} shards present, ${k} needed`);
  const e = encodingMatrix(k, m);
  const use = [...present].sort((a, b) => a - b).slice(0, k);
  const dec = invert(use.map((i) => e[i]!));
  const dataTargets = targets.filter((t) => t < k);
  for (const t of dataTargets) {
    const row = dec[t]!;
    for (let j = 0; j < k; j++) mulAdd(row[j]!, shards[use[j]!]!, shards[t]!, cell, j === 0);
  }
  const parityTargets = targets.filter((t) => t >= k);
  if (parityTargets.length === 0) return;
  // Parity: from the (now complete) data shards; data shards that were neither present
  // nor targets are rebuilt into scratch space first.
  const data: Uint8Array[] = [];
  for (let j = 0; j < k; j++) {
    if (use.includes(j) || dataTargets.includes(j)) { data.push(shards[j]!); continue; }
    const tmp = new Uint8Array(cell);
    const row = dec[j]!;
    for (let t = 0; t < k; t++) mulAdd(row[t]!, shards[use[t]!]!, tmp, cell, t === 0);
    data.push(tmp);
  }
  for (const t of parityTargets) {
    const row = e[t]!;
    for (let j = 0; j < k; j++) mulAdd(row[j]!, data[j]!, shards[t]!, cell, j === 0);
  }
}
