/**
 * @module test/helpers/nfs-rpc-client
 * A raw ONC RPC client over TCP for tests: sends calls (one fragment, or split into several
 * fragments on purpose) and matches replies by xid. Speaks to our NFS/MOUNT/portmap server
 * with hand-encoded arguments, e.g. to replay an old file handle after a restart.
 */
import net from 'node:net';
import { decodeReply, encodeCall, RecordDecoder, type AuthSys, type RpcReply } from '../../fs-bridge/nfs/rpc';
import { MOUNT_PROGRAM } from '../../fs-bridge/nfs/mount';
import { NFS_PROGRAM } from '../../fs-bridge/nfs/nfs3';
import { XdrWriter } from '../../fs-bridge/nfs/xdr';

export const ROOT_AUTH: AuthSys = { stamp: 1, machineName: 'test', uid: 0, gid: 0, gids: [] };

export class RpcTestClient {
  private xid = Math.floor(Math.random() * 1e6);
  private readonly waiting = new Map<number, (r: RpcReply) => void>();
  private readonly decoder = new RecordDecoder(64 * 1024 * 1024);
  closed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (d) => {
      for (const rec of this.decoder.push(d)) {
        const rep = decodeReply(rec);
        const cb = this.waiting.get(rep.xid);
        this.waiting.delete(rep.xid);
        cb?.(rep);
      }
    });
    socket.on('close', () => { this.closed = true; });
  }

  static connect(host: string, port: number): Promise<RpcTestClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, host, () => { s.off('error', reject); resolve(new RpcTestClient(s)); });
      s.once('error', reject);
    });
  }

  /** Sends raw bytes (a hand-made record, garbage...). */
  sendRaw(b: Buffer): void {
    this.socket.write(b);
  }

  /** Waits for the reply with `xid` (after a sendRaw). */
  replyTo(xid: number, timeoutMs = 10_000): Promise<RpcReply> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => { this.waiting.delete(xid); reject(new Error(`no reply to xid ${xid}`)); }, timeoutMs);
      this.waiting.set(xid, (r) => { clearTimeout(t); resolve(r); });
    });
  }

  nextXid(): number {
    return ++this.xid;
  }

  /** One call; `fragments` > 1 splits the record into that many fragments. */
  async call(prog: number, vers: number, proc: number, args?: Buffer | XdrWriter, opts: { auth?: AuthSys | null; fragments?: number } = {}): Promise<RpcReply> {
    const xid = this.nextXid();
    const body = encodeCall({ xid, prog, vers, proc, auth: opts.auth === null ? undefined : opts.auth ?? ROOT_AUTH }, args instanceof XdrWriter ? args.toBuffer() : args);
    const p = this.replyTo(xid);
    this.socket.write(frame(body, opts.fragments ?? 1));
    return p;
  }

  nfs(proc: number, args?: XdrWriter, auth?: AuthSys | null): Promise<RpcReply> {
    return this.call(NFS_PROGRAM, 3, proc, args, { auth });
  }

  mount(proc: number, args?: XdrWriter): Promise<RpcReply> {
    return this.call(MOUNT_PROGRAM, 3, proc, args);
  }

  /** MNT: the handle, or throws with the mount status */
  async mnt(path: string): Promise<Buffer> {
    const rep = await this.mount(1, new XdrWriter().string(path));
    const st = rep.body.uint32();
    if (st !== 0) throw Object.assign(new Error(`MNT ${path}: status ${st}`), { status: st });
    return Buffer.from(rep.body.opaque(64));
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Record-marks `body` as `n` fragments (the last with the high bit). */
export function frame(body: Buffer, n: number): Buffer {
  const parts: Buffer[] = [];
  const size = Math.max(1, Math.ceil(body.length / n));
  for (let off = 0; off < body.length || parts.length === 0; off += size) {
    const frag = body.subarray(off, off + size);
    const last = off + size >= body.length;
    const h = Buffer.alloc(4);
    h.writeUInt32BE(((last ? 0x80000000 : 0) | frag.length) >>> 0);
    parts.push(h, frag);
    if (last) break;
  }
  return Buffer.concat(parts);
}
