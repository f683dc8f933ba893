/**
 * @module common/units
 * The one place unit strings are parsed: sizes (`64MiB`, `1GB`, `4096`) and durations
 * (`5s`, `250ms`, `2m`). Throws InvalidArgumentError naming what was wrong.
 */
import { InvalidArgumentError } from './errors';

const SIZE_UNITS: Record<string, number> = {
  '': 1, b: 1, k: 1000, kb: 1000, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12,
  kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4,
};

export function parseSize(v: string | number, what = 'size'): number {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return Math.floor(v);
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(String(v));
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new InvalidArgumentError('BAD_REQUEST', `${what}: cannot parse size "${v}" (e.g. 4096, 64MiB, 1GB)`);
  return Math.floor(Number(m[1]) * unit);
}

const DURATION_UNITS: Record<string, number> = { '': 1, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses a duration to milliseconds; a bare number is milliseconds. */
export function parseDuration(v: string | number, what = 'duration'): number {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(String(v));
  if (!m) throw new InvalidArgumentError('BAD_REQUEST', `${what}: cannot parse duration "${v}" (e.g. 250ms, 5s, 2m)`);
  return Number(m[1]) * DURATION_UNITS[m[2] ?? '']!;
}

export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = bytes;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return i === 0 ? `${v}B` : `${v.toFixed(v < 10 ? 2 : 1)}${units[i]}`;
}
