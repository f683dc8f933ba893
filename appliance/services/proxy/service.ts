/**
 * @module services/proxy/service
 * The proxy's lifecycle: a score-bulletin cache (refreshed in the background), a resolver
 * over meta0/meta1, and the REST route table on its port.
 */
import { HttpService } from '../../common';
import { LoadBalancer } from '../../client/lb';
import { ConscienceClient } from '../../client/remote/conscience';
import { Resolver, replicaSetOf } from '../../client/resolver';
import type { Service, ServiceContext } from '../../runtime/service';
import { ProxyBackend } from './backend';
import { registerRoutes } from './routes';

export class ProxyService implements Service {
  readonly type = 'proxy';
  private http: HttpService | undefined;
  private lb: LoadBalancer | undefined;
  private boundPort = 0;

  constructor(private readonly opts: { host: string; port: number }) {}

  get addr(): string { return `${this.opts.host}:${this.boundPort || this.opts.port}`; }

  async start(ctx: ServiceContext): Promise<void> {
    const log = ctx.log;
    const conscience = () => new ConscienceClient(ctx.conscienceAddrs);
    this.lb = new LoadBalancer(conscience());
    await this.lb.start();
    const up = (type: string) => this.lb!.get(type).filter((s) => s.tags['tag.up'] !== false).map((s) => s.addr);
    const resolver = new Resolver(() => up('meta0'), ctx.config['proxy.cache_ttl']);
    const backend = new ProxyBackend(this.lb, resolver, () => replicaSetOf(this.lb!.get('account'), ctx.config['ns.directory_replicas']), log);
    this.http = new HttpService(log, { accessLog: ctx.config.access_log });
    registerRoutes(this.http, backend, conscience);
    this.boundPort = await this.http.listen(this.opts.host, this.opts.port);
  }

  async stop(): Promise<void> {
    this.lb?.stop();
    await this.http?.close();
  }
}
