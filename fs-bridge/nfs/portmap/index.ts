/** @module fs-bridge/nfs/portmap — the optional portmapper (program 100000 v2). */
export * from './portmap-program';
