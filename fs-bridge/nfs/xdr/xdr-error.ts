/**
 * @module fs-bridge/nfs/xdr/xdr-error
 * The one error a malformed XDR stream raises: the RPC layer turns it into GARBAGE_ARGS,
 * never a crash of the server.
 */

/** A decode ran past the end of its buffer or met an impossible value. */
export class XdrError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XdrError';
  }
}
