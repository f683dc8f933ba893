/**
 * @module services/conscience/service
 * The conscience service's lifecycle: builds the namespace info from config (refusing to start
 * on a bad score expression, pool or policy), restores persisted locks from `locks.json` in
 * its data folder, and serves the routes on host:port.
 */
import fs from 'node:fs';
import path from 'node:path';
import { HttpService } from '../../common/http';
import type { Logger } from '../../common/log';
import type { Service, ServiceContext } from '../../runtime/service';
import { buildNamespaceInfo, ConscienceBackend, ScoreLock } from './backend';
import { conscienceRoutes } from './routes';

export interface ConscienceServiceOptions {
  host: string;
  /** 0: any free port (see `addr` once started) */
  port: number;
  /** clock in epoch ms (tests) */
  now?: () => number;
  /**
   * ms after start during which list, bulletin and placement wait: a grid's agents register
   * with every conscience each `agent.interval`, so a conscience restarted in a running grid
   * knows only part of it at first and would place on too few nodes. 0 (default): none.
   */
  warmupMs?: number;
}

const LOCKS_FILE = 'locks.json';

/** The conscience: service registry, scores, bulletin, placement (`/v1/lb/choose`). */
export class ConscienceService implements Service {
  readonly type = 'conscience';
  private http: HttpService | undefined;
  private port: number;
  private backendValue: ConscienceBackend | undefined;
  private log: Logger | undefined;
  private locksPath: string | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly opts: ConscienceServiceOptions) {
    this.port = opts.port;
  }

  /** host:port (the bound port once started). */
  get addr(): string {
    return `${this.opts.host}:${this.port}`;
  }

  /** The backend (after start). */
  get backend(): ConscienceBackend {
    if (!this.backendValue) throw new Error('conscience not started');
    return this.backendValue;
  }

  /** @throws InvalidArgumentError BAD_REQUEST naming the bad ns.* key */
  async start(ctx: ServiceContext): Promise<void> {
    this.log = ctx.log.child({ svc: 'conscience' });
    const backend = new ConscienceBackend(buildNamespaceInfo(ctx.config), this.opts.now ? { now: this.opts.now } : {});
    this.locksPath = path.join(ctx.dataDir, LOCKS_FILE);
    try {
      const locks = JSON.parse(await fs.promises.readFile(this.locksPath, 'utf8')) as ScoreLock[];
      if (Array.isArray(locks)) backend.restoreLocks(locks);
    } catch (e) {
      if ((e as { code?: string }).code !== 'ENOENT') this.log.warn('ignoring unreadable locks file', { path: this.locksPath, err: e as Error });
    }
    this.backendValue = backend;
    const http = new HttpService(this.log, { accessLog: ctx.config.access_log });
    const warmUntil = Date.now() + (this.opts.warmupMs ?? 0);
    const warm = () => {
      const left = warmUntil - Date.now();
      return left > 0 ? new Promise<void>((resolve) => setTimeout(resolve, left)) : Promise.resolve();
    };
    conscienceRoutes(http, backend, { onLocksChanged: () => this.saveLocks(), warm });
    this.port = await http.listen(this.opts.host, this.opts.port);
    this.http = http;
    this.log.info('conscience started', { addr: this.addr, ns: backend.info.ns });
  }

  /** Writes locks.json (atomically: temp file then rename), one write at a time. */
  private saveLocks(): Promise<void> {
    const file = this.locksPath;
    const backend = this.backendValue;
    if (!file || !backend) return Promise.resolve();
    const next = this.writing.then(async () => {
      const tmp = `${file}.tmp`;
      await fs.promises.writeFile(tmp, JSON.stringify(backend.locks(), null, 1));
      await fs.promises.rename(tmp, file);
    });
    this.writing = next.catch((e: unknown) => this.log?.warn('cannot persist locks', { err: e as Error }));
    return next;
  }

  async stop(): Promise<void> {
    await this.http?.close();
    await this.writing;
    this.http = undefined;
  }
}
