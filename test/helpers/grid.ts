/**
 * @module test/helpers/grid
 * Starts real nodes as child processes (`oio node up`, `oio service run`) on their own
 * loopback address (127.0.0.x) with their own data folder and generated config; waits for
 * readiness; returns endpoints, a client, and stop()/kill(). Logs are kept in a file and
 * printed when a test fails (`dumpLogs`).
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ObjectStorage } from '../../appliance/client/object-storage';
import { tmpDir } from './tmp';

export const OIO_MAIN = path.resolve(__dirname, '../../appliance/runtime/oio-main.js');

/** The KEY=VALUE lines of bin/oio.env: test nodes run with the environment the image gives. */
function oioEnv(): Record<string, string> {
  const file = path.resolve(__dirname, '../../../bin/oio.env');
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

let nextIp = 10 + Math.floor(Math.random() * 200);

/** A fresh loopback address for one node: 127.0.<pid-based>.<n>, so runs never collide. */
export function freshIp(): string {
  nextIp = nextIp >= 250 ? 10 : nextIp + 1;
  return `127.0.${(process.pid % 200) + 20}.${nextIp}`;
}

export interface NodeOptions {
  ip?: string;
  dataDir?: string;
  /** extra config keys (schema spelling), e.g. { 'rawx.count': 6, 'ns.chunk_size': '1MiB' } */
  config?: Record<string, unknown>;
  /** run only these services in the node process */
  services?: string[];
  account?: string;
}

export interface ProcessHandle {
  proc: ChildProcess;
  logFile: string;
  /** resolves when the process has exited */
  exited: Promise<number | null>;
}

export interface TestNode {
  ip: string;
  dataDir: string;
  proxy: string;
  conscience: string;
  configFile: string;
  main: ProcessHandle;
  extra: ProcessHandle[];
  client(account?: string): ObjectStorage;
  /** SIGTERM and wait (clean stop) */
  stop(): Promise<void>;
  /** a signal to the node's main process (SIGKILL: crash; its etcd member, if any, lives on) */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** starts the main process again on the same data */
  restart(): Promise<void>;
  /** runs one more service in its own process (e.g. a rawx volume: `rawx`, index 1, or `{ volume: DIR }` as the image's units) */
  runService(type: string, index?: number | { volume: string }): Promise<ProcessHandle>;
  logs(): string;
}

function spawnOio(args: string[], logFile: string, readyPattern: RegExp, timeoutMs = 30_000): Promise<ProcessHandle> {
  const out = fs.openSync(logFile, 'a');
  // Its own process group: a signal to the group reaches the node and its children (its etcd
  // member), as a crash or pause of the whole machine would.
  const proc = spawn(process.execPath, [OIO_MAIN, ...args], { stdio: ['ignore', out, out], detached: true, env: { ...process.env, ...oioEnv(), OIO_LOG_LEVEL: process.env.OIO_LOG_LEVEL ?? 'info' } });
  fs.closeSync(out);
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let done = false;
    exited.then((code) => { if (!done) { done = true; reject(new Error(`oio ${args.join(' ')} exited with ${code} before ready:\n${tail(logFile)}`)); } });
    const poll = () => {
      if (done) return;
      const text = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
      const count = (text.match(new RegExp(readyPattern.source, 'g')) ?? []).length;
      if (count > (handleCounts.get(logFile) ?? 0)) { handleCounts.set(logFile, count); done = true; resolve({ proc, logFile, exited }); return; }
      if (Date.now() - started > timeoutMs) { done = true; proc.kill('SIGKILL'); reject(new Error(`oio ${args.join(' ')} not ready after ${timeoutMs} ms:\n${tail(logFile)}`)); return; }
      setTimeout(poll, 50);
    };
    poll();
  });
}

const handleCounts = new Map<string, number>();

/** The last lines of a log; with OIO_TEST_LOG_DIR set, the whole file is also copied there. */
function tail(file: string, lines = 60): string {
  if (!fs.existsSync(file)) return '(no log)';
  const keep = process.env.OIO_TEST_LOG_DIR;
  if (keep) {
    fs.mkdirSync(keep, { recursive: true });
    fs.copyFileSync(file, path.join(keep, `${path.basename(path.dirname(file))}-${path.basename(file)}`));
  }
  return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

async function stopProc(h: ProcessHandle, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<void> {
  if (h.proc.exitCode === null && h.proc.signalCode === null) {
    h.proc.kill(signal);
    const t = setTimeout(() => signalGroup(h, 'SIGKILL'), timeoutMs);
    await h.exited;
    clearTimeout(t);
  }
  // Whatever is left of its group (an etcd member orphaned by an earlier crash) goes too.
  if (h.proc.pid !== undefined) { try { process.kill(-h.proc.pid, 'SIGKILL'); } catch { /* none left */ } }
}

const running = new Set<TestNode>();

/** Sends a signal to a process and its children (its process group). */
export function signalGroup(h: ProcessHandle, signal: NodeJS.Signals): void {
  if (h.proc.exitCode !== null || h.proc.signalCode !== null || h.proc.pid === undefined) return;
  try { process.kill(-h.proc.pid, signal); } catch { h.proc.kill(signal); }
}

/** Starts a node; `config` keys go to its generated config file. */
export async function startNode(opts: NodeOptions = {}): Promise<TestNode> {
  const ip = opts.ip ?? freshIp();
  const dataDir = opts.dataDir ?? tmpDir('oio-node-');
  fs.mkdirSync(dataDir, { recursive: true });
  const configFile = path.join(dataDir, 'oio.json');
  const conf: Record<string, unknown> = { ip, data_dir: dataDir, 'agent.interval': '500ms', 'ns.bulletin_refresh': '500ms', 'meta2.event_interval': '100ms', ...(opts.config ?? {}) };
  if (opts.services) conf['node.services'] = opts.services;
  fs.writeFileSync(configFile, JSON.stringify(conf, null, 2));
  const logFile = path.join(dataDir, 'node.log');
  const ready = /"msg":"node ready"/;
  let main = await spawnOio(['node', 'up', '--config', configFile], logFile, ready);
  const extra: ProcessHandle[] = [];
  const formerGroups: number[] = [];
  const node: TestNode = {
    ip, dataDir, configFile, proxy: `${ip}:6006`, conscience: `${ip}:6000`,
    get main() { return main; },
    extra,
    client: (account = opts.account ?? 'test') => new ObjectStorage({ proxy: `${ip}:6006`, account }),
    async stop() {
      for (const h of extra) await stopProc(h);
      await stopProc(main);
      for (const pid of formerGroups.splice(0)) { try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ } }
      running.delete(node);
    },
    async kill(signal) { main.proc.kill(signal); if (signal === 'SIGKILL' || signal === 'SIGTERM') await main.exited; },
    async restart() {
      // The crashed process's group (its etcd member) is stopped when the node is.
      if (main.proc.pid !== undefined) formerGroups.push(main.proc.pid);
      main = await spawnOio(['node', 'up', '--config', configFile], logFile, ready);
      running.add(node);
    },
    async runService(type, index) {
      const which = typeof index === 'object' ? ['--volume', index.volume] : index !== undefined ? ['--index', String(index)] : [];
      const f = path.join(dataDir, `${type}${typeof index === 'object' ? path.basename(index.volume) : index ?? ''}.log`);
      const h = await spawnOio(['service', 'run', type, '--config', configFile, ...which], f, ready);
      extra.push(h);
      return h;
    },
    logs: () => [logFile, ...extra.map((h) => h.logFile)].map((f) => `==> ${f}\n${tail(f)}`).join('\n'),
  } as TestNode;
  running.add(node);
  return node;
}

/** Stops every node still running (mocha root hook). */
export async function stopAllNodes(): Promise<void> {
  const left = [...running];
  if (!left.length) return;
  process.stderr.write(`stopping ${left.length} node(s) left running: ${left.map((n) => n.ip).join(', ')}\n`);
  await Promise.all(left.map(async (n) => {
    const t0 = Date.now();
    await n.stop().catch(() => undefined);
    if (Date.now() - t0 > 5000) process.stderr.write(`node ${n.ip} took ${Date.now() - t0} ms to stop\n`);
  }));
}

/** Prints a node's logs when the current test failed (call from afterEach). */
export function dumpLogsOnFailure(ctx: Mocha.Context, node: TestNode | undefined): void {
  if (node && ctx.currentTest?.state === 'failed') process.stderr.write(`\n--- logs of node ${node.ip} ---\n${node.logs()}\n`);
}

export interface TestGrid {
  nodes: TestNode[];
  /** etcd client endpoints of the grid */
  etcd: string[];
  /** starts one more node (an etcd client only) that joins the grid */
  addNode(config?: Record<string, unknown>): Promise<TestNode>;
  stop(): Promise<void>;
}

/**
 * Starts a grid of `nodes` nodes on 127.0.N.1, 127.0.N.2, ... each with its own data folder;
 * the first three run the etcd members. Resolves once every node sees every other node's
 * services and the prefixes are mapped (`oio cluster bootstrap`).
 */
export async function startGrid(opts: { nodes: number; config?: Record<string, unknown> }): Promise<TestGrid> {
  const octet = 30 + ((process.pid + Math.floor(Math.random() * 1000)) % 200);
  const ipOf = (i: number) => `127.${octet}.0.${i + 1}`;
  const members = Math.min(3, opts.nodes);
  const etcd = Array.from({ length: members }, (_, i) => `${ipOf(i)}:2379`);
  const initialCluster = Array.from({ length: members }, (_, i) => `etcd-${ipOf(i)}=http://${ipOf(i)}:2380`).join(',');
  const base = { 'etcd.endpoints': etcd, 'etcd.lease_ttl': '3s', 'etcd.initial_cluster': initialCluster, ...(opts.config ?? {}) };
  const nodes = await Promise.all(Array.from({ length: opts.nodes }, (_, i) =>
    startNode({ ip: ipOf(i), config: { ...base, 'etcd.member': i < members } })));
  const all = (): TestNode[] => nodes;
  await waitGridSees(all());
  const { runCli } = await import('../../appliance/cli');
  const out: string[] = [];
  const rc = await runCli(['cluster', 'bootstrap', '--proxy', nodes[0]!.proxy], { out: (s) => out.push(s), err: (s) => out.push(s) });
  if (rc !== 0) throw new Error(`cluster bootstrap failed: ${out.join('')}`);
  // Let every proxy's cached bulletin (refreshed each ns.bulletin_refresh) catch up.
  await new Promise((r) => setTimeout(r, 1200));
  return {
    nodes, etcd,
    async addNode(config = {}) {
      const n = await startNode({ ip: ipOf(nodes.length), config: { ...base, 'etcd.member': false, ...config } });
      nodes.push(n);
      await waitGridSees(all());
      await new Promise((r) => setTimeout(r, 1200));
      return n;
    },
    async stop() { for (const n of [...nodes].reverse()) await n.stop(); },
  };
}

/** Waits until every node's conscience lists the meta1, meta2 and rawx of every node. */
export async function waitGridSees(nodes: TestNode[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let ok = true;
    for (const n of nodes) {
      if (n.main.proc.exitCode !== null || n.main.proc.signalCode !== null) continue;
      const list = await n.client().clusterList().catch(() => []);
      const ips = (t: string) => new Set(list.filter((s) => s.type === t && s.score > 0).map((s) => s.addr.split(':')[0]));
      const live = nodes.filter((x) => x.main.proc.exitCode === null && x.main.proc.signalCode === null);
      if (!live.every((x) => ips('meta1').has(x.ip) && ips('meta2').has(x.ip) && ips('rawx').has(x.ip))) { ok = false; break; }
    }
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`grid not formed after ${timeoutMs} ms:\n${nodes.map((n) => n.logs()).join('\n')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
