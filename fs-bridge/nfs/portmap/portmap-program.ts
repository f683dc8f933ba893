/**
 * @module fs-bridge/nfs/portmap/portmap-program
 * A read-only portmapper (RFC 1833 version 2, program 100000): NULL, GETPORT and DUMP answer
 * where this server's programs listen; SET and UNSET are refused (answer false), since no other
 * program registers with us.
 */
import { ProcUnavailError, type CallContext, type RpcProgram } from '../rpc';
import type { XdrWriter } from '../xdr';

export const PORTMAP_PROGRAM = 100000;
export const PORTMAP_V2 = 2;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

export const enum PmapProc { NULL = 0, SET = 1, UNSET = 2, GETPORT = 3, DUMP = 4, CALLIT = 5 }

export interface Mapping {
  prog: number;
  vers: number;
  prot: number;
  port: number;
}

export class PortmapProgram implements RpcProgram {
  readonly prog = PORTMAP_PROGRAM;
  readonly lowVersion = PORTMAP_V2;
  readonly highVersion = PORTMAP_V2;

  /** `mappings` is read at each call (ports known once the listeners are bound) */
  constructor(private readonly mappings: () => Mapping[]) {}

  async handle(ctx: CallContext, w: XdrWriter): Promise<void> {
    const r = ctx.call.args;
    switch (ctx.call.proc) {
      case PmapProc.NULL: return;
      case PmapProc.SET:
      case PmapProc.UNSET:
        r.uint32(); r.uint32(); r.uint32(); r.uint32();
        w.bool(false);
        return;
      case PmapProc.GETPORT: {
        const prog = r.uint32();
        const vers = r.uint32();
        const prot = r.uint32();
        r.uint32();
        const m = this.mappings().find((x) => x.prog === prog && x.vers === vers && x.prot === prot);
        w.uint32(m?.port ?? 0);
        return;
      }
      case PmapProc.DUMP:
        for (const m of this.mappings()) w.bool(true).uint32(m.prog).uint32(m.vers).uint32(m.prot).uint32(m.port);
        w.bool(false);
        return;
      default:
        throw new ProcUnavailError(ctx.call.proc);
    }
  }
}
