/**
 * @module client/remote/conscience
 * Stubs of the conscience's routes; method names equal the handler names
 * (`conscienceRegister` <-> route POST /v1/conscience/register).
 */
import { callJson } from '../../common/http';
import type { Bulletin, NamespaceInfo, ServiceInfo, ServiceRegistration } from '../../common/model';

export interface ChooseRequest {
  /** a pool name, or a storage policy name (its pool and nb_copy), or a service type */
  pool?: string;
  policy?: string;
  type?: string;
  /** how many services (for a type; pools and policies know their counts) */
  count?: number;
  /** ids of services not to choose (already used, failed) */
  avoid?: string[];
}

export class ConscienceClient {
  constructor(readonly addrs: string[], private readonly reqId?: string) {}

  /** Tries each conscience address in turn (a grid has one per node). */
  private async call<T>(path: string, opts: Parameters<typeof callJson>[2] = {}): Promise<T> {
    let last: unknown;
    for (const addr of this.addrs) {
      try { return await callJson<T>(addr, path, { reqId: this.reqId, timeoutMs: 10_000, ...opts }); }
      catch (e) { last = e; if ((e as { code?: string }).code !== 'UNAVAILABLE' && (e as { code?: string }).code !== 'TIMEOUT') throw e; }
    }
    throw last;
  }

  conscienceRegister(regs: ServiceRegistration[]): Promise<void> {
    return this.call('/v1/conscience/register', { method: 'POST', body: regs });
  }

  conscienceDeregister(type: string, id: string): Promise<void> {
    return this.call('/v1/conscience/deregister', { method: 'POST', body: { type, id } });
  }

  conscienceList(type?: string): Promise<ServiceInfo[]> {
    return this.call('/v1/conscience/list', { query: { type } });
  }

  conscienceBulletin(): Promise<Bulletin> {
    return this.call('/v1/conscience/bulletin');
  }

  conscienceInfo(): Promise<NamespaceInfo> {
    return this.call('/v1/conscience/info');
  }

  /** Locks a service's score (to `score`, or to its current score). */
  conscienceLock(type: string, id: string, score?: number): Promise<void> {
    return this.call('/v1/conscience/lock', { method: 'POST', body: { type, id, score } });
  }

  conscienceUnlock(type: string, id: string): Promise<void> {
    return this.call('/v1/conscience/unlock', { method: 'POST', body: { type, id } });
  }

  lbChoose(req: ChooseRequest): Promise<ServiceInfo[]> {
    return this.call('/v1/lb/choose', { method: 'POST', body: req });
  }
}
