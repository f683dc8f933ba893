/**
 * @module services/rdir/service
 * Lifecycle of one rdir (one per rawx volume): opens the volume's index in the service's data
 * folder (beside the volume, on the node's data disk, so it outlives the volume it describes),
 * mounts the routes, listens. Writes are acknowledged once on disk (group commit).
 */
import { durableWrites } from '../../sqliterepo';
import { HttpService } from '../../common';
import type { Service, ServiceContext } from '../../runtime/service';
import { RdirBackend } from './backend';
import { mountRoutes } from './routes';

export interface RdirServiceOptions {
  host: string;
  /** 0: any free port (see `addr` once started) */
  port: number;
  /** the rawx volume this rdir indexes (its root folder) */
  volume: string;
  /** stable service id (defaults to the bound addr) */
  id?: string;
}

/** One rdir: the reverse index of one rawx volume over HTTP. */
export class RdirService implements Service {
  readonly type = 'rdir';
  private http: HttpService | undefined;
  private backend: RdirBackend | undefined;
  private boundPort = 0;

  constructor(private readonly opts: RdirServiceOptions) {}

  get addr(): string {
    return `${this.opts.host}:${this.boundPort || this.opts.port}`;
  }

  get id(): string {
    return this.opts.id ?? this.addr;
  }

  async start(ctx: ServiceContext): Promise<void> {
    const backend = RdirBackend.open(ctx.dataDir, this.opts.volume);
    this.backend = backend;
    const log = ctx.log.child({ svc: 'rdir' });
    this.http = new HttpService(log, { accessLog: ctx.config.access_log, wrapHandler: durableWrites });
    mountRoutes(this.http, { backend, info: () => ({ id: this.id, type: 'rdir', addr: this.addr, volume: backend.volume }) });
    this.boundPort = await this.http.listen(this.opts.host, this.opts.port);
    log.info('rdir started', { addr: this.addr, volume: backend.volume, base: backend.base.file });
  }

  async stop(): Promise<void> {
    await this.http?.close();
    this.backend?.close();
    this.http = undefined;
    this.backend = undefined;
  }
}
