/**
 * @module services/meta2/service
 * meta2's lifecycle: opens the backend in the service's data folder, serves the routes,
 * finds bases with unsent events after a restart, and runs the event drainer. The account
 * service's address comes from the `accountAddr` option, a `resolveAccount` function, or
 * the conscience (first `account` service listed).
 */
import { Election, listenReplicated } from '../../sqliterepo';
import { HttpService, Logger } from '../../common';
import { ConscienceClient } from '../../client/remote/conscience';
import type { Service, ServiceContext } from '../../runtime/service';
import { Meta2Backend } from './backend';
import { EventDrainer } from './events';
import { registerRoutes } from './routes';

export interface Meta2ServiceOptions {
  /** bind address; default config `ip` */
  host?: string;
  /** port (0: any); default config `meta2.port` */
  port?: number;
  /** account service host:port (wins over resolveAccount and the conscience) */
  accountAddr?: string;
  /** finds the account service; default: asks the conscience */
  resolveAccount?: () => Promise<string[]>;
  /** open bases kept in the LRU; default 256 */
  maxOpenBases?: number;
  /** fsync every commit; default true */
  durable?: boolean;
  /** overrides `meta2.event_interval` (ms) */
  eventIntervalMs?: number;
}

export class Meta2Service implements Service {
  readonly type = 'meta2';
  private boundAddr = '';
  private http: HttpService | undefined;
  private drainerImpl: EventDrainer | undefined;
  private backendImpl: Meta2Backend | undefined;
  private election: Election | undefined;

  constructor(private readonly opts: Meta2ServiceOptions = {}) {}

  /** host:port once started. */
  get addr(): string { return this.boundAddr; }

  /** The backend (started service only). */
  get backend(): Meta2Backend {
    if (!this.backendImpl) throw new Error('meta2 not started');
    return this.backendImpl;
  }

  /** The event drainer (started service only). */
  get drainer(): EventDrainer {
    if (!this.drainerImpl) throw new Error('meta2 not started');
    return this.drainerImpl;
  }

  async start(ctx: ServiceContext): Promise<void> {
    const log: Logger = ctx.log.child({ svc: 'meta2' });
    const backend = new Meta2Backend({
      dataDir: ctx.dataDir,
      defaultMaxVersions: ctx.config['ns.max_versions'],
      maxOpenBases: this.opts.maxOpenBases,
      durable: this.opts.durable,
    });
    this.backendImpl = backend;
    // Replication (and group-commit durability) around every handler.
    const served = await listenReplicated({
      type: 'meta2', host: this.opts.host ?? ctx.config.ip, port: this.opts.port ?? ctx.config['meta2.port'], log, accessLog: ctx.config.access_log, election: ctx.election,
      openBase: (name, create) => backend.replicaBase(name, create),
      restoreBase: (name, data) => backend.restoreReplica(name, data),
    });
    const http = served.http;
    this.http = http;
    this.boundAddr = served.addr;
    this.election = served.election;
    registerRoutes(http, backend);
    const pending = backend.scanPendingEvents();
    if (pending > 0) log.info('bases with pending events', { count: pending });
    this.drainerImpl = new EventDrainer({
      backend,
      intervalMs: this.opts.eventIntervalMs ?? ctx.config['meta2.event_interval'],
      resolveAccount: this.accountResolver(ctx),
      log: log.child({ component: 'events' }),
      runWrite: (fn) => served.replicator.runWrite(fn),
    });
    this.drainerImpl.start();
    log.info('meta2 started', { addr: this.boundAddr });
  }

  private accountResolver(ctx: ServiceContext): () => Promise<string[]> {
    const fixed = this.opts.accountAddr;
    if (fixed) return () => Promise.resolve([fixed]);
    if (this.opts.resolveAccount) return this.opts.resolveAccount;
    const conscience = new ConscienceClient(ctx.conscienceAddrs);
    return async () => {
      const list = await conscience.conscienceList('account');
      const addr = (list.find((s) => s.score > 0) ?? list[0])?.addr;
      return addr ? [addr] : [];
    };
  }

  async stop(): Promise<void> {
    await this.drainerImpl?.stop();
    await this.http?.close();
    await this.election?.close();
    this.backendImpl?.close();
    this.drainerImpl = undefined;
    this.http = undefined;
    this.backendImpl = undefined;
  }
}
