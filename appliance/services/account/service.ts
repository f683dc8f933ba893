/**
 * @module services/account/service
 * Account service lifecycle: opens the base, mounts the routes, listens.
 */
import { Election, listenReplicated } from '../../sqliterepo';
import { HttpService } from '../../common/http';
import type { Service, ServiceContext } from '../../runtime/service';
import { ACCOUNT_BASE, AccountBackend } from './backend';
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
  private election: Election | undefined;

  constructor(private readonly opts: AccountServiceOptions) {}

  get addr(): string {
    return `${this.opts.host}:${this.boundPort || this.opts.port}`;
  }

  async start(ctx: ServiceContext): Promise<void> {
    this.backend = AccountBackend.open(ctx.dataDir);
    const log = ctx.log.child({ svc: 'account' });
    const backend = this.backend;
    const served = await listenReplicated({
      type: 'account', host: this.opts.host, port: this.opts.port, log, accessLog: ctx.config.access_log, election: ctx.election,
      openBase: (name) => (name === ACCOUNT_BASE ? backend.base : undefined),
      restoreBase: (_name, data) => backend.restore(data),
    });
    this.http = served.http;
    this.election = served.election;
    this.boundPort = Number(served.addr.split(':').pop());
    mountRoutes(this.http, this.backend);
    log.info('account started', { addr: this.addr });
  }

  async stop(): Promise<void> {
    await this.http?.close();
    await this.election?.close();
    this.backend?.close();
    this.http = undefined;
    this.backend = undefined;
  }
}
