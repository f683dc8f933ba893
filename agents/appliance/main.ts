/**
 * @module agents/appliance/main
 * The appliance's system commands, run by its systemd units:
 * - `first-boot`: applies the seed (hostname, /etc/oio/oio.json, admin SSH key) once;
 * - `disks [--hotplug]`: one disk manager pass (boot, and udev hot-plug), then the per-disk
 *   unit: `oio-volume@LABEL` (the disk's rawx and rdir in one process) enabled and started for
 *   every served data disk, disabled and stopped for a registered disk that is gone, restarted
 *   when the volume list changed (a volume's index gives its ports); with --hotplug, readiness
 *   is reported again;
 * - `node-env`: writes /run/oio/node.env (the node's address and rawx volumes, S3 over HTTPS
 *   on 443; oio-node serves volume 0, the boot disk, in its process);
 * - `wait-ready`: waits until every service is up and scored (every rawx and rdir, the
 *   per-disk units' included), then prints on the console how to reach the node
 *   (ExecStartPost of oio-node.service: the unit is active only then);
 * - `report SECONDS`: prints the node's resident memory on the console every SECONDS;
 * - `s3-tls`: a TLS terminator on 443 in front of S3, for a root file system from before
 *   2026-12-05 whose oio-s3-tls.service runs it (the gateway now serves HTTPS itself).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { loadConfig, rootLogger, sleep, type Config } from '../../appliance/common';
import { runDiskManager, readDiskState, run, type DiskReport } from '../disk-manager';
import { APPLIANCE_PATHS as P } from './paths';
// The client library and the TLS terminator load only for the commands that use them: each
// command is its own Node start at boot (seconds of CPU under TCG).
import { configFromSeed, parseCmdline, parseSeedFile, type Seed } from './seed';

const log = rootLogger.child({ svc: 'agent', component: 'appliance' });

function writeAtomic(file: string, text: string, mode = 0o644): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text, { mode });
  fs.renameSync(tmp, file);
}

function say(line: string): void {
  process.stdout.write(line + '\n');
  try { fs.appendFileSync(P.console, line + '\r\n'); } catch { /* no console: the journal has it */ }
}

/** The seed: every seed file that exists, then the kernel command line. */
export function readSeed(): Seed {
  let seed: Seed = {};
  for (const f of P.seedFiles) {
    if (!fs.existsSync(f)) continue;
    const { seed: s, unknown } = parseSeedFile(fs.readFileSync(f, 'utf8'));
    if (unknown.length) log.warn('seed: unknown keys ignored', { file: f, keys: unknown });
    seed = { ...seed, ...s, config: { ...seed.config, ...s.config } };
  }
  try { const c = parseCmdline(fs.readFileSync(P.cmdline, 'utf8')); seed = { ...seed, ...c, config: { ...seed.config, ...c.config } }; } catch { /* no /proc */ }
  return seed;
}

async function firstBoot(): Promise<void> {
  if (fs.existsSync(P.firstBootDone)) { log.info('first boot already done'); return; }
  const seed = readSeed();
  const cfg = configFromSeed(seed, P.dataDir);
  if (!fs.existsSync(P.configFile)) {
    writeAtomic(P.configFile, JSON.stringify(cfg, null, 2) + '\n');
    loadConfig({ file: P.configFile, env: {} }); // invalid seed values stop here, naming the key
  }
  if (seed.hostname) {
    if (!/^[a-zA-Z0-9]([a-zA-Z0-9-]{0,62})$/.test(seed.hostname)) throw new Error(`seed hostname "${seed.hostname}" is not a host name`);
    writeAtomic('/etc/hostname', seed.hostname + '\n');
    await run('hostname', [seed.hostname]);
  }
  if (seed.admin_key) {
    const dir = path.join(P.dataDir, 'admin-ssh');
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, 'admin_keys');
    const have = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if (!have.includes(seed.admin_key.trim())) fs.appendFileSync(file, seed.admin_key.trim() + '\n', { mode: 0o600 });
    fs.chmodSync(file, 0o600);
  }
  if (fs.existsSync('/usr/sbin/smbd')) await smbUser(loadConfig({ file: P.configFile, env: {} }));
  if (seed.console_report && Number(seed.console_report) > 0) writeAtomic(P.consoleReport, `${Number(seed.console_report)}\n`);
  writeAtomic(P.firstBootDone, new Date().toISOString() + '\n');
  log.info('first boot done', { namespace: cfg.namespace, grid: cfg['etcd.endpoints'] ?? 'single node', adminKey: Boolean(seed.admin_key) });
}

/** The S3 default user as the SMB user (Samba needs a Unix account; it never logs in). */
async function smbUser(cfg: Config): Promise<void> {
  const user = cfg['s3.access_key'];
  const pass = cfg['s3.secret_key'];
  if (!user || !/^[a-z_][a-z0-9_-]{0,31}$/i.test(user)) { log.warn('SMB: S3 access key is not a usable user name; no SMB user', { user }); return; }
  await run('groupadd', ['-f', 'oio-smb']);
  if ((await run('id', ['-u', user])).code !== 0) await run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', '-G', 'oio-smb', user]);
  const r = spawnSync('smbpasswd', ['-s', '-a', user], { input: `${pass}\n${pass}\n`, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`smbpasswd: ${r.stderr}`);
  log.info('SMB user made', { user });
}

async function primaryAddress(waitS = 60): Promise<string | undefined> {
  for (let i = 0; i < Math.max(1, waitS); i++) {
    const r = await run('ip', ['-j', '-4', 'addr', 'show', 'scope', 'global']);
    if (r.code === 0) {
      const ifs = JSON.parse(r.stdout || '[]') as Array<{ addr_info?: Array<{ local?: string }> }>;
      const a = ifs.flatMap((i) => i.addr_info ?? []).find((x) => x.local);
      if (a?.local) return a.local;
    }
    if (waitS === 0) return undefined;
    await sleep(1000);
  }
  log.warn('no global IPv4 address after 60 s: the node serves on 127.0.0.1 only');
  return '127.0.0.1';
}

function rootVolume(): string { return path.join(P.dataDir, 'volumes', 'rawx-0'); }

/** The node's rawx volumes: one on the boot disk, then one per data disk. */
export function nodeVolumes(): string[] {
  return [rootVolume(), ...readDiskState(P.diskState).volumes];
}

/**
 * Writes /run/oio/node.env. `waitForAddress: false` (the boot's disk pass): only when the
 * node's address is known now; the units then find it fresh and skip their own node-env run
 * (a Node start each: about 5 s of CPU under TCG, with every unit starting at once).
 */
async function nodeEnv(opts: { waitForAddress?: boolean } = {}): Promise<boolean> {
  const fileCfg = fs.existsSync(P.configFile) ? JSON.parse(fs.readFileSync(P.configFile, 'utf8')) as Record<string, unknown> : {};
  const ip = typeof fileCfg.ip === 'string' && fileCfg.ip ? fileCfg.ip : await primaryAddress(opts.waitForAddress === false ? 0 : 60);
  if (ip === undefined) return false;
  // oio-node serves volume 0 (the boot disk); each data disk has its own units.
  const lines = [`OIO_RAWX_VOLUMES=${nodeVolumes().join(',')}`, 'OIO_NODE_VOLUME_INDEXES=0', `OIO_DATA_DIR=${P.dataDir}`];
  // S3 over HTTPS by the gateway itself, unless an older root file system runs its own
  // terminator on 443 (oio-s3-tls.service) after an application-only upgrade.
  if (!fs.existsSync(path.join(P.unitDir, 'oio-s3-tls.service'))) lines.push('OIO_S3_TLS_PORT=443', `OIO_S3_TLS_CERT=${P.s3TlsCert}`, `OIO_S3_TLS_KEY=${P.s3TlsKey}`);
  lines.push(`OIO_IP=${ip}`);
  writeAtomic(P.nodeEnv, lines.join('\n') + '\n');
  log.info('node environment written', { file: P.nodeEnv, env: lines });
  return true;
}

/**
 * How the root file system runs a data disk: `volume`, one unit (oio-volume@LABEL) for its
 * rawx and rdir in one process; `pair`, the two units of a root file system from before
 * 2026-12-05 (oio-rawx@, oio-rdir@) that an application-only upgrade (oio-upgrade) keeps.
 */
export type DiskUnitLayout = 'volume' | 'pair';

export function diskUnitLayout(): DiskUnitLayout {
  const has = (u: string) => fs.existsSync(path.join(P.unitDir, u));
  return !has('oio-volume@.service') && has('oio-rawx@.service') ? 'pair' : 'volume';
}

/** The template units of one data disk (instance: its label, mounted on /srv/oio/LABEL). */
export function diskUnits(label: string, layout: DiskUnitLayout = diskUnitLayout()): string[] {
  return layout === 'pair' ? [`oio-rdir@${label}.service`, `oio-rawx@${label}.service`] : [`oio-volume@${label}.service`];
}

/** What a disk pass means for the per-disk units (pure: tested without systemd). */
export interface DiskUnitPlan {
  /** units of served disks: enabled, then started (or restarted when `restart`) */
  enable: string[];
  /** units of registered disks that are gone: stopped and disabled */
  disable: string[];
  /** a served disk's index moved (a disk before it went): its ports and ids change */
  restart: boolean;
}

/**
 * The per-disk units after a disk pass: every served disk's enabled and started, every gone
 * registered disk's stopped and disabled. A volume's index in [boot volume, ...data volumes]
 * gives its ports and ids: when a served disk's position moved since `before` (the previous
 * pass's data volumes), every served disk's units are restarted with their new index.
 */
export function diskUnitPlan(rep: Pick<DiskReport, 'volumes' | 'disks'>, before: string[], layout: DiskUnitLayout = diskUnitLayout()): DiskUnitPlan {
  const served = rep.volumes.map((v) => path.basename(v));
  const gone = rep.disks.map((d) => d.label).filter((l) => !served.includes(l));
  const restart = rep.volumes.some((v, i) => before.includes(v) && before.indexOf(v) !== i);
  return { enable: served.flatMap((l) => diskUnits(l, layout)), disable: gone.flatMap((l) => diskUnits(l, layout)), restart };
}

/**
 * Applies a disk unit plan. Never waits for a start (at boot this runs before the units' own
 * dependencies are up) and never reloads systemd (the template units are known; the links
 * only matter at the next boot).
 */
async function syncDiskUnits(plan: DiskUnitPlan): Promise<void> {
  const systemctl = async (args: string[]) => {
    const r = await run('systemctl', args);
    if (r.code !== 0) log.warn('systemctl failed', { args, code: r.code, stderr: r.stderr.trim() });
  };
  if (plan.disable.length) {
    await systemctl(['--no-block', 'stop', ...plan.disable]);
    await systemctl(['disable', '--no-reload', ...plan.disable]);
  }
  if (plan.enable.length) {
    // at each boot the units are already enabled: no systemctl run for that
    const wants = path.join(P.unitDir, 'multi-user.target.wants');
    const toEnable = plan.enable.filter((u) => !fs.existsSync(path.join(wants, u)));
    if (toEnable.length) await systemctl(['enable', '--no-reload', ...toEnable]);
    await systemctl(['--no-block', plan.restart ? 'restart' : 'start', ...plan.enable]);
  }
  log.info('disk units', { ...plan });
}

function nodeConfig(): Config {
  const env: Record<string, string> = {};
  if (fs.existsSync(P.nodeEnv)) {
    for (const l of fs.readFileSync(P.nodeEnv, 'utf8').split('\n')) { const eq = l.indexOf('='); if (eq > 0) env[l.slice(0, eq)] = l.slice(eq + 1); }
  }
  return loadConfig({ file: P.configFile, env });
}

function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: 2000 });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
    s.once('timeout', () => { s.destroy(); resolve(false); });
  });
}

/** Units whose memory makes the appliance's total: the node, the FUSE mount, TLS, Samba. */
const APPLIANCE_UNITS = ['oio-node.service', 'oio-fuse.service', 'oio-s3-tls.service', 'smbd.service'];

/**
 * `rss`: resident pages of each process (VmRSS), counted once per process; `pss`: each shared
 * page (Debian's libnode, shared by every Node process) split among the processes mapping it,
 * so a sum over processes is the memory they take together.
 */
export type MemoryKind = 'rss' | 'pss';

/** Resident memory of the per-disk units (oio-volume@*, or oio-rawx@* and oio-rdir@*: systemd puts them in one slice per template). */
export function diskUnitsRssBytes(kind: MemoryKind = 'rss'): number {
  const systemSlice = path.dirname(path.dirname(P.nodeCgroup));
  let total = 0;
  for (const slice of ['system-oio\\x2dvolume.slice', 'system-oio\\x2drawx.slice', 'system-oio\\x2drdir.slice']) {
    let units: string[] = [];
    try { units = fs.readdirSync(path.join(systemSlice, slice)).filter((u) => u.endsWith('.service')); } catch { continue; }
    for (const u of units) total += nodeRssBytes(path.join(systemSlice, slice, u, 'cgroup.procs'), kind);
  }
  return total;
}

/** Resident memory of the whole appliance's services (bytes), the per-disk units included. */
export function applianceRssBytes(kind: MemoryKind = 'rss'): number {
  return APPLIANCE_UNITS.reduce((sum, u) => sum + nodeRssBytes(path.join(path.dirname(path.dirname(P.nodeCgroup)), u, 'cgroup.procs'), kind), 0) + diskUnitsRssBytes(kind);
}

/** Resident memory (bytes) of every process of the node's unit (node and its etcd). */
export function nodeRssBytes(cgroupProcs = P.nodeCgroup, kind: MemoryKind = 'rss'): number {
  let total = 0;
  let pids: string[] = [];
  try { pids = fs.readFileSync(cgroupProcs, 'utf8').split('\n').filter(Boolean); } catch { return 0; }
  for (const pid of pids) {
    if (Number(pid) === process.pid) continue; // wait-ready runs in the node's unit (ExecStartPost)
    try {
      const m = kind === 'rss'
        ? /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
        : /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      if (m) total += Number(m[1]) * 1024;
    } catch { /* gone */ }
  }
  return total;
}

function uptimeS(): number { return Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]); }

async function waitReady(timeoutS: number): Promise<number> {
  const cfg = nodeConfig();
  const ip = cfg.ip;
  const wantRawx = cfg['rawx.volumes'].length || cfg['rawx.count'];
  const { ObjectStorage } = await import('../../appliance/client/object-storage');
  const storage = new ObjectStorage({ proxy: `${ip}:${cfg['proxy.port']}`, account: 'default' });
  const deadline = Date.now() + timeoutS * 1000;
  const ports: Array<[string, number]> = [['s3', cfg['s3.port']], ['admin-ssh', cfg['admin_ssh.port']]];
  if (cfg['node.services'].includes('ftp')) ports.push(['ftp', cfg['ftp.port']]);
  if (cfg['node.services'].includes('nfs')) ports.push(['nfs', cfg['nfs.port']]);
  if (cfg['s3.tls_port'] > 0) ports.push(['s3-https', cfg['s3.tls_port']]);
  let missing: string[] = [];
  while (Date.now() < deadline) {
    missing = [];
    const list = await storage.clusterList().catch(() => []);
    const scored = (t: string) => list.filter((s) => s.type === t && s.score > 0).length;
    for (const t of ['meta0', 'meta1', 'meta2', 'account']) if (scored(t) < 1) missing.push(t);
    if (scored('rawx') < wantRawx) missing.push(`rawx ${scored('rawx')}/${wantRawx}`);
    if (cfg['node.services'].includes('rdir') && scored('rdir') < wantRawx) missing.push(`rdir ${scored('rdir')}/${wantRawx}`);
    for (const [name, port] of ports) if (!(await tcpOpen(ip, port))) missing.push(name);
    if (missing.length === 0) {
      const up = uptimeS();
      const rss = nodeRssBytes();
      say(`oio: node ready ${up.toFixed(1)} s after boot: namespace ${cfg.namespace}, address ${ip}, ${wantRawx} rawx volumes (${cfg['rawx.volumes'].join(' ')})`);
      say(`oio:   S3 http://${ip}:${cfg['s3.port']}${cfg['s3.tls_port'] > 0 ? ` https://${ip}${cfg['s3.tls_port'] === 443 ? '' : `:${cfg['s3.tls_port']}`}` : ''}   console ssh -p ${cfg['admin_ssh.port']} ${cfg['admin_ssh.user']}@${ip}   FTP ftp://${ip}:${cfg['ftp.port']}   NFS nfs://${ip}/<container>${fs.existsSync('/usr/sbin/smbd') ? `   SMB //${ip}/oio` : ''}`);
      const keys = path.join(P.dataDir, 'admin-ssh', 'admin_keys');
      if (!fs.existsSync(keys) || !fs.readFileSync(keys, 'utf8').trim()) say('oio:   no admin key yet: put admin_key=<ssh public key> in oio-seed.conf on the boot partition (or oio.admin_key= on the kernel command line) before the first boot');
      const labels = readDiskState(P.diskState).volumes.map((v) => path.basename(v));
      if (labels.length) {
        const states = await Promise.all(labels.flatMap((l) => diskUnits(l)).map(async (u) => `${u}=${(await run('systemctl', ['is-active', u])).stdout.trim() || 'unknown'}`));
        say(`oio: DISK_UNITS ${states.join(' ')}`);
      }
      say(`oio: OIO_READY uptime_s=${up.toFixed(1)} rss_mib=${(rss / 1048576).toFixed(1)} rawx=${wantRawx} rdir=${scored('rdir')}`);
      writeAtomic(P.readyFlag, `${up}\n`);
      return 0;
    }
    await sleep(1000);
  }
  say(`oio: node NOT ready after ${timeoutS} s: missing ${missing.join(', ')} (journalctl -u oio-node)`);
  return 1;
}

async function report(everyS: number): Promise<void> {
  // once the boot is finished: where its time went (systemd-analyze), for the image benchmark
  await run('systemctl', ['is-system-running', '--wait'], 600_000);
  const total = await run('systemd-analyze', ['time']);
  say(`oio: BOOT ${total.stdout.split('\n')[0]?.trim() ?? ''}`);
  const blame = await run('systemd-analyze', ['blame', '--no-pager']);
  for (const l of blame.stdout.split('\n').slice(0, 8)) if (l.trim()) say(`oio: BOOT blame ${l.trim()}`);
  // where the node's start went: the unit chain, then the milestones of the oio units
  const chain = await run('systemd-analyze', ['critical-chain', 'oio-node.service', '--no-pager']);
  for (const l of chain.stdout.split('\n').slice(0, 20)) if (l.trim()) say(`oio: BOOT chain ${l.trimEnd()}`);
  const journal = await run('journalctl', ['-b', '-o', 'short-monotonic', '--no-pager', '-u', 'oio-firstboot', '-u', 'oio-disks', '-u', 'oio-node', '-u', 'oio-volume@*']);
  const milestones = journal.stdout.split('\n').filter((l) => /Starting|Started|Finished|"msg":"(node ready|service started|disk pass done|disk mounted|formatting blank disk|node environment written|[a-z0-9-]+ started)"/.test(l));
  for (const l of milestones.slice(0, 80)) say(`oio: BOOT log ${l.replace(/"(level|time|pid|hostname)":[^,]*,/g, '').slice(0, 220)}`);
  for (;;) {
    const mib = (b: number) => (b / 1048576).toFixed(1);
    say(`oio: OIO_RSS uptime_s=${uptimeS().toFixed(1)} rss_mib=${mib(nodeRssBytes())} total_mib=${mib(applianceRssBytes())} disk_units_mib=${mib(diskUnitsRssBytes())} total_pss_mib=${mib(applianceRssBytes('pss'))}`);
    await sleep(everyS * 1000);
  }
}

async function main(argv: string[]): Promise<number> {
  switch (argv[0]) {
    case 'first-boot': await firstBoot(); return 0;
    case 'disks': {
      const before = readDiskState(P.diskState).volumes;
      const rep = await runDiskManager({ mountRoot: P.mountRoot, stateFile: P.diskState, log: log.child({ component: 'disks' }) });
      log.info('disk pass done', { volumes: rep.volumes, missing: rep.missing, changed: rep.changed });
      if (rep.missing.length) say(`oio: WARNING disks missing: ${rep.missing.join(', ')}: their rawx and rdir are no longer served`);
      const hotplug = argv.includes('--hotplug') || argv.includes('--restart-node');
      // While the node runs, the volume list in /run/oio/node.env must be the new one before
      // readiness is checked against it (the image test caught wait-ready counting the old
      // list: "ready" with 3 rawx while the 4th disk's units were still starting).
      if (hotplug && rep.changed) await nodeEnv();
      // at boot: the units' environment now, if the address is known already
      else if (!hotplug) await nodeEnv({ waitForAddress: false });
      await syncDiskUnits(diskUnitPlan(rep, before));
      // A disk came or went while the node runs: its units start (or stop); the console says
      // when the node is ready with the new volume list.
      if (hotplug && rep.changed) return waitReady(600);
      return 0;
    }
    case 'node-env': await nodeEnv(); return 0;
    case 's3-tls': {
      const cfg = nodeConfig();
      const { startS3Tls } = await import('./s3-tls');
      await startS3Tls({ host: cfg.ip, port: Number(argv[1] ?? 443), s3Port: cfg['s3.port'], certFile: P.s3TlsCert, keyFile: P.s3TlsKey, log: log.child({ component: 's3-tls' }) });
      await new Promise<void>((resolve) => { process.once('SIGTERM', resolve); process.once('SIGINT', resolve); });
      return 0;
    }
    case 'wait-ready': return waitReady(Number(argv[1] ?? 300));
    case 'report': await report(Number(argv[1] ?? (fs.existsSync(P.consoleReport) ? fs.readFileSync(P.consoleReport, 'utf8') : 60))); return 0;
    default:
      process.stderr.write('usage: oio-appliance first-boot | disks [--hotplug] | node-env | wait-ready [SECONDS] | report [SECONDS] | s3-tls [PORT]\n');
      return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (e: unknown) => {
    log.error('appliance command failed', { cmd: process.argv[2], err: e as Error });
    process.stderr.write(`oio-appliance: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
