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
  /** a signal to the main process (SIGKILL: crash) */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** starts the main process again on the same data */
  restart(): Promise<void>;
  /** runs one more service in its own process (e.g. a rawx volume: `rawx`, index 1) */
  runService(type: string, index?: number): Promise<ProcessHandle>;
  logs(): string;
}

function spawnOio(args: string[], logFile: string, readyPattern: RegExp, timeoutMs = 30_000): Promise<ProcessHandle> {
  const out = fs.openSync(logFile, 'a');
  const proc = spawn(process.execPath, [OIO_MAIN, ...args], { stdio: ['ignore', out, out], env: { ...process.env, OIO_LOG_LEVEL: process.env.OIO_LOG_LEVEL ?? 'info' } });
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

function tail(file: string, lines = 60): string {
  if (!fs.existsSync(file)) return '(no log)';
  return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

async function stopProc(h: ProcessHandle, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<void> {
  if (h.proc.exitCode !== null || h.proc.signalCode !== null) return;
  h.proc.kill(signal);
  const t = setTimeout(() => h.proc.kill('SIGKILL'), timeoutMs);
  await h.exited;
  clearTimeout(t);
}

const running = new Set<TestNode>();

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
  const node: TestNode = {
    ip, dataDir, configFile, proxy: `${ip}:6006`, conscience: `${ip}:6000`,
    get main() { return main; },
    extra,
    client: (account = opts.account ?? 'test') => new ObjectStorage({ proxy: `${ip}:6006`, account }),
    async stop() { for (const h of extra) await stopProc(h); await stopProc(main); running.delete(node); },
    async kill(signal) { main.proc.kill(signal); if (signal === 'SIGKILL' || signal === 'SIGTERM') await main.exited; },
    async restart() { main = await spawnOio(['node', 'up', '--config', configFile], logFile, ready); running.add(node); },
    async runService(type, index) {
      const f = path.join(dataDir, `${type}${index ?? ''}.log`);
      const h = await spawnOio(['service', 'run', type, '--config', configFile, ...(index !== undefined ? ['--index', String(index)] : [])], f, ready);
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
  for (const n of [...running]) await n.stop().catch(() => undefined);
}

/** Prints a node's logs when the current test failed (call from afterEach). */
export function dumpLogsOnFailure(ctx: Mocha.Context, node: TestNode | undefined): void {
  if (node && ctx.currentTest?.state === 'failed') process.stderr.write(`\n--- logs of node ${node.ip} ---\n${node.logs()}\n`);
}
