/** @module client/data — the data path of the client library: split, replicated and erasure-coded writes, ranged reads with failover or rebuild. */
export * from './chunk-splitter';
export * from './chunk-writer';
export * from './chunk-open';
export * from './chunk-reader';
export * from './ec-writer';
export * from './ec-reader';
