/**
 * @module fs-bridge/nfs/rpc/rpc-message
 * RFC 5531 call and reply messages: call header decoding (with AUTH_NONE / AUTH_SYS
 * credentials) and every reply form (SUCCESS, PROG_UNAVAIL, PROG_MISMATCH, PROC_UNAVAIL,
 * GARBAGE_ARGS, SYSTEM_ERR, RPC_MISMATCH, AUTH_ERROR).
 */
import { XdrReader, XdrWriter, XdrError } from '../xdr';

export const MSG_CALL = 0;
export const MSG_REPLY = 1;
export const RPC_VERSION = 2;

export const AUTH_NONE = 0;
export const AUTH_SYS = 1;

export const enum AcceptStat {
  SUCCESS = 0,
  PROG_UNAVAIL = 1,
  PROG_MISMATCH = 2,
  PROC_UNAVAIL = 3,
  GARBAGE_ARGS = 4,
  SYSTEM_ERR = 5,
}

export const enum AuthStat {
  AUTH_OK = 0,
  AUTH_BADCRED = 1,
  AUTH_REJECTEDCRED = 2,
  AUTH_BADVERF = 3,
  AUTH_REJECTEDVERF = 4,
  AUTH_TOOWEAK = 5,
}

/** AUTH_SYS (AUTH_UNIX) credentials, RFC 5531 appendix A */
export interface AuthSys {
  stamp: number;
  machineName: string;
  uid: number;
  gid: number;
  gids: number[];
}

export interface RpcCall {
  xid: number;
  prog: number;
  vers: number;
  proc: number;
  credFlavor: number;
  /** set when the credential flavor is AUTH_SYS */
  authSys?: AuthSys;
  /** positioned at the procedure's arguments */
  args: XdrReader;
}

/** Why a call header could not be accepted before dispatch. */
export type HeaderProblem = { kind: 'rpc-mismatch'; xid: number } | { kind: 'auth'; xid: number; stat: AuthStat } | { kind: 'not-a-call' };

export function decodeAuthSys(body: Buffer): AuthSys {
  const r = new XdrReader(body);
  const stamp = r.uint32();
  const machineName = r.string(255);
  const uid = r.uint32();
  const gid = r.uint32();
  const n = r.uint32();
  if (n > 16) throw new XdrError(`AUTH_SYS: ${n} groups exceeds 16`);
  const gids: number[] = [];
  for (let i = 0; i < n; i++) gids.push(r.uint32());
  return { stamp, machineName, uid, gid, gids };
}

export function encodeAuthSys(a: AuthSys): Buffer {
  const w = new XdrWriter().uint32(a.stamp).string(a.machineName).uint32(a.uid).uint32(a.gid).uint32(a.gids.length);
  for (const g of a.gids) w.uint32(g);
  return w.toBuffer();
}

/**
 * Decodes a call header. Returns the call, or a problem to reply with; throws XdrError when
 * even the header is garbage (the caller replies GARBAGE_ARGS if it has an xid, else drops).
 */
export function decodeCall(record: Buffer): RpcCall | HeaderProblem {
  const r = new XdrReader(record);
  const xid = r.uint32();
  if (r.uint32() !== MSG_CALL) return { kind: 'not-a-call' };
  if (r.uint32() !== RPC_VERSION) return { kind: 'rpc-mismatch', xid };
  const prog = r.uint32();
  const vers = r.uint32();
  const proc = r.uint32();
  const credFlavor = r.uint32();
  const credBody = r.opaque(400);
  r.uint32(); // verifier flavor: AUTH_NONE or ignored
  r.opaque(400);
  let authSys: AuthSys | undefined;
  if (credFlavor === AUTH_SYS) {
    try {
      authSys = decodeAuthSys(credBody);
    } catch {
      return { kind: 'auth', xid, stat: AuthStat.AUTH_BADCRED };
    }
  } else if (credFlavor !== AUTH_NONE) {
    return { kind: 'auth', xid, stat: AuthStat.AUTH_TOOWEAK };
  }
  return { xid, prog, vers, proc, credFlavor, authSys, args: r };
}

export function isCall(x: RpcCall | HeaderProblem): x is RpcCall {
  return (x as RpcCall).args !== undefined;
}

/** Start of an accepted reply (verifier AUTH_NONE) with `stat`; append results for SUCCESS. */
export function acceptedReply(xid: number, stat: AcceptStat): XdrWriter {
  return new XdrWriter(512).uint32(xid).uint32(MSG_REPLY).uint32(0).uint32(AUTH_NONE).uint32(0).uint32(stat);
}

export function progMismatchReply(xid: number, low: number, high: number): XdrWriter {
  return acceptedReply(xid, AcceptStat.PROG_MISMATCH).uint32(low).uint32(high);
}

export function rpcMismatchReply(xid: number): XdrWriter {
  return new XdrWriter(32).uint32(xid).uint32(MSG_REPLY).uint32(1).uint32(0).uint32(RPC_VERSION).uint32(RPC_VERSION);
}

export function authErrorReply(xid: number, stat: AuthStat): XdrWriter {
  return new XdrWriter(32).uint32(xid).uint32(MSG_REPLY).uint32(1).uint32(1).uint32(stat);
}

/** Encodes a call (used by tests and tools speaking to the server). */
export function encodeCall(c: { xid: number; prog: number; vers: number; proc: number; auth?: AuthSys }, args?: Buffer): Buffer {
  const w = new XdrWriter().uint32(c.xid).uint32(MSG_CALL).uint32(RPC_VERSION).uint32(c.prog).uint32(c.vers).uint32(c.proc);
  if (c.auth) w.uint32(AUTH_SYS).opaque(encodeAuthSys(c.auth));
  else w.uint32(AUTH_NONE).uint32(0);
  w.uint32(AUTH_NONE).uint32(0);
  if (args) w.fixedOpaque(args);
  return w.toBuffer();
}

export interface RpcReply {
  xid: number;
  accepted: boolean;
  /** accept_stat when accepted, reject_stat otherwise */
  stat: number;
  /** positioned after the stat (results, mismatch info, or auth_stat) */
  body: XdrReader;
}

/** Decodes a reply (used by tests and clients). */
export function decodeReply(record: Buffer): RpcReply {
  const r = new XdrReader(record);
  const xid = r.uint32();
  if (r.uint32() !== MSG_REPLY) throw new XdrError('not a reply');
  const replyStat = r.uint32();
  if (replyStat === 0) {
    r.uint32();
    r.opaque(400);
    return { xid, accepted: true, stat: r.uint32(), body: r };
  }
  return { xid, accepted: false, stat: r.uint32(), body: r };
}
