/**
 * @module fs-bridge/nfs/rpc/rpc-server
 * ONC RPC over TCP: accepts connections, reassembles records, dispatches calls to the
 * registered programs (several programs share one port: NFS, MOUNT, portmapper) and writes
 * replies, possibly out of order (the client matches them by xid). A bad header or bad
 * arguments produce the matching RPC reply; nothing a client sends can throw out of here.
 */
import net from 'node:net';
import { XdrError, XdrWriter } from '../xdr';
import { frameRecord, RecordDecoder } from './record-marking';
import {
  AcceptStat, acceptedReply, authErrorReply, decodeCall, isCall, progMismatchReply, rpcMismatchReply, type RpcCall,
} from './rpc-message';

/** Raised by a program for a procedure number it does not have. */
export class ProcUnavailError extends Error {
  constructor(proc: number) {
    super(`procedure ${proc} unavailable`);
    this.name = 'ProcUnavailError';
  }
}

/** What a program sees of the connection a call came from. */
export interface CallContext {
  call: RpcCall;
  remoteAddress: string;
  remotePort: number;
}

export interface RpcProgram {
  readonly prog: number;
  readonly lowVersion: number;
  readonly highVersion: number;
  /**
   * Runs procedure `ctx.call.proc` and writes its results after `reply` (an accepted SUCCESS
   * header). Throws ProcUnavailError or XdrError (bad arguments); anything else is SYSTEM_ERR.
   */
  handle(ctx: CallContext, reply: XdrWriter): Promise<void>;
}

export interface RpcServerOptions {
  /** largest record accepted (a WRITE of the max size plus headers) */
  maxRecordBytes?: number;
  /** calls in flight per connection before reading pauses */
  maxInFlight?: number;
  onError?: (err: Error, where: string) => void;
}

export class RpcServer {
  private readonly programs = new Map<number, RpcProgram>();
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly maxRecordBytes: number;
  private readonly maxInFlight: number;

  constructor(private readonly opts: RpcServerOptions = {}) {
    this.maxRecordBytes = opts.maxRecordBytes ?? 4 * 1024 * 1024 + 64 * 1024;
    this.maxInFlight = opts.maxInFlight ?? 32;
  }

  register(p: RpcProgram): void {
    this.programs.set(p.prog, p);
  }

  /** Listens on host:port (port 0: any); resolves with the bound port. */
  listen(host: string, port: number): Promise<number> {
    const server = net.createServer((s) => this.onConnection(s));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private onConnection(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    const decoder = new RecordDecoder(this.maxRecordBytes);
    let inFlight = 0;
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.on('drain', () => { if (inFlight < this.maxInFlight) socket.resume(); });
    socket.on('data', (data) => {
      let records: Buffer[];
      try {
        records = decoder.push(data);
      } catch (e) {
        this.opts.onError?.(e as Error, 'record');
        socket.destroy();
        return;
      }
      for (const rec of records) {
        inFlight++;
        if (inFlight >= this.maxInFlight) socket.pause();
        void this.dispatch(rec, socket).then((reply) => {
          inFlight--;
          if (reply && !socket.destroyed) for (const c of frameRecord(reply.chunks())) socket.write(c);
          // A client that does not read its replies stops being read (bounded memory).
          if (inFlight < this.maxInFlight && socket.isPaused() && !socket.writableNeedDrain) socket.resume();
          else if (socket.writableNeedDrain) socket.pause();
        });
      }
    });
  }

  /** One call to its reply (undefined: nothing to send). Never throws. */
  async dispatch(record: Buffer, socket: { remoteAddress?: string; remotePort?: number }): Promise<XdrWriter | undefined> {
    let call: RpcCall;
    try {
      const decoded = decodeCall(record);
      if (!isCall(decoded)) {
        if (decoded.kind === 'rpc-mismatch') return rpcMismatchReply(decoded.xid);
        if (decoded.kind === 'auth') return authErrorReply(decoded.xid, decoded.stat);
        return undefined;
      }
      call = decoded;
    } catch {
      // Header garbage: answer GARBAGE_ARGS when at least an xid is readable.
      return record.length >= 4 ? acceptedReply(record.readUInt32BE(0), AcceptStat.GARBAGE_ARGS) : undefined;
    }
    const prog = this.programs.get(call.prog);
    if (!prog) return acceptedReply(call.xid, AcceptStat.PROG_UNAVAIL);
    if (call.vers < prog.lowVersion || call.vers > prog.highVersion) return progMismatchReply(call.xid, prog.lowVersion, prog.highVersion);
    const reply = acceptedReply(call.xid, AcceptStat.SUCCESS);
    try {
      await prog.handle({ call, remoteAddress: normalizeAddress(socket.remoteAddress ?? ''), remotePort: socket.remotePort ?? 0 }, reply);
      return reply;
    } catch (e) {
      if (e instanceof ProcUnavailError) return acceptedReply(call.xid, AcceptStat.PROC_UNAVAIL);
      if (e instanceof XdrError) return acceptedReply(call.xid, AcceptStat.GARBAGE_ARGS);
      this.opts.onError?.(e as Error, `prog ${call.prog} proc ${call.proc}`);
      return acceptedReply(call.xid, AcceptStat.SYSTEM_ERR);
    }
  }
}

/** `::ffff:1.2.3.4` -> `1.2.3.4` */
export function normalizeAddress(a: string): string {
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}
