/**
 * @module fs-bridge/nfs/nfs-service
 * The `nfs` service: an NfsServer exporting each container of one account at `/<container>`,
 * each through its own BridgeFs (inode base and spool under the service's data folder, so
 * inodes, and with them file handles, survive a restart). Shaped as runtime/service's Service;
 * the composition root passes in how to list containers and open a bridge.
 */
import path from 'node:path';
import type { Logger } from '../../appliance/common';
import type { BridgeFs } from '../core/types';
import { ExportTable } from './export-table';
import { type ExportRule, parseExportRules } from './exports';
import { NfsServer } from './nfs-server';

/** A bridge with a lifecycle (fs-bridge/core's LocalBridgeFs). */
export interface ClosableBridgeFs extends BridgeFs {
  close(): Promise<void>;
}

export interface NfsServiceOptions {
  host: string;
  /** NFS + MOUNT port (2049); a high port when it cannot be bound */
  port: number;
  /** portmapper port when enabled */
  portmapPort?: number;
  /** one access line per NFS call at info (config access_log) */
  accessLog?: boolean;
  /** `nfs.exports` value: container (or `*`) -> rule */
  exports?: unknown;
  /** the containers to export */
  containers(): Promise<string[]>;
  /** whether a container exists (asked when a client names one the listing does not show yet) */
  containerExists?(container: string): Promise<boolean>;
  /** opens the bridge of one container with its own state and spool folders */
  openBridge(container: string, dirs: { stateDir: string; spoolDir: string }): ClosableBridgeFs;
}

/** What the service needs of runtime/service's ServiceContext. */
export interface NfsServiceContext {
  log: Logger;
  dataDir: string;
}

export class NfsService {
  readonly type = 'nfs';
  private server?: NfsServer;
  private readonly bridges: ClosableBridgeFs[] = [];
  private readonly rules: Record<string, ExportRule>;

  constructor(private readonly opts: NfsServiceOptions) {
    this.rules = parseExportRules(opts.exports);
  }

  get addr(): string {
    return this.server ? this.server.addr : `${this.opts.host}:${this.opts.port}`;
  }

  get port(): number {
    return this.server?.port ?? this.opts.port;
  }

  async start(ctx: NfsServiceContext): Promise<void> {
    const table = new ExportTable({
      containers: () => this.opts.containers(),
      exists: this.opts.containerExists ? (c) => this.opts.containerExists!(c) : undefined,
      open: async (container) => {
        const base = path.join(ctx.dataDir, 'exports', encodeURIComponent(container));
        const fs = this.opts.openBridge(container, { stateDir: path.join(base, 'state'), spoolDir: path.join(base, 'spool') });
        this.bridges.push(fs);
        return fs;
      },
    }, this.rules);
    this.server = new NfsServer(table, { host: this.opts.host, port: this.opts.port, portmapPort: this.opts.portmapPort, accessLog: this.opts.accessLog, log: ctx.log.child({ component: 'nfs' }) });
    await this.server.start();
    await table.all().catch((e: unknown) => ctx.log.warn('listing containers to export failed', { err: e as Error }));
    ctx.log.info('nfs listening', { addr: this.server.addr, portmapPort: this.server.portmapPort || undefined, exports: table.opened().map((e) => e.path) });
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    for (const b of this.bridges.splice(0)) await b.close();
  }
}
