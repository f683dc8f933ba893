/**
 * @module client/ec/layout
 * Where each byte of an erasure-coded metachunk lives. A metachunk of S bytes is cut into
 * stripes of k * C data bytes (C: the cell size, a multiple of 8, about 1 MiB / k by default,
 * recorded in the chunk method as `cell=`). Each stripe is split into k data cells (the last
 * stripe's cells are smaller, zero padded to a multiple of 8) and encoded into m parity cells.
 * Fragment i (position `N.i`) is the concatenation, stripe after stripe, of its cell followed
 * by the cell's CRC-32 (4 bytes, big endian): so a ranged read can verify every cell it
 * fetches, and writer and reader hold one stripe in memory, never a whole metachunk.
 *
 * In meta2 every fragment of a metachunk records `size` = S (the metachunk's size, as OpenIO
 * does for EC) and `hash` = the fragment's MD5; the fragment's own size follows from S.
 */
import { InvalidArgumentError } from '../../common/errors';
import { EC_ALGOS, type EcAlgo } from './codec';

/** Bytes of the CRC-32 that follows every cell in a fragment. */
export const CELL_TRAILER_BYTES = 4;

/** Data bytes per stripe the default cell size aims at. */
export const DEFAULT_STRIPE_BYTES = 1024 * 1024;

/** What a reader or writer needs to know about an EC chunk method. */
export interface EcParams {
  k: number;
  m: number;
  algo: EcAlgo;
  /** cell size of full stripes, bytes (multiple of 8) */
  cell: number;
}

const roundUp8 = (n: number): number => Math.ceil(n / 8) * 8;

/** The default cell size for k data fragments. */
export function defaultCell(k: number, stripeBytes = DEFAULT_STRIPE_BYTES): number {
  return Math.max(8, roundUp8(Math.ceil(stripeBytes / k)));
}

function params(method: string): Map<string, string> {
  const out = new Map<string, string>();
  const slash = method.indexOf('/');
  for (const part of method.slice(slash + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

/** True for an erasure-coded chunk method (`ec/...`). */
export function isEcMethod(method: string | undefined): boolean {
  return typeof method === 'string' && /^\s*ec\//i.test(method);
}

/**
 * The layout of a content's chunk method as written by the EC writer (k, m, algo, cell).
 * @throws InvalidArgumentError BAD_REQUEST when a parameter is missing or invalid
 */
export function parseEcMethod(method: string): EcParams {
  if (!isEcMethod(method)) throw new InvalidArgumentError('BAD_REQUEST', `chunk method "${method}" is not ec/...`);
  const p = params(method);
  const int = (key: string, min: number, max: number): number => {
    const n = Number(p.get(key));
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError('BAD_REQUEST', `chunk method "${method}": ${key} must be an integer ${min}..${max}`);
    return n;
  };
  const k = int('k', 1, 255);
  const m = int('m', 1, 255);
  const algo = p.get('algo') ?? '';
  if (!(EC_ALGOS as readonly string[]).includes(algo)) throw new InvalidArgumentError('BAD_REQUEST', `chunk method "${method}": algo must be one of ${EC_ALGOS.join(', ')}`);
  const cell = int('cell', 8, 2 ** 30);
  if (cell % 8 !== 0) throw new InvalidArgumentError('BAD_REQUEST', `chunk method "${method}": cell must be a multiple of 8`);
  return { k, m, algo: algo as EcAlgo, cell };
}

/**
 * The chunk method recorded for a content: the data security definition with `algo` and
 * `cell` set to what the writer used (other parameters, e.g. distance, kept).
 */
export function ecMethodFor(dataSecurity: string, p: EcParams): string {
  const kept = [...params(dataSecurity).entries()].filter(([key]) => !['k', 'm', 'algo', 'cell'].includes(key));
  return `ec/k=${p.k},m=${p.m},algo=${p.algo},cell=${p.cell}${kept.map(([key, v]) => `,${key}=${v}`).join('')}`;
}

/** Data bytes of a full stripe. */
export function stripeBytes(p: EcParams): number {
  return p.k * p.cell;
}

/** Number of stripes of a metachunk of `size` bytes (0 for an empty one). */
export function stripeCount(p: EcParams, size: number): number {
  return Math.ceil(size / stripeBytes(p));
}

/** Data bytes of stripe `s` of a metachunk of `size` bytes. */
export function stripeDataBytes(p: EcParams, size: number, s: number): number {
  return Math.max(0, Math.min(stripeBytes(p), size - s * stripeBytes(p)));
}

/** Cell size of stripe `s` (full stripes: p.cell; the last one: its share rounded up to 8). */
export function cellSize(p: EcParams, size: number, s: number): number {
  const d = stripeDataBytes(p, size, s);
  if (d === stripeBytes(p)) return p.cell;
  return Math.max(8, roundUp8(Math.ceil(d / p.k)));
}

/** Byte offset of stripe `s`'s cell in every fragment. */
export function cellOffset(p: EcParams, s: number): number {
  return s * (p.cell + CELL_TRAILER_BYTES);
}

/** Size of each fragment of a metachunk of `size` bytes. */
export function fragmentSize(p: EcParams, size: number): number {
  const n = stripeCount(p, size);
  if (n === 0) return 0;
  return cellOffset(p, n - 1) + cellSize(p, size, n - 1) + CELL_TRAILER_BYTES;
}
