/** @module fs-bridge/nfs/mount — the MOUNT v3 program. */
export * from './mount-program';
