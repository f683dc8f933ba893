/**
 * Bad input: every NFS and MOUNT procedure fed truncated and random arguments answers an RPC
 * reply (GARBAGE_ARGS or a status), never crashes, and the server keeps serving.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { ExportTable, NfsServer } from '../../../../fs-bridge/nfs';
import { Nfs3Proc, writeSattr3 } from '../../../../fs-bridge/nfs/nfs3';
import { AcceptStat } from '../../../../fs-bridge/nfs/rpc';
import { XdrWriter } from '../../../../fs-bridge/nfs/xdr';
import { RpcTestClient } from '../../../helpers/nfs-rpc-client';
import { MemoryBridgeFs } from './memory-bridge-fs';

describe('fs-bridge/nfs bad input', () => {
  let server: NfsServer;
  let c: RpcTestClient;
  let root: Buffer;
  const fs = new MemoryBridgeFs();

  before(async () => {
    server = new NfsServer(new ExportTable({ containers: async () => ['c'], open: async () => fs }), { host: '127.0.0.1', port: 0 });
    await server.start();
    c = await RpcTestClient.connect('127.0.0.1', server.port);
    root = await c.mnt('/c');
    await fs.create(1, 'f', 0o644);
  });
  after(async () => { c.close(); await server.stop(); });

  /** A valid argument encoding per procedure, to be cut short. */
  function validArgs(proc: number): Buffer {
    const w = new XdrWriter().opaque(root);
    const sattr = () => writeSattr3(w, { mode: 0o644, size: 0, mtimeMs: 1000 });
    switch (proc) {
      case Nfs3Proc.SETATTR: sattr(); w.bool(false); break;
      case Nfs3Proc.LOOKUP: case Nfs3Proc.REMOVE: case Nfs3Proc.RMDIR: w.string('f'); break;
      case Nfs3Proc.ACCESS: w.uint32(0x3f); break;
      case Nfs3Proc.READ: w.uint64(0).uint32(100); break;
      case Nfs3Proc.WRITE: w.uint64(0).uint32(3).uint32(0).opaque(Buffer.from('abc')); break;
      case Nfs3Proc.CREATE: w.string('n').uint32(1); sattr(); break;
      case Nfs3Proc.MKDIR: w.string('d'); sattr(); break;
      case Nfs3Proc.SYMLINK: w.string('l'); sattr(); w.string('t'); break;
      case Nfs3Proc.MKNOD: w.string('m').uint32(4); sattr(); w.uint32(1).uint32(2); break;
      case Nfs3Proc.RENAME: w.string('f').opaque(root).string('g'); break;
      case Nfs3Proc.LINK: w.opaque(root).string('h'); break;
      case Nfs3Proc.READDIR: w.uint64(0).fixedOpaque(Buffer.alloc(8)).uint32(4096); break;
      case Nfs3Proc.READDIRPLUS: w.uint64(0).fixedOpaque(Buffer.alloc(8)).uint32(4096).uint32(8192); break;
      case Nfs3Proc.COMMIT: w.uint64(0).uint32(0); break;
      default: break;
    }
    return w.toBuffer();
  }

  it('answers GARBAGE_ARGS to every NFS procedure with arguments cut short', async () => {
    for (let proc = 1; proc <= 21; proc++) {
      const args = validArgs(proc);
      for (const cut of [0, 4, 8, args.length - 8, args.length - 4]) {
        if (cut < 0 || cut >= args.length) continue;
        const rep = await c.call(100003, 3, proc, args.subarray(0, cut));
        assert.equal(rep.stat, AcceptStat.GARBAGE_ARGS, `proc ${proc} cut at ${cut}`);
      }
    }
  });

  it('survives random bytes as arguments of every NFS and MOUNT procedure', async () => {
    for (let round = 0; round < 20; round++) {
      for (let proc = 0; proc <= 21; proc++) {
        const rep = await c.call(100003, 3, proc, crypto.randomBytes(Math.floor(Math.random() * 200)));
        assert.ok([AcceptStat.SUCCESS, AcceptStat.GARBAGE_ARGS].includes(rep.stat), `proc ${proc}: ${rep.stat}`);
      }
      for (let proc = 0; proc <= 5; proc++) {
        const rep = await c.call(100005, 3, proc, crypto.randomBytes(Math.floor(Math.random() * 100)));
        assert.ok([AcceptStat.SUCCESS, AcceptStat.GARBAGE_ARGS].includes(rep.stat), `mount proc ${proc}: ${rep.stat}`);
      }
    }
    assert.equal((await c.call(100003, 3, Nfs3Proc.GETATTR, new XdrWriter().opaque(root))).body.uint32(), 0);
  });

  it('a handle with our magic but a forged export or inode is STALE, never a crash', async () => {
    const forged = Buffer.from(root);
    forged.writeUInt32BE(0xffffffff, 20);
    const rep = await c.call(100003, 3, Nfs3Proc.GETATTR, new XdrWriter().opaque(forged));
    assert.equal(rep.body.uint32(), 70);
  });
});
