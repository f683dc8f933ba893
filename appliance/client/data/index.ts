/** @module client/data — the data path of the client library: split, replicated write, ranged read with failover. */
export * from './chunk-splitter';
export * from './chunk-writer';
export * from './chunk-reader';
