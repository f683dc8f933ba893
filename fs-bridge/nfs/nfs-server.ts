/**
 * @module fs-bridge/nfs/nfs-server
 * One NFSv3 server: NFS and MOUNT on one TCP port, plus an optional portmapper on its own
 * port that points every program at it. When the asked port cannot be bound (not root, or in
 * use) it falls back to a free high port and says so (`fellBack`).
 */
import type { Logger } from '../../appliance/common';
import type { ExportTable } from './export-table';
import { MOUNT_PROGRAM, MountProgram } from './mount';
import { NFS_PROGRAM, NFS_V3, Nfs3Program } from './nfs3';
import { IPPROTO_TCP, type Mapping, PORTMAP_PROGRAM, PORTMAP_V2, PortmapProgram } from './portmap';
import { RpcServer } from './rpc';

export interface NfsServerOptions {
  host: string;
  port: number;
  /** also serve a portmapper on this port */
  portmapPort?: number;
  log?: Logger;
  /** see Nfs3Options */
  idleFlushMs?: number;
  flushRetryMs?: number;
  accessLog?: boolean;
}

export class NfsServer {
  readonly nfs: Nfs3Program;
  readonly mount: MountProgram;
  private readonly rpc: RpcServer;
  private portmapRpc?: RpcServer;
  port = 0;
  portmapPort = 0;
  /** the asked port could not be bound: a high port was used */
  fellBack = false;

  constructor(readonly exports: ExportTable, private readonly opts: NfsServerOptions) {
    const onError = (err: Error, where: string) => opts.log?.warn('rpc error', { where, err });
    this.rpc = new RpcServer({ onError });
    this.nfs = new Nfs3Program(exports, { log: opts.log, idleFlushMs: opts.idleFlushMs, flushRetryMs: opts.flushRetryMs, accessLog: opts.accessLog });
    this.mount = new MountProgram(exports);
    const portmap = new PortmapProgram(() => this.mappings());
    this.rpc.register(this.nfs);
    this.rpc.register(this.mount);
    this.rpc.register(portmap);
    if (opts.portmapPort !== undefined) {
      this.portmapRpc = new RpcServer({ onError });
      this.portmapRpc.register(portmap);
    }
  }

  /** host:port of NFS and MOUNT */
  get addr(): string {
    return `${this.opts.host}:${this.port}`;
  }

  mappings(): Mapping[] {
    const out: Mapping[] = [{ prog: NFS_PROGRAM, vers: NFS_V3, prot: IPPROTO_TCP, port: this.port }];
    for (const v of [1, 2, 3]) out.push({ prog: MOUNT_PROGRAM, vers: v, prot: IPPROTO_TCP, port: this.port });
    out.push({ prog: PORTMAP_PROGRAM, vers: PORTMAP_V2, prot: IPPROTO_TCP, port: this.portmapPort || this.port });
    return out;
  }

  async start(): Promise<void> {
    try {
      this.port = await this.rpc.listen(this.opts.host, this.opts.port);
    } catch (e) {
      if (!isBindRefused(e)) throw e;
      this.port = await this.rpc.listen(this.opts.host, 0);
      this.fellBack = true;
      this.opts.log?.warn('nfs port unavailable, using a high port', { asked: this.opts.port, port: this.port, err: e as Error });
    }
    if (this.portmapRpc) {
      try {
        this.portmapPort = await this.portmapRpc.listen(this.opts.host, this.opts.portmapPort!);
      } catch (e) {
        if (!isBindRefused(e)) throw e;
        this.portmapPort = await this.portmapRpc.listen(this.opts.host, 0);
        this.opts.log?.warn('portmap port unavailable, using a high port', { asked: this.opts.portmapPort, port: this.portmapPort });
      }
    }
  }

  /** Stops listening and commits what clients wrote without COMMIT. */
  async stop(): Promise<void> {
    await this.portmapRpc?.close();
    await this.rpc.close();
    await this.nfs.flushAll();
  }
}

function isBindRefused(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return code === 'EACCES' || code === 'EADDRINUSE' || code === 'EPERM';
}
