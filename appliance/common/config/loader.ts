/**
 * @module common/config/loader
 * Loads configuration: defaults < node config file (JSON) < environment (`OIO_` + key in
 * upper case, dots as `_`, e.g. `OIO_RAWX_COUNT=6`) < CLI flags (`--rawx-count 6`).
 * Validates everything at once and refuses to start naming the key and its allowed range.
 * Only this module reads files and process.env; services get a frozen, typed object.
 */
import fs from 'node:fs';
import { InvalidArgumentError } from '../errors';
import { parseDuration, parseSize } from '../units';
import { ConfigKey, KeySpec, SCHEMA } from './schema';

type ValueOf<K extends ConfigKey> =
  (typeof SCHEMA)[K]['type'] extends 'int' | 'size' | 'duration' ? number :
  (typeof SCHEMA)[K]['type'] extends 'bool' ? boolean :
  (typeof SCHEMA)[K]['type'] extends 'list' ? string[] :
  (typeof SCHEMA)[K]['type'] extends 'json' ? Record<string, any> : // eslint-disable-line @typescript-eslint/no-explicit-any
  string;

export type Config = { readonly [K in ConfigKey]: ValueOf<K> };

export function envName(key: string): string {
  return 'OIO_' + key.toUpperCase().replace(/[.]/g, '_');
}

export function flagName(key: string): string {
  return '--' + key.replace(/[._]/g, '-');
}

function coerce(key: string, spec: KeySpec, raw: unknown): unknown {
  const bad = (why: string) => new InvalidArgumentError('BAD_REQUEST', `config ${key}: ${why}`);
  let v: unknown;
  switch (spec.type) {
    case 'string': v = String(raw); if (spec.enum && !spec.enum.includes(v as string)) throw bad(`must be one of ${spec.enum.join(', ')}`); return v;
    case 'bool':
      if (typeof raw === 'boolean') return raw;
      if (/^(1|true|yes|on)$/i.test(String(raw))) return true;
      if (/^(0|false|no|off)$/i.test(String(raw))) return false;
      throw bad(`"${String(raw)}" is not a boolean`);
    case 'int':
      v = typeof raw === 'number' ? raw : Number(String(raw).trim());
      if (!Number.isInteger(v)) throw bad(`"${String(raw)}" is not an integer`);
      break;
    case 'size': try { v = parseSize(raw as string, key); } catch (e) { throw bad((e as Error).message); } break;
    case 'duration': try { v = parseDuration(raw as string, key); } catch (e) { throw bad((e as Error).message); } break;
    case 'list': return Array.isArray(raw) ? raw.map(String) : String(raw).split(',').map((s) => s.trim()).filter(Boolean);
    case 'json':
      if (typeof raw === 'string') { try { return JSON.parse(raw); } catch { throw bad('is not valid JSON'); } }
      if (raw === null || typeof raw !== 'object') throw bad('must be a JSON object');
      return raw;
  }
  const n = v as number;
  if (spec.min !== undefined && n < spec.min) throw bad(`${String(raw)} is below the minimum ${spec.min} (allowed ${spec.min}..${spec.max ?? '∞'})`);
  if (spec.max !== undefined && n > spec.max) throw bad(`${String(raw)} is above the maximum ${spec.max} (allowed ${spec.min ?? '-∞'}..${spec.max})`);
  return n;
}

export interface LoadOptions {
  /** path of a JSON file with { key: value } (nested objects are flattened with dots) */
  file?: string;
  env?: Record<string, string | undefined>;
  /** already parsed flags: key (schema spelling) -> value */
  overrides?: Partial<Record<ConfigKey, unknown>>;
}

function flatten(obj: Record<string, unknown>, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v) && !(key in SCHEMA)) flatten(v as Record<string, unknown>, key, out);
    else out[key] = v;
  }
  return out;
}

export function loadConfig(opts: LoadOptions = {}): Config {
  const out: Record<string, unknown> = {};
  const errors: string[] = [];
  let fileValues: Record<string, unknown> = {};
  if (opts.file && fs.existsSync(opts.file)) {
    try { fileValues = flatten(JSON.parse(fs.readFileSync(opts.file, 'utf8')) as Record<string, unknown>); }
    catch (e) { throw new InvalidArgumentError('BAD_REQUEST', `config file ${opts.file}: ${(e as Error).message}`); }
    for (const k of Object.keys(fileValues)) if (!(k in SCHEMA)) errors.push(`config file ${opts.file}: unknown key "${k}"`);
  }
  const env = opts.env ?? {};
  for (const [key, spec] of Object.entries(SCHEMA) as [ConfigKey, KeySpec][]) {
    let raw: unknown = spec.default;
    if (key in fileValues) raw = fileValues[key];
    const e = env[envName(key)];
    if (e !== undefined && e !== '') raw = e;
    if (opts.overrides && opts.overrides[key] !== undefined) raw = opts.overrides[key];
    try { out[key] = coerce(key, spec, raw); } catch (err) { errors.push((err as Error).message); }
  }
  if (errors.length) throw new InvalidArgumentError('BAD_REQUEST', errors.join('; '));
  return Object.freeze(out) as Config;
}

/** Every key with its env name, flag, default and description (for the generated reference). */
export function describeConfig(): Array<{ key: string; env: string; flag: string; type: string; default: unknown; description: string }> {
  return (Object.entries(SCHEMA) as [string, KeySpec][]).map(([key, s]) => ({ key, env: envName(key), flag: flagName(key), type: s.type, default: s.default, description: s.description }));
}

export function isConfigKey(k: string): k is ConfigKey {
  return k in SCHEMA;
}
