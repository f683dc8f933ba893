/**
 * @module runtime/service
 * The lifecycle every service implements: started in dependency order by the host
 * (`oio node up`) or alone (`oio service run TYPE`), stopped in reverse with a deadline.
 */
import type { Config } from '../common/config';
import type { Logger } from '../common/log';
import type { Election } from '../sqliterepo';

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
}

export interface Service {
  /** service type id: conscience meta0 meta1 meta2 rawx account rdir proxy ... */
  readonly type: string;
  /** host:port once started */
  readonly addr: string;
  start(ctx: ServiceContext): Promise<void>;
  stop(): Promise<void>;
}
