/**
 * @module fs-bridge/nfs/exports
 * The export table: one export per container at `/<container>`, each with the client
 * addresses allowed to use it (exact addresses or CIDR ranges; empty: everyone) and a
 * read-only flag. Parses the `nfs.exports` configuration value.
 */
import net from 'node:net';
import { OioError } from '../../appliance/common';
import type { BridgeFs } from '../core/types';
import { exportIdOf } from './file-handle';

/** One configured export rule (`nfs.exports` JSON: `{ "<container>": { clients, readOnly } }`). */
export interface ExportRule {
  /** addresses or CIDR ranges (`10.0.0.0/8`); empty or absent: any client */
  clients?: string[];
  readOnly?: boolean;
}

export interface NfsExport {
  /** `/<container>` */
  path: string;
  container: string;
  id: string;
  fs: BridgeFs;
  clients: string[];
  readOnly: boolean;
}

export function makeExport(container: string, fs: BridgeFs, rule: ExportRule = {}): NfsExport {
  const path = `/${container}`;
  for (const c of rule.clients ?? []) parseRange(c);
  return { path, container, id: exportIdOf(path), fs, clients: rule.clients ?? [], readOnly: rule.readOnly ?? false };
}

/** Parses `nfs.exports`: an object container -> rule; `*` is the rule of unlisted containers. */
export function parseExportRules(value: unknown): Record<string, ExportRule> {
  if (value === undefined || value === null || value === '') return {};
  const obj = typeof value === 'string' ? JSON.parse(value) as unknown : value;
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new OioError('BAD_REQUEST', 'nfs.exports: expected an object { container: { clients, readOnly } }');
  const out: Record<string, ExportRule> = {};
  for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
    const r = (v ?? {}) as { clients?: unknown; readOnly?: unknown };
    if (r.clients !== undefined && !(Array.isArray(r.clients) && r.clients.every((c) => typeof c === 'string'))) throw new OioError('BAD_REQUEST', `nfs.exports.${k}.clients: expected a list of addresses`);
    if (r.readOnly !== undefined && typeof r.readOnly !== 'boolean') throw new OioError('BAD_REQUEST', `nfs.exports.${k}.readOnly: expected a boolean`);
    for (const c of (r.clients as string[] | undefined) ?? []) parseRange(c);
    out[k] = { clients: r.clients as string[] | undefined, readOnly: r.readOnly as boolean | undefined };
  }
  return out;
}

function parseRange(spec: string): { addr: Buffer; bits: number } {
  const [a, b] = spec.split('/');
  const family = net.isIP(a ?? '');
  if (!family) throw new OioError('BAD_REQUEST', `nfs.exports: bad client address ${spec}`);
  const addr = toBytes(a!);
  const bits = b === undefined ? addr.length * 8 : Number(b);
  if (!Number.isInteger(bits) || bits < 0 || bits > addr.length * 8) throw new OioError('BAD_REQUEST', `nfs.exports: bad prefix length in ${spec}`);
  return { addr, bits };
}

function toBytes(ip: string): Buffer {
  if (net.isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  const sl = new net.SocketAddress({ address: ip, family: 'ipv6' });
  const parts = sl.address.split('::');
  const head = parts[0] ? parts[0].split(':') : [];
  const tail = parts[1] ? parts[1].split(':') : [];
  const groups = [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16) || 0, i * 2));
  return b;
}

/** Whether `address` may use the export. */
export function clientAllowed(exp: NfsExport, address: string): boolean {
  if (exp.clients.length === 0) return true;
  if (!net.isIP(address)) return false;
  const a = toBytes(address);
  return exp.clients.some((spec) => {
    const r = parseRange(spec);
    if (r.addr.length !== a.length) return false;
    for (let bit = 0; bit < r.bits; bit++) {
      const byte = bit >> 3;
      const mask = 0x80 >> (bit & 7);
      if ((a[byte]! & mask) !== (r.addr[byte]! & mask)) return false;
    }
    return true;
  });
}
