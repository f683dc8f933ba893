/**
 * @module cli/args
 * A small argument parser for `oio` commands: positionals, `--flag value`, `--flag=value`,
 * boolean flags declared per command, repeatable flags (`--property k=v`). Parsed, never
 * passed to a shell.
 */
import { InvalidArgumentError } from '../common';

export interface ParsedArgs {
  positionals: string[];
  flags: Record<string, string | boolean | string[]>;
}

export interface ArgSpec {
  /** flags that take no value */
  booleans?: readonly string[];
  /** flags that may repeat (collected into arrays) */
  repeatable?: readonly string[];
}

export function parseArgs(argv: readonly string[], spec: ArgSpec = {}): ParsedArgs {
  const positionals: string[] = [];
  const flags: ParsedArgs['flags'] = {};
  const booleans = new Set(spec.booleans ?? []);
  const repeatable = new Set(spec.repeatable ?? []);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') { positionals.push(...argv.slice(i + 1)); break; }
    if (!a.startsWith('--') || a === '--') { positionals.push(a); continue; }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq === -1 ? undefined : eq);
    let value: string | boolean;
    if (eq !== -1) value = a.slice(eq + 1);
    else if (booleans.has(name)) value = true;
    else {
      const next = argv[i + 1];
      if (next === undefined) throw new InvalidArgumentError('BAD_REQUEST', `--${name} needs a value`);
      value = next;
      i++;
    }
    if (repeatable.has(name)) ((flags[name] ??= []) as string[]).push(String(value));
    else flags[name] = value;
  }
  return { positionals, flags };
}

export function flagStr(p: ParsedArgs, ...names: string[]): string | undefined {
  for (const n of names) { const v = p.flags[n]; if (typeof v === 'string') return v; }
  return undefined;
}

export function flagInt(p: ParsedArgs, ...names: string[]): number | undefined {
  const v = flagStr(p, ...names);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('BAD_REQUEST', `--${names[0]} must be an integer, got "${v}"`);
  return n;
}

/** `--property k=v` (repeatable) as a record. */
export function flagProps(p: ParsedArgs, name = 'property'): Record<string, string> | undefined {
  const v = p.flags[name];
  if (v === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const kv of Array.isArray(v) ? v : [String(v)]) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new InvalidArgumentError('BAD_REQUEST', `--${name} wants KEY=VALUE, got "${kv}"`);
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}
