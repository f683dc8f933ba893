/**
 * @module runtime/node-host
 * The composition root of one node (`oio node up`): builds every enabled service from the
 * configuration, starts them in dependency order (conscience first), starts the agent that
 * registers them with the conscience, bootstraps meta0 on a fresh grid, and stops all in
 * reverse order with a deadline and one log line each.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Config, localVolumes, Logger, OioError, rawxVolumes, STATUS_PATH, isNotFound, sleep } from '../common';
import { ConscienceClient } from '../client/remote/conscience';
import { Agent, type LocalService } from '../../agents/sampler';
import { RawxService } from '../services/rawx';
import { RdirService } from '../services/rdir';
import type { AdminSshContext } from '../gateways/admin-ssh';
import type { ObjectStorage } from '../client/object-storage';
import type { Service, ServiceContext } from './service';
import type { EtcdElection, sharedSecret } from '../sqliterepo';
import type { Membership } from './membership';
// The other services' modules load only when the process runs them: a disk's rawx + rdir
// process (`oio service run rawx,rdir`) does not carry the directory, gateways and bridges.

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

/**
 * Folder (under DATA/rdir) of the rdir base of each volume: the volume folder's name (a disk
 * label on the image, rawx-N otherwise), with `-INDEX` added when two volumes share a name.
 */
export function rdirDirNames(volumes: string[]): string[] {
  const names = volumes.map((v) => path.basename(v));
  return names.map((n, i) => (names.indexOf(n) !== names.lastIndexOf(n) ? `${n}-${i}` : n));
}

/** The volume indexes `oio node up` serves in its process (node.volume_indexes; empty: all). */
export function inProcessVolumeIndexes(config: Config): number[] {
  const volumes = rawxVolumes(config);
  const listed = config['node.volume_indexes'];
  if (listed.length === 0) return volumes.map((_, i) => i);
  return listed.map((s) => {
    const i = Number(s);
    if (!Number.isInteger(i) || i < 0) throw new OioError('BAD_REQUEST', `node.volume_indexes: "${s}" is not a volume index`);
    return i;
  }).filter((i) => i < volumes.length);
}

/** The index of a volume folder among the node's volumes; BAD_REQUEST naming them when absent. */
export function volumeIndexOf(config: Config, volume: string): number {
  const volumes = rawxVolumes(config);
  const i = volumes.indexOf(path.resolve(volume));
  if (i < 0) throw new OioError('BAD_REQUEST', `volume ${volume} is not one of this node's volumes (${volumes.join(', ') || 'none'}: rawx.volumes / OIO_RAWX_VOLUMES)`);
  return i;
}

/** Every service type a node process can run (node.services, `oio service run TYPE`). */
export const SERVICE_TYPES = ['conscience', 'meta0', 'meta1', 'account', 'meta2', 'rawx', 'rdir', 'proxy', 's3', 'admin-ssh', 'ftp', 'nfs'];

export interface StartOptions {
  /** service types to run in this process (default: config node.services) */
  services?: string[];
  /** with rawx / rdir: which volume indexes (default node.volume_indexes, else all) */
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

  // A grid coordinates through etcd (elections of bases, membership); one node needs none.
  const etcdEndpoints = config['etcd.endpoints'];
  const grid = etcdEndpoints.length > 0;
  // replicated bases elect their master through etcd (meta1, meta2, account); the S3 gateways
  // elect the one that runs the lifecycle worker
  const elects = ['meta1', 'meta2', 'account', 's3'].some((t) => wanted.has(t));
  const sqliterepo: { EtcdElection: typeof EtcdElection; sharedSecret: typeof sharedSecret } | undefined = grid && elects ? await import('../sqliterepo') : undefined;
  const ctxFor = (svc: Service, sub: string): ServiceContext => {
    const dir = path.join(dataDir, sub);
    fs.mkdirSync(dir, { recursive: true });
    const slog = log.child({ svc: svc.type, id: sub });
    return {
      config, log: slog, signal: abort.signal, dataDir: dir, conscienceAddrs,
      election: sqliterepo ? (self) => new sqliterepo.EtcdElection({ self, endpoints: etcdEndpoints, ns: config.namespace, ttlSec: Math.round(config['etcd.lease_ttl'] / 1000), log: slog.child({ component: 'election' }) }) : undefined,
      sharedSecret: sqliterepo ? (name) => sqliterepo.sharedSecret(etcdEndpoints, config.namespace, name) : undefined,
    };
  };
  let membership: Membership | undefined;
  const local: LocalService[] = [];
  // `name` (default `sub`) names a per-volume service at the conscience: id IP:name, loc LOC.name.
  const startOne = async (svc: Service, sub: string, volume?: string, name = sub): Promise<void> => {
    await svc.start(ctxFor(svc, sub));
    started.push(svc);
    if (svc.type !== 'conscience') {
      local.push({ type: svc.type, addr: svc.addr, id: volume ? `${ip}:${name}` : svc.addr, loc: `${loc}.${name}`, volume: volume ?? dataDir, check: ['admin-ssh', 'nfs', 'ftp'].includes(svc.type) ? 'tcp' : 'http', checkPath: STATUS_PATH });
    }
    log.info('service started', { svc: svc.type, addr: svc.addr });
  };

  let agent: Agent | undefined;
  const stop = async (): Promise<void> => {
    abort.abort();
    agent?.stop();
    await membership?.stop();
    for (const svc of [...started].reverse()) {
      const t0 = Date.now();
      // at most 5 s per service; the timer is cleared once the service stopped (each one left
      // behind kept the process alive for 5 s after "node stopped")
      const bound = new AbortController();
      await Promise.race([svc.stop(), sleep(5000, bound.signal)])
        .catch((e: unknown) => log.warn('stop failed', { svc: svc.type, err: e as Error }))
        .finally(() => bound.abort());
      log.info('service stopped', { svc: svc.type, addr: svc.addr, durationMs: Date.now() - t0 });
    }
  };

  try {
    if (config['etcd.member'] && wanted.has('conscience')) {
      const { EtcdMember } = await import('./etcd-member');
      const member = new EtcdMember({ host: ip, clientPort: config['etcd.client_port'], peerPort: config['etcd.peer_port'], initialCluster: config['etcd.initial_cluster'], state: config['etcd.cluster_state'], ns: config.namespace });
      await member.start(ctxFor(member, 'etcd'));
      started.push(member);
    }
    if (grid && wanted.has('conscience')) {
      membership = new (await import('./membership')).Membership({
        endpoints: etcdEndpoints, ns: config.namespace, ttlSec: Math.round(config['etcd.lease_ttl'] / 1000), refreshMs: config['agent.interval'],
        self: { ip, conscience: `${ip}:${config['conscience.port']}`, time: Date.now() }, log: log.child({ component: 'membership' }),
      });
      membership.start();
    }
    // In a grid, two registration rounds of every agent before it places anything.
    const warmupMs = grid ? 2 * config['agent.interval'] + 500 : 0;
    if (wanted.has('conscience')) await startOne(new (await import('../services/conscience')).ConscienceService({ host: ip, port: config['conscience.port'], warmupMs }), 'conscience');
    if (wanted.has('meta0')) await startOne(new (await import('../services/meta0')).Meta0Service({ host: ip, port: config['meta0.port'] }), 'meta0');
    if (wanted.has('meta1')) await startOne(new (await import('../services/meta1')).Meta1Service({ host: ip, port: config['meta1.port'] }), 'meta1');
    if (wanted.has('account')) await startOne(new (await import('../services/account')).AccountService({ host: ip, port: config['account.port'] }), 'account');
    if (wanted.has('meta2')) {
      const conscience = new ConscienceClient(conscienceAddrs);
      const { replicaSetOf } = await import('../client/resolver');
      const resolveAccount = async () => replicaSetOf(await conscience.conscienceList('account'), config['ns.directory_replicas']);
      await startOne(new (await import('../services/meta2')).Meta2Service({ host: ip, port: config['meta2.port'], resolveAccount }), 'meta2');
    }
    const volumes = rawxVolumes(config);
    const volumeIndexes = opts.rawxIndexes ?? inProcessVolumeIndexes(config);
    for (const i of volumeIndexes) {
      if (volumes[i] === undefined) throw new OioError('BAD_REQUEST', `volume index ${i}: only ${volumes.length} volumes configured`);
    }
    // One rdir per volume, beside it (DATA/rdir/<volume name>): it outlives the loss of the
    // volume it describes. Each rawx feeds the rdir of its volume when the node runs rdir.
    const rdirIndexes = wanted.has('rdir') ? volumeIndexes : [];
    const rdirDirs = rdirDirNames(volumes);
    const rdirAddrs = new Map<number, string>();
    for (const i of rdirIndexes) {
      const rdir = new RdirService({ host: ip, port: config['rdir.port'] + i, volume: volumes[i]!, id: `${ip}:rdir-${i}` });
      await startOne(rdir, path.join('rdir', rdirDirs[i]!), volumes[i], `rdir-${i}`);
      rdirAddrs.set(i, rdir.addr);
    }
    const feedsRdir = config['node.services'].includes('rdir') || wanted.has('rdir');
    const rawxIndexes = wanted.has('rawx') ? volumeIndexes : [];
    for (const i of rawxIndexes) {
      const vol = volumes[i]!;
      fs.mkdirSync(vol, { recursive: true });
      const rdir = feedsRdir ? rdirAddrs.get(i) ?? `${ip}:${config['rdir.port'] + i}` : undefined;
      await startOne(new RawxService({ host: ip, port: config['rawx.port'] + i, volume: vol, fsync: config['rawx.fsync'], rdir }), `rawx-${i}`, vol);
    }
    const members = membership;
    agent = new Agent({ conscienceAddrs: members ? () => members.consciences() : conscienceAddrs, intervalMs: config['agent.interval'], services: local });
    await agent.start();
    if (!grid && wanted.has('meta0') && wanted.has('meta1')) {
      // A single node: map every prefix onto this node's meta1 (idempotent on restart).
      // A grid maps them once all its first nodes are up: `oio cluster bootstrap`.
      const meta1 = local.filter((s) => s.type === 'meta1').map((s) => s.addr);
      await new (await import('../client/remote/meta0')).Meta0Client(local.find((s) => s.type === 'meta0')!.addr).meta0Init(meta1);
    }
    if (wanted.has('proxy')) {
      await waitReady(new ConscienceClient(conscienceAddrs), rawxIndexes.length, rdirIndexes.length, abort.signal);
      await startOne(new (await import('../services/proxy')).ProxyService({ host: ip, port: config['proxy.port'] }), 'proxy');
      await agent.sampleOnce();
    }
    const proxyAddr = started.find((s) => s.type === 'proxy')?.addr ?? `${ip}:${config['proxy.port']}`;
    // The front ends below read this node's own chunks from the rawx files (node.local_reads).
    const ownVolumes = localVolumes(config);
    if (wanted.has('proxy') && wanted.has('account') && config['s3.access_key'] !== '') {
      // The default S3 user (OIO_S3_ACCESS_KEY / OIO_S3_SECRET_KEY), account "default", even
      // when the gateway runs in its own process (`oio service run s3`).
      await new (await import('../client/object-storage')).ObjectStorage({ proxy: proxyAddr, account: 'default' })
        .userCreate({ accessKey: config['s3.access_key'], secretKey: config['s3.secret_key'], replace: true });
    }
    if (wanted.has('s3')) {
      const tlsDir = path.join(dataDir, 's3', 'tls');
      const tls = config['s3.tls_port'] > 0
        ? { port: config['s3.tls_port'], certFile: config['s3.tls_cert'] || path.join(tlsDir, 'cert.pem'), keyFile: config['s3.tls_key'] || path.join(tlsDir, 'key.pem') }
        : undefined;
      await startOne(new (await import('../gateways/s3')).S3Service({ host: ip, port: config['s3.port'], proxy: proxyAddr, region: config['s3.region'], domains: config['s3.domains'], storageClasses: config['s3.storage_classes'] as Record<string, string>, tls,
        lifecycleIntervalMs: config['s3.lifecycle_interval'], lifecycleDayMs: config['s3.lifecycle_day'], sseCOverHttp: config['s3.sse_c_over_http'], logDeliveryMs: config['s3.log_delivery_interval'],
        // SSE-S3 master key: the file configured, else a single node's own file (made on first
        // start), a grid's shared secret in etcd.
        sseKeyFile: config['s3.sse_key_file'] || (grid ? undefined : path.join(dataDir, 's3', 'sse-master.key')), sseKeyCreate: !grid, localVolumes: ownVolumes }), 's3');
    }
    if (wanted.has('admin-ssh')) {
      // SFTP/scp of the console: the bridge layer over the console's account (admin_ssh.account).
      const { ObjectStorage } = await import('../client/object-storage');
      const { createFileFront } = await import('../../fs-bridge/sftp');
      const files = (ctx: AdminSshContext) => createFileFront({
        storage: new ObjectStorage({ proxy: proxyAddr, account: config['admin_ssh.account'], localVolumes: ownVolumes }),
        dataDir: path.join(ctx.dataDir, 'files'), log: ctx.log.child({ component: 'files' }),
      });
      await startOne(new (await import('../gateways/admin-ssh')).AdminSshService({ host: ip, port: config['admin_ssh.port'], files }), 'admin-ssh');
    }
    if (wanted.has('ftp')) {
      // Not in the default node.services: a node runs it when listed (or `oio service run ftp`).
      await startOne(new (await import('./ftp-service')).FtpService({ host: ip, port: config['ftp.port'], proxy: `${ip}:${config['proxy.port']}`, localVolumes: ownVolumes }), 'ftp');
    }
    if (wanted.has('nfs')) {
      // NFSv3: one export per container of the account, each on its own bridge.
      const { ObjectStorage } = await import('../client/object-storage');
      const { createBridgeFs } = await import('../../fs-bridge/core');
      const storage = new ObjectStorage({ proxy: started.find((s) => s.type === 'proxy')?.addr ?? `${ip}:${config['proxy.port']}`, account: config['nfs.account'], localVolumes: ownVolumes });
      await startOne(new (await import('../../fs-bridge/nfs')).NfsService({
        host: ip, port: config['nfs.port'], portmapPort: config['nfs.portmap'] ? config['nfs.portmap_port'] : undefined, exports: config['nfs.exports'], accessLog: config.access_log,
        containers: () => listContainers(storage),
        containerExists: (c) => storage.containerShow(c).then(() => true, (e: unknown) => { if (isNotFound(e)) return false; throw e; }),
        openBridge: (container, dirs) => createBridgeFs({ storage, container, ...dirs, log: log.child({ svc: 'nfs', component: 'bridge' }) }),
      }), 'nfs');
    }
  } catch (e) {
    await stop();
    throw e;
  }
  const proxy = started.find((s) => s.type === 'proxy');
  return { config, services: started, proxyAddr: proxy?.addr ?? `${ip}:${config['proxy.port']}`, conscienceAddrs, stop };
}

/** Waits until the bulletin shows the directory services, `rawxCount` rawx and `rdirCount` rdir with a score. */
async function waitReady(conscience: ConscienceClient, rawxCount: number, rdirCount: number, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const list = await conscience.conscienceList().catch(() => []);
    const ok = (t: string, n = 1) => list.filter((s) => s.type === t && s.score > 0).length >= n;
    if (ok('meta0') && ok('meta1') && ok('meta2') && ok('account') && ok('rawx', rawxCount) && ok('rdir', rdirCount)) return;
    if (Date.now() > deadline || signal.aborted) throw new OioError('UNAVAILABLE', 'node not ready after 30 s: services missing from the conscience');
    await sleep(100, signal);
  }
}

/** Every container of the storage's account (none while the account does not exist). */
async function listContainers(storage: ObjectStorage): Promise<string[]> {
  const names: string[] = [];
  let marker: string | undefined;
  for (;;) {
    const page = await storage.containerList({ marker, limit: 1000 }).catch((e: unknown) => {
      if ((e as OioError).code === 'ACCOUNT_NOT_FOUND') return { containers: [], truncated: false, next_marker: undefined };
      throw e;
    });
    names.push(...page.containers.map((c) => c.name));
    marker = page.next_marker ?? page.containers[page.containers.length - 1]?.name;
    if (!page.truncated || marker === undefined) return names;
  }
}
