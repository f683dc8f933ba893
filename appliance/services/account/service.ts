/**
 * @module services/account/service
 * Account service lifecycle: opens the base, mounts the routes, listens.
 */
import type { Logger } from '../../common';
import { StoreService, serveReplicated, type Serving, type ServiceContext } from '../../runtime/service';
import { ACCOUNT_BASE, AccountBackend } from './backend';
import { mountRoutes } from './routes';

export interface AccountServiceOptions {
  host: string;
  /** 0: any free port (see `addr` once started) */
  port: number;
}

/** The account service (accounts, container lists, usage). */
export class AccountService extends StoreService<AccountBackend> {
  readonly type = 'account';

  constructor(opts: AccountServiceOptions) { super(opts.host, opts.port); }

  protected serve(ctx: ServiceContext, log: Logger): Promise<Serving<AccountBackend>> {
    const backend = AccountBackend.open(ctx.dataDir);
    return serveReplicated(ctx, log, this.where, backend, {
      openBase: (name) => (name === ACCOUNT_BASE ? backend.base : undefined),
      restoreBase: (_name, data) => backend.restore(data),
    }, (http) => mountRoutes(http, backend));
  }
}
