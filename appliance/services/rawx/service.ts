/**
 * @module services/rawx/service
 * Lifecycle of one rawx (one per volume): prepares the volume (removing the temp files an
 * earlier version left at a crash), wires the chunk store to the route table and listens on
 * its address.
 */
import { HttpService, Logger, rootLogger } from '../../common';
import type { Service, ServiceContext } from '../../runtime/service';
import { ChunkStore, RawxStats } from './backend';
import { registerRawxRoutes } from './routes';
import { RdirFeed } from './rdir-feed';

/** How one rawx is configured. */
export interface RawxServiceOptions {
  /** address to bind, e.g. 127.0.0.1 */
  host: string;
  /** port to bind; 0 picks a free one (see `addr` once started) */
  port: number;
  /** root folder of the volume (a mounted disk on the image) */
  volume: string;
  /** stable service id (defaults to the bound addr) */
  id?: string;
  /** fsync chunk file and folder before answering a PUT (default true) */
  fsync?: boolean;
  /** logger; default: the context's, else the root logger */
  log?: Logger;
  /** host:port of this volume's rdir: every chunk PUT/DELETE is queued for it (absent: none) */
  rdir?: string;
}

/** One rawx service: chunks of one volume over HTTP (appliance/API.md, rawx section). */
export class RawxService implements Service {
  readonly type = 'rawx';
  readonly store: ChunkStore;
  private http: HttpService | undefined;
  private boundPort = 0;
  /** the queue feeding the volume's rdir, once started with one */
  feed: RdirFeed | undefined;

  constructor(private readonly opts: RawxServiceOptions) {
    this.store = new ChunkStore({ volume: opts.volume, fsync: opts.fsync });
  }

  /** host:port once started (the bound port when started on port 0). */
  get addr(): string {
    return `${this.opts.host}:${this.boundPort || this.opts.port}`;
  }

  /** The service id: the configured one, else the addr. */
  get id(): string {
    return this.opts.id ?? this.addr;
  }

  get volume(): string {
    return this.store.volume;
  }

  get stats(): RawxStats {
    return this.store.stats;
  }

  /** Prepares the volume and listens. The context is optional (tests start a bare rawx). */
  async start(ctx?: ServiceContext): Promise<void> {
    if (this.http) return;
    const log = (this.opts.log ?? ctx?.log ?? rootLogger).child({ svc: 'rawx', id: this.opts.id ?? this.opts.volume });
    await this.store.init();
    if (this.store.needsSweep) {
      // Not closed cleanly last time: chunk files a crash left unfinished go, in the background.
      this.store.sweepUnfinished().then((removed) => {
        if (removed > 0) log.warn('removed chunk files a crash left unfinished', { removed, volume: this.store.volume });
      }, (e: unknown) => log.warn('sweep of unfinished chunk files failed', { err: String(e) }));
    }
    if (this.opts.rdir) {
      this.feed = new RdirFeed({ volume: this.store.volume, rdir: this.opts.rdir, log: log.child({ component: 'rdir-feed' }) });
      this.feed.start();
    }
    const http = new HttpService(log);
    registerRawxRoutes(http, {
      store: this.store,
      feed: this.feed,
      info: () => ({ id: this.id, type: 'rawx', addr: this.addr, volume: this.store.volume }),
    });
    this.boundPort = await http.listen(this.opts.host, this.opts.port);
    this.http = http;
    log.info('rawx started', { addr: this.addr, volume: this.store.volume, rdir: this.opts.rdir ?? null });
  }

  /** Stops listening; connections still open are closed after a short grace period. */
  async stop(): Promise<void> {
    const http = this.http;
    this.http = undefined;
    if (http) await http.close();
    await this.feed?.stop();
    this.feed = undefined;
    await this.store.close();
  }
}
