/**
 * @module runtime/node-host
 * The composition root of one node (`oio node up`): builds every enabled service from the
 * configuration, starts them in dependency order (conscience first), starts the agent that
 * registers them with the conscience, bootstraps meta0 on a fresh grid, and stops all in
 * reverse order with a deadline and one log line each.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Config, Logger, OioError, STATUS_PATH, sleep } from '../common';
import { ConscienceClient } from '../client/remote/conscience';
import { Meta0Client } from '../client/remote/meta0';
import { Agent, type LocalService } from '../../agents/sampler';
import { ConscienceService } from '../services/conscience';
import { Meta0Service } from '../services/meta0';
import { Meta1Service } from '../services/meta1';
import { Meta2Service } from '../services/meta2';
import { AccountService } from '../services/account';
import { RawxService } from '../services/rawx';
import { ProxyService } from '../services/proxy';
import { FtpService } from './ftp-service';
import type { Service, ServiceContext } from './service';

export interface RunningNode {
  config: Config;
  services: Service[];
  proxyAddr: string;
  conscienceAddrs: string[];
  stop(): Promise<void>;
}

/** The node's location: 3 words (room.rack.host); a service adds its own word. */
export function nodeLocation(config: Config): string {
  return config.location || `room0.rack0.${config.ip.replace(/[.:]/g, '-')}`;
}

export function rawxVolumes(config: Config): string[] {
  if (config['rawx.volumes'].length) return config['rawx.volumes'].map((v) => path.resolve(v));
  return Array.from({ length: config['rawx.count'] }, (_, i) => path.resolve(config.data_dir, 'volumes', `rawx-${i}`));
}

export interface StartOptions {
  /** service types to run in this process (default: config node.services) */
  services?: string[];
  /** with rawx: which volume indexes (default all) */
  rawxIndexes?: number[];
}

export async function startNode(config: Config, log: Logger, opts: StartOptions = {}): Promise<RunningNode> {
  const wanted = new Set(opts.services ?? config['node.services']);
  const ip = config.ip;
  const dataDir = path.resolve(config.data_dir);
  fs.mkdirSync(dataDir, { recursive: true });
  const abort = new AbortController();
  const started: Service[] = [];
  const conscienceAddrs = config.conscience ? config.conscience.split(',').map((s) => s.trim()).filter(Boolean) : [`${ip}:${config['conscience.port']}`];
  const loc = nodeLocation(config);

  const ctxFor = (svc: Service, sub: string): ServiceContext => {
    const dir = path.join(dataDir, sub);
    fs.mkdirSync(dir, { recursive: true });
    return { config, log: log.child({ svc: svc.type, id: sub }), signal: abort.signal, dataDir: dir, conscienceAddrs };
  };
  const local: LocalService[] = [];
  const startOne = async (svc: Service, sub: string, volume?: string): Promise<void> => {
    await svc.start(ctxFor(svc, sub));
    started.push(svc);
    if (svc.type !== 'conscience') {
      local.push({ type: svc.type, addr: svc.addr, id: volume ? `${ip}:${sub}` : svc.addr, loc: `${loc}.${sub}`, volume: volume ?? dataDir, ...(svc.type === 'ftp' ? { check: 'tcp' as const } : { check: 'http' as const, checkPath: STATUS_PATH }) });
    }
    log.info('service started', { svc: svc.type, addr: svc.addr });
  };

  let agent: Agent | undefined;
  const stop = async (): Promise<void> => {
    abort.abort();
    agent?.stop();
    for (const svc of [...started].reverse()) {
      const t0 = Date.now();
      await Promise.race([svc.stop(), sleep(5000)]).catch((e: unknown) => log.warn('stop failed', { svc: svc.type, err: e as Error }));
      log.info('service stopped', { svc: svc.type, addr: svc.addr, durationMs: Date.now() - t0 });
    }
  };

  try {
    if (wanted.has('conscience')) await startOne(new ConscienceService({ host: ip, port: config['conscience.port'] }), 'conscience');
    if (wanted.has('meta0')) await startOne(new Meta0Service({ host: ip, port: config['meta0.port'] }), 'meta0');
    if (wanted.has('meta1')) await startOne(new Meta1Service({ host: ip, port: config['meta1.port'] }), 'meta1');
    if (wanted.has('account')) await startOne(new AccountService({ host: ip, port: config['account.port'] }), 'account');
    if (wanted.has('meta2')) {
      const conscience = new ConscienceClient(conscienceAddrs);
      const resolveAccount = async () => (await conscience.conscienceList('account')).find((s) => s.tags['tag.up'] !== false)?.addr;
      await startOne(new Meta2Service({ host: ip, port: config['meta2.port'], resolveAccount }), 'meta2');
    }
    const volumes = rawxVolumes(config);
    const rawxIndexes = wanted.has('rawx') ? opts.rawxIndexes ?? volumes.map((_, i) => i) : [];
    for (const i of rawxIndexes) {
      const vol = volumes[i];
      if (vol === undefined) throw new OioError('BAD_REQUEST', `rawx index ${i}: only ${volumes.length} volumes configured`);
      fs.mkdirSync(vol, { recursive: true });
      await startOne(new RawxService({ host: ip, port: config['rawx.port'] + i, volume: vol, fsync: config['rawx.fsync'] }), `rawx-${i}`, vol);
    }
    agent = new Agent({ conscienceAddrs, intervalMs: config['agent.interval'], services: local });
    await agent.start();
    if (wanted.has('meta0') && wanted.has('meta1')) {
      // A fresh grid: map every prefix onto this node's meta1 (idempotent on restart).
      const meta1 = local.filter((s) => s.type === 'meta1').map((s) => s.addr);
      await new Meta0Client(local.find((s) => s.type === 'meta0')!.addr).meta0Init(meta1);
    }
    if (wanted.has('proxy')) {
      await waitReady(new ConscienceClient(conscienceAddrs), rawxIndexes.length, abort.signal);
      await startOne(new ProxyService({ host: ip, port: config['proxy.port'] }), 'proxy');
      await agent.sampleOnce();
    }
    if (wanted.has('ftp')) {
      // Not in the default node.services: a node runs it when listed (or `oio service run ftp`).
      await startOne(new FtpService({ host: ip, port: config['ftp.port'], proxy: `${ip}:${config['proxy.port']}` }), 'ftp');
    }
  } catch (e) {
    await stop();
    throw e;
  }
  const proxy = started.find((s) => s.type === 'proxy');
  return { config, services: started, proxyAddr: proxy?.addr ?? `${ip}:${config['proxy.port']}`, conscienceAddrs, stop };
}

/** Waits until the bulletin shows the directory services and `rawxCount` rawx with a score. */
async function waitReady(conscience: ConscienceClient, rawxCount: number, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const list = await conscience.conscienceList().catch(() => []);
    const ok = (t: string, n = 1) => list.filter((s) => s.type === t && s.score > 0).length >= n;
    if (ok('meta0') && ok('meta1') && ok('meta2') && ok('account') && ok('rawx', rawxCount)) return;
    if (Date.now() > deadline || signal.aborted) throw new OioError('UNAVAILABLE', 'node not ready after 30 s: services missing from the conscience');
    await sleep(100, signal);
  }
}
