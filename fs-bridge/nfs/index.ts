/**
 * @module fs-bridge/nfs
 * Our NFSv3 server over the bridge layer (RFC 1813 NFSv3 and MOUNT v3, RFC 5531 ONC RPC over
 * TCP, RFC 4506 XDR), no kernel NFS involved.
 */
export * from './status';
export * from './file-handle';
export * from './exports';
export * from './export-table';
export * from './nfs-server';
export * from './nfs-service';
