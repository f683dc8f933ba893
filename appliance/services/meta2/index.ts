/** @module services/meta2 — one base per container: contents, versions, chunks, properties, events. */
export { Meta2Service, Meta2ServiceOptions } from './service';
export { Meta2Backend, Meta2BackendOptions, compareBytes, nextPrefix, DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, SERVICE_EVENTS } from './backend';
export { EventDrainer, EventDrainerOptions, UsagePayload, EventRow, CHUNK_DELETE, CONTAINER_USAGE } from './events';
