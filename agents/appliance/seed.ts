/**
 * @module agents/appliance/seed
 * The first-boot seed: `KEY=VALUE` lines in `oio-seed.conf` on the boot (EFI) partition,
 * overridden by `oio.KEY=VALUE` words on the kernel command line. Keys: hostname, namespace,
 * ip, admin_key (an OpenSSH public key; on the command line with `,` for spaces),
 * etcd_endpoints, etcd_member, etcd_initial_cluster, etcd_cluster_state, s3_access_key,
 * s3_secret_key, console_report (seconds between memory lines on the console, 0 = off).
 * Any node configuration key (`ftp.pasv_range=31000-31009`, see `oio config reference`) is
 * accepted too and lands in /etc/oio/oio.json. No seed at all: a single-node grid.
 */
import { isConfigKey } from '../../appliance/common';

export const SEED_KEYS = [
  'hostname', 'namespace', 'ip', 'admin_key', 'etcd_endpoints', 'etcd_member', 'etcd_initial_cluster',
  'etcd_cluster_state', 's3_access_key', 's3_secret_key', 'console_report',
] as const;
export type SeedKey = (typeof SEED_KEYS)[number];
export type Seed = Partial<Record<SeedKey, string>> & { config?: Record<string, string> };

function isSeedKey(k: string): k is SeedKey { return (SEED_KEYS as readonly string[]).includes(k); }

/** Parses the seed file: `KEY=VALUE` per line, `#` comments, optional quotes; unknown keys listed. */
export function parseSeedFile(text: string): { seed: Seed; unknown: string[] } {
  const seed: Seed = {};
  const unknown: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) { unknown.push(line); continue; }
    const key = line.slice(0, eq).trim().toLowerCase();
    let value = line.slice(eq + 1).trim();
    if (value.length >= 2 && (value[0] === '"' || value[0] === '\'') && value.endsWith(value[0])) value = value.slice(1, -1);
    if (isSeedKey(key)) seed[key] = value;
    else if (isConfigKey(key)) seed.config = { ...seed.config, [key]: value };
    else unknown.push(key);
  }
  return { seed, unknown };
}

/** Reads `oio.KEY=VALUE` words of a kernel command line (`admin_key` with `,` for spaces). */
export function parseCmdline(cmdline: string): Seed {
  const seed: Seed = {};
  for (const word of cmdline.trim().split(/\s+/)) {
    if (!word.startsWith('oio.')) continue;
    const eq = word.indexOf('=');
    if (eq < 0) continue;
    const key = word.slice(4, eq).toLowerCase();
    let value = word.slice(eq + 1);
    if (key === 'admin_key') value = value.replace(/,/g, ' ');
    if (isSeedKey(key)) seed[key] = value;
    else if (isConfigKey(key)) seed.config = { ...seed.config, [key]: value };
  }
  return seed;
}

/** The node configuration (oio.json keys) an appliance runs with, from a seed. */
export function configFromSeed(seed: Seed, dataDir: string): Record<string, unknown> {
  const cfg: Record<string, unknown> = {
    namespace: seed.namespace || 'OPENIO',
    data_dir: dataDir,
    'node.services': ['conscience', 'meta0', 'meta1', 'account', 'meta2', 'rawx', 'rdir', 'proxy', 's3', 'admin-ssh', 'ftp', 'nfs'],
    'admin_ssh.port': 22,
    'ftp.port': 21,
    'nfs.port': 2049,
    's3.port': 6007,
  };
  if (seed.ip) cfg.ip = seed.ip;
  if (seed.etcd_endpoints) cfg['etcd.endpoints'] = seed.etcd_endpoints.split(',').map((s) => s.trim()).filter(Boolean);
  if (seed.etcd_member) cfg['etcd.member'] = /^(1|true|yes)$/i.test(seed.etcd_member);
  if (seed.etcd_initial_cluster) cfg['etcd.initial_cluster'] = seed.etcd_initial_cluster;
  if (seed.etcd_cluster_state) cfg['etcd.cluster_state'] = seed.etcd_cluster_state;
  if (seed.s3_access_key) cfg['s3.access_key'] = seed.s3_access_key;
  if (seed.s3_secret_key) cfg['s3.secret_key'] = seed.s3_secret_key;
  return { ...cfg, ...seed.config };
}
