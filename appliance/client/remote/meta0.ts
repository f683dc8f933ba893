/**
 * @module client/remote/meta0
 * Stubs of meta0's routes; method names equal the handler names
 * (`meta0Get` <-> route GET /v1/meta0/get).
 */
import { callJson } from '../../common/http';

export class Meta0Client {
  constructor(readonly addr: string, private readonly reqId?: string) {}

  /** The meta1 addresses of a prefix (4 hex digits); SERVICE_NOT_FOUND before init. */
  meta0Get(prefix: string): Promise<{ prefix: string; meta1: string[] }> {
    return callJson(this.addr, '/v1/meta0/get', { query: { prefix }, reqId: this.reqId });
  }

  /** The whole map: prefix -> meta1 addresses. */
  meta0List(): Promise<Record<string, string[]>> {
    return callJson(this.addr, '/v1/meta0/list', { reqId: this.reqId });
  }

  /** Assigns prefixes round-robin over `meta1` (kept as is when already done, unless `force`). */
  meta0Init(meta1: string[], opts: { replicas?: number; force?: boolean } = {}): Promise<void> {
    return callJson(this.addr, '/v1/meta0/init', { method: 'POST', body: { meta1, ...opts }, reqId: this.reqId });
  }
}
