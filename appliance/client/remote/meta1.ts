/**
 * @module client/remote/meta1
 * Stubs of meta1's routes; method names equal the handler names
 * (`meta1Link` <-> route POST /v1/meta1/link).
 */
import { callJson } from '../../common/http';

/** A reference (CID) and its linked services, as meta1 answers. */
export interface Meta1Reference {
  cid: string;
  account: string;
  container: string;
  services: Array<{ type: string; addr: string; seq: number }>;
}

export class Meta1Client {
  /** @param headers sent with every call (the replica set of the prefix as x-oio-peers) */
  constructor(readonly addr: string, private readonly reqId?: string, private readonly headers?: Record<string, string>, private readonly timeoutMs?: number) {}

  private call<T>(path: string, opts: Parameters<typeof callJson>[2] = {}): Promise<T> {
    return callJson<T>(this.addr, path, { reqId: this.reqId, headers: this.headers, ...(this.timeoutMs ? { timeoutMs: this.timeoutMs } : {}), ...opts });
  }

  /** Creates the reference if needed and links a service of `type` if none is (idempotent). */
  meta1Link(req: { cid: string; account: string; container: string; type: string }): Promise<Meta1Reference> {
    return this.call('/v1/meta1/link', { method: 'POST', body: req });
  }

  /** The reference; CONTAINER_NOT_FOUND. */
  meta1Show(cid: string): Promise<Meta1Reference> {
    return this.call('/v1/meta1/show', { query: { cid } });
  }

  /** Unlinks the services of `type`; CONTAINER_NOT_FOUND. */
  meta1Unlink(cid: string, type: string): Promise<void> {
    return this.call('/v1/meta1/unlink', { method: 'POST', body: { cid, type } });
  }

  /** Deletes the reference; CONTAINER_NOT_FOUND. */
  meta1Destroy(cid: string): Promise<void> {
    return this.call('/v1/meta1/destroy', { method: 'POST', body: { cid } });
  }
}
