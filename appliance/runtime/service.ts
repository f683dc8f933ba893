/**
 * @module runtime/service
 * The lifecycle every service implements: started in dependency order by the host
 * (`oio node up`) or alone (`oio service run TYPE`), stopped in reverse with a deadline.
 * `StoreService` is the skeleton meta0, meta1, account and rdir share: a store opened in the
 * service's data folder, served over HTTP with the service's routes, either alone (writes
 * acknowledged once on disk) or replicated (election, quorum: sqliterepo); the bound address;
 * the stop order (server, election, store). Each service says only how it opens its store and
 * its routes. (Here because services may import this module of the runtime and no other
 * service: STYLE.md §2.)
 */
import type { Config } from '../common/config';
import type { Logger } from '../common/log';
import { HttpService } from '../common/http';
import { durableWrites, listenReplicated, type Election, type ReplicatedHttpOptions } from '../sqliterepo';

export interface ServiceContext {
  /** the node's frozen configuration */
  config: Config;
  log: Logger;
  /** aborted when the node stops */
  signal: AbortSignal;
  /** the service's own data folder (created before start) */
  dataDir: string;
  /** address of the conscience(s) to use */
  conscienceAddrs: string[];
  /** the master election of replicated bases for a service answering at `self` (default: local) */
  election?(self: string): Election;
  /** a grid's secret of 32 bytes, the same on every node, made on first use (absent on a single node) */
  sharedSecret?(name: string): Promise<Buffer>;
}

export interface Service {
  /** service type id: conscience meta0 meta1 meta2 rawx account rdir proxy ... */
  readonly type: string;
  /** host:port once started */
  readonly addr: string;
  start(ctx: ServiceContext): Promise<void>;
  stop(): Promise<void>;
}

/** A started service's parts. */
export interface Serving<B> {
  http: HttpService;
  backend: B;
  port: number;
  election?: Election;
  /** fields of the "started" log line */
  fields?: Record<string, unknown>;
}

export abstract class StoreService<B extends { close(): void }> implements Service {
  abstract readonly type: string;
  private serving: Serving<B> | undefined;

  constructor(protected readonly host: string, protected readonly port: number) {}

  /** where to listen (the configured port), as serveLocal / serveReplicated take it */
  protected get where(): { type: string; host: string; port: number } { return { type: this.type, host: this.host, port: this.port }; }

  /** host:port (the bound port once started: 0 asks for any) */
  get addr(): string { return `${this.host}:${this.serving?.port || this.port}`; }

  async start(ctx: ServiceContext): Promise<void> {
    const log = ctx.log.child({ svc: this.type });
    this.serving = await this.serve(ctx, log);
    log.info(`${this.type} started`, { addr: this.addr, ...this.serving.fields });
  }

  /** Opens the store and serves it (see serveLocal / serveReplicated). */
  protected abstract serve(ctx: ServiceContext, log: Logger): Promise<Serving<B>>;

  async stop(): Promise<void> {
    const s = this.serving;
    this.serving = undefined;
    if (!s) return;
    await s.http.close();
    await s.election?.close();
    s.backend.close();
  }
}

/** Serves `backend` alone: its routes, every write acknowledged once on disk (group commit). */
export async function serveLocal<B>(ctx: ServiceContext, log: Logger, where: { host: string; port: number }, backend: B,
  mount: (http: HttpService) => void): Promise<Serving<B>> {
  const http = new HttpService(log, { accessLog: ctx.config.access_log, wrapHandler: durableWrites });
  mount(http);
  return { http, backend, port: await http.listen(where.host, where.port) };
}

/** Serves `backend`'s bases replicated (election for the bound address, quorum), then its routes. */
export async function serveReplicated<B>(ctx: ServiceContext, log: Logger, where: { type: string; host: string; port: number }, backend: B,
  bases: Pick<ReplicatedHttpOptions, 'openBase' | 'restoreBase'>, mount: (http: HttpService) => void): Promise<Serving<B>> {
  const served = await listenReplicated({ type: where.type, host: where.host, port: where.port, ...bases, log, accessLog: ctx.config.access_log, election: ctx.election });
  mount(served.http);
  return { http: served.http, backend, port: Number(served.addr.split(':').pop()), election: served.election };
}
