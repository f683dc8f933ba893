/**
 * @module services/account/service
 * Account service lifecycle: opens the base, mounts the routes, listens.
 */
import { durableWrites } from '../../sqliterepo';
import { HttpService } from '../../common/http';
import type { Service, ServiceContext } from '../../runtime/service';
import { AccountBackend } from './backend';
import { mountRoutes } from './routes';

export interface AccountServiceOptions {
  host: string;
  /** 0: any free port (see `addr` once started) */
  port: number;
}

/** The account service (accounts, container lists, usage). */
export class AccountService implements Service {
  readonly type = 'account';
  private http: HttpService | undefined;
  private backend: AccountBackend | undefined;
  private boundPort = 0;

  constructor(private readonly opts: AccountServiceOptions) {}

  get addr(): string {
    return `${this.opts.host}:${this.boundPort || this.opts.port}`;
  }

  async start(ctx: ServiceContext): Promise<void> {
    this.backend = AccountBackend.open(ctx.dataDir);
    const log = ctx.log.child({ svc: 'account' });
    this.http = new HttpService(log, { accessLog: ctx.config.access_log, wrapHandler: durableWrites });
    mountRoutes(this.http, this.backend);
    this.boundPort = await this.http.listen(this.opts.host, this.opts.port);
    log.info('account started', { addr: this.addr });
  }

  async stop(): Promise<void> {
    await this.http?.close();
    this.backend?.close();
    this.http = undefined;
    this.backend = undefined;
  }
}
