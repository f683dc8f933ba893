/**
 * @module agents/sampler/loop
 * The node agent's loop: every interval, samples idle CPU (node-wide), idle IO and free space
 * per volume, health-checks each local service, and registers them all with the conscience
 * (tags `tag.up`, `tag.vol`, `stat.cpu`, `stat.io`, `stat.space`, numbers 0..100 with one
 * decimal). One tick at a time; a failed tick is logged and the next one tries again.
 */
import { ConscienceClient } from '../../appliance/client/remote';
import { Logger, rootLogger } from '../../appliance/common';
import type { ServiceRegistration, ServiceTags } from '../../appliance/common/model';
import { checkHttp } from './checkers/http';
import { checkTcp } from './checkers/tcp';
import { CpuSampler } from './samplers/cpu';
import { IoSampler } from './samplers/io';
import { spaceFreePercent } from './samplers/space';

/** A service of this node, as the agent registers it. */
export interface LocalService {
  type: string;
  /** host:port */
  addr: string;
  /** stable id; defaults to addr at the conscience */
  id?: string;
  /** dotted location (room.rack.host[.vol]) */
  loc: string;
  slots?: string[];
  /** the volume (mount point or folder) the service stores on; absent: the agent's dataDir */
  volume?: string;
  check: 'http' | 'tcp';
  /** path of the HTTP health check; default '/' (any answer < 500 is up) */
  checkPath?: string;
}

export interface AgentOptions {
  /** consciences to publish to: every one of them (a grid has one per node; a function follows membership) */
  conscienceAddrs: string[] | (() => string[]);
  intervalMs: number;
  services: LocalService[];
  /** node data folder: volume of services without one (absent: their io and space are 100) */
  dataDir?: string;
  /** health check timeout; default 2000 ms */
  checkTimeoutMs?: number;
  log?: Logger;
}

/** Rounds to one decimal and clamps to 0..100. */
export function roundStat(x: number): number {
  if (!Number.isFinite(x)) return 0;
  return Math.round(Math.min(100, Math.max(0, x)) * 10) / 10;
}

/** The node agent. */
export class Agent {
  private readonly cpu = new CpuSampler();
  private readonly io = new IoSampler();
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = true;

  constructor(private readonly opts: AgentOptions) {
    this.log = (opts.log ?? rootLogger).child({ svc: 'agent', component: 'sampler' });
  }

  private volumeOf(s: LocalService): string | undefined {
    return s.volume ?? this.opts.dataDir;
  }

  private async check(s: LocalService): Promise<boolean> {
    // A busy machine may answer a health check slowly: 2 s before a service is called down
    // (a tight timeout flagged live services as down under load).
    const timeoutMs = this.opts.checkTimeoutMs ?? 2000;
    return s.check === 'http' ? checkHttp(s.addr, s.checkPath ?? '/', timeoutMs) : checkTcp(s.addr, timeoutMs);
  }

  /** Samples the machine and checks every service; returns the registrations (does not send them). */
  async sampleOnce(): Promise<ServiceRegistration[]> {
    const volumes = [...new Set(this.opts.services.map((s) => this.volumeOf(s)).filter((v): v is string => v !== undefined))];
    const [cpu, io, space, ups] = await Promise.all([
      this.cpu.sample(),
      this.io.sample(volumes),
      Promise.all(volumes.map(async (v) => [v, await spaceFreePercent(v).catch(() => undefined)] as const)).then((e) => new Map(e)),
      Promise.all(this.opts.services.map((s) => this.check(s))),
    ]);
    return this.opts.services.map((s, i) => {
      const vol = this.volumeOf(s);
      const ioSample = vol !== undefined ? io.get(vol) : undefined;
      const spaceFree = vol !== undefined ? space.get(vol) : 100;
      const tags: ServiceTags = {
        'tag.up': ups[i] === true,
        'tag.vol': vol ?? '',
        'stat.cpu': roundStat(cpu),
        'stat.io': roundStat(ioSample?.idle ?? 100),
        // A volume we cannot statfs (unmounted, removed) takes no data.
        'stat.space': roundStat(spaceFree ?? 0),
      };
      if (!ioSample?.known) tags['tag.io'] = 'unknown';
      if (ioSample?.device) tags['tag.dev'] = ioSample.device;
      const reg: ServiceRegistration = { type: s.type, addr: s.addr, loc: s.loc, tags };
      if (s.id !== undefined) reg.id = s.id;
      if (s.slots !== undefined) reg.slots = s.slots;
      return reg;
    });
  }

  /** One tick: samples and registers everything with the conscience. */
  async runOnce(): Promise<ServiceRegistration[]> {
    const regs = await this.sampleOnce();
    if (regs.length > 0) {
      // Every conscience of the grid gets every registration, so their bulletins agree.
      const addrs = typeof this.opts.conscienceAddrs === 'function' ? this.opts.conscienceAddrs() : this.opts.conscienceAddrs;
      const results = await Promise.allSettled(addrs.map((a) => new ConscienceClient([a]).conscienceRegister(regs)));
      const failed = results.filter((r) => r.status === 'rejected');
      if (failed.length === addrs.length && failed[0]) throw (failed[0] as PromiseRejectedResult).reason;
      if (failed.length) this.log.debug('some consciences did not take the registration', { failed: failed.length, of: addrs.length });
    }
    return regs;
  }

  private async tick(): Promise<void> {
    try {
      await this.runOnce();
    } catch (e) {
      this.log.warn('registration failed', { err: e instanceof Error ? e : String(e) });
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => this.schedule());
    }, this.opts.intervalMs);
  }

  /** Registers at once (errors are logged, not thrown), then every `intervalMs`. */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.running = this.tick();
    await this.running;
    this.schedule();
  }

  /** Stops the loop and waits for a tick in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
