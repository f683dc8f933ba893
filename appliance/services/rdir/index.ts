/** @module services/rdir — the reverse index of one rawx volume (the only export of the folder). */
export { RdirService, RdirServiceOptions } from './service';
export { RdirBackend, validateEntry, validateDelete, parseMarker, MAX_BATCH, MAX_FETCH_LIMIT } from './backend';
