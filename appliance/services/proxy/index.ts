/** @module services/proxy — the REST metadata gateway. */
export { ProxyService } from './service';
export type { PrepareRequest } from './backend';
