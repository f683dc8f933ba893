/**
 * @module runtime/etcd-member
 * Runs this node's etcd member (Debian's etcd-server) as a child process: the first three
 * nodes of a grid each run one; the others are clients only. We do not write our own
 * consensus: elections, membership and the grid's settings live in etcd.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { OioError } from '../common';
import type { Service, ServiceContext } from './service';

export function etcdName(ip: string): string {
  return `etcd-${ip}`;
}

export class EtcdMember implements Service {
  readonly type = 'etcd';
  private proc: ChildProcess | undefined;

  constructor(private readonly opts: { host: string; clientPort: number; peerPort: number; initialCluster: string; state: string; ns: string }) {}

  get addr(): string { return `${this.opts.host}:${this.opts.clientPort}`; }

  async start(ctx: ServiceContext): Promise<void> {
    const { host, clientPort, peerPort } = this.opts;
    const name = etcdName(host);
    const peerUrl = `http://${host}:${peerPort}`;
    const clientUrl = `http://${host}:${clientPort}`;
    const logFile = path.join(ctx.dataDir, 'etcd.log');
    const out = fs.openSync(logFile, 'a');
    const bin = ['/usr/bin/etcd', '/usr/local/bin/etcd'].find((p) => fs.existsSync(p)) ?? 'etcd';
    this.proc = spawn(bin, [
      '--name', name, '--data-dir', path.join(ctx.dataDir, 'data'),
      '--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl,
      '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', this.opts.initialCluster || `${name}=${peerUrl}`,
      '--initial-cluster-state', this.opts.state, '--initial-cluster-token', `oio-${this.opts.ns}`,
      '--heartbeat-interval', '100', '--election-timeout', '1000',
    ], { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    const proc = this.proc;
    await new Promise<void>((resolve, reject) => {
      proc.once('error', (e) => reject(new OioError('UNAVAILABLE', `cannot run etcd (${bin}): ${e.message}; install Debian's etcd-server`)));
      proc.once('spawn', () => resolve());
    });
    proc.on('exit', (code, signal) => { if (this.proc === proc) ctx.log.error('etcd exited', { code, signal, log: logFile }); });
    ctx.log.info('etcd member started', { name, client: clientUrl, peer: peerUrl });
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (!proc || proc.exitCode !== null) return;
    proc.kill('SIGTERM');
    await new Promise<void>((resolve) => { proc.once('exit', () => resolve()); setTimeout(() => { proc.kill('SIGKILL'); resolve(); }, 5000).unref(); });
  }
}
