/** @module fs-bridge/nfs/xdr — RFC 4506 encoder and bounds-checked decoder. */
export * from './xdr-error';
export * from './xdr-reader';
export * from './xdr-writer';
