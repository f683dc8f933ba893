/** @module services/rawx — one chunk server per volume (the only export of the folder). */
export { RawxService, RawxServiceOptions } from './service';
export { ChunkStore, ChunkStoreOptions, RawxStats, PutExpectations, OpenedChunk } from './backend';
export { parseRange } from './routes';
export { RdirFeed, RdirFeedOptions, RdirFeedStats, RDIR_QUEUE_FILE } from './rdir-feed';
