/** @module services/meta0 — prefix (65,536) -> meta1 replica set. */
export { Meta0Service, Meta0ServiceOptions } from './service';
export { Meta0Backend, Meta0InitOptions, parsePrefix, PREFIX_COUNT } from './backend';
