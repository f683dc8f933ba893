/** @module fs-bridge/nfs/rpc — ONC RPC (RFC 5531) over TCP with record marking. */
export * from './record-marking';
export * from './rpc-message';
export * from './rpc-server';
