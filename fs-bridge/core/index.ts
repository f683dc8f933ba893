/** @module fs-bridge/core — the bridge layer: paths onto objects, inodes, spool, read-ahead, errno. */
export * from './types';
export * from './errno';
export { createBridgeFs, type BridgeFsOptions, type LocalBridgeFs } from './bridge-fs';
export { InodeTable, type Loc } from './inode-table';
export * from './path-map';
export { withRetry } from './retry';
export { BridgePaths, normalizePath } from './bridge-paths';
