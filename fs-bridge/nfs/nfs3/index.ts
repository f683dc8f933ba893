/** @module fs-bridge/nfs/nfs3 — the NFSv3 program (RFC 1813). */
export * from './nfs3-types';
export * from './nfs3-program';
