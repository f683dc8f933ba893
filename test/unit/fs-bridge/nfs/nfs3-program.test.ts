/**
 * Unit tests of the MOUNT v3, NFSv3 and portmap programs over real TCP against the in-memory
 * BridgeFs test double: each procedure's arguments decoded and results encoded.
 */
import assert from 'node:assert/strict';
import { ExportTable, NfsServer, Nfsstat3, NFS_STATUS, statusOf, decodeHandle, encodeHandle, exportIdOf } from '../../../../fs-bridge/nfs';
import { ERROR_CODES, OioError, type ErrorCode } from '../../../../appliance/common';
import { Nfs3Proc, readFattr3, readPostOpAttr, skipWcc, Ftype3, ACCESS3, writeSattr3, type Fattr3 } from '../../../../fs-bridge/nfs/nfs3';
import { cookieVerifier } from '../../../../fs-bridge/nfs/nfs3/nfs3-program';
import { PORTMAP_PROGRAM } from '../../../../fs-bridge/nfs/portmap';
import { AcceptStat } from '../../../../fs-bridge/nfs/rpc';
import { XdrWriter, type XdrReader } from '../../../../fs-bridge/nfs/xdr';
import { RpcTestClient } from '../../../helpers/nfs-rpc-client';
import { MemoryBridgeFs } from './memory-bridge-fs';

const dirop = (fh: Buffer, name: string) => new XdrWriter().opaque(fh).string(name);

describe('fs-bridge/nfs programs (MOUNT, NFSv3, portmap) on the BridgeFs test double', () => {
  let server: NfsServer;
  let c: RpcTestClient;
  const fsA = new MemoryBridgeFs();
  const fsRo = new MemoryBridgeFs();
  const fsDenied = new MemoryBridgeFs();
  let root: Buffer;

  before(async () => {
    const fss: Record<string, MemoryBridgeFs> = { alpha: fsA, ro: fsRo, denied: fsDenied, beta: new MemoryBridgeFs() };
    const table = new ExportTable({ containers: async () => Object.keys(fss), open: async (n) => fss[n]! }, { ro: { readOnly: true }, denied: { clients: ['10.0.0.0/8'] } });
    server = new NfsServer(table, { host: '127.0.0.1', port: 0, portmapPort: 0, flushRetryMs: 800 });
    await server.start();
    c = await RpcTestClient.connect('127.0.0.1', server.port);
    root = await c.mnt('/alpha');
  });
  after(async () => { c.close(); await server.stop(); });

  async function ok(proc: Nfs3Proc, args: XdrWriter): Promise<XdrReader> {
    const rep = await c.nfs(proc, args);
    assert.equal(rep.stat, AcceptStat.SUCCESS);
    const st = rep.body.uint32();
    assert.equal(st, Nfsstat3.OK, `proc ${proc} status ${st}`);
    return rep.body;
  }
  async function status(proc: Nfs3Proc, args: XdrWriter): Promise<number> {
    const rep = await c.nfs(proc, args);
    assert.equal(rep.stat, AcceptStat.SUCCESS);
    return rep.body.uint32();
  }
  /** CREATE UNCHECKED -> handle */
  async function create(dir: Buffer, name: string, mode = 0, extra?: (w: XdrWriter) => void): Promise<{ fh: Buffer; attr: Fattr3 }> {
    const w = dirop(dir, name).uint32(mode);
    if (extra) extra(w); else writeSattr3(w, { mode: 0o640 });
    const r = await ok(Nfs3Proc.CREATE, w);
    assert.equal(r.bool(), true);
    const fh = Buffer.from(r.opaque(64));
    return { fh, attr: readPostOpAttr(r)! };
  }
  async function lookup(dir: Buffer, name: string): Promise<{ fh: Buffer; attr: Fattr3 }> {
    const r = await ok(Nfs3Proc.LOOKUP, dirop(dir, name));
    const fh = Buffer.from(r.opaque(64));
    return { fh, attr: readPostOpAttr(r)! };
  }
  async function write(fh: Buffer, offset: number, data: Buffer, stable = 0): Promise<{ count: number; committed: number; verf: Buffer }> {
    const r = await ok(Nfs3Proc.WRITE, new XdrWriter().opaque(fh).uint64(offset).uint32(data.length).uint32(stable).opaque(data));
    skipWcc(r);
    return { count: r.uint32(), committed: r.uint32(), verf: Buffer.from(r.fixedOpaque(8)) };
  }
  async function readdir(dir: Buffer, plus: boolean, cookie = 0n, verf: Buffer = Buffer.alloc(8), count = 8192): Promise<{ names: string[]; cookies: bigint[]; eof: boolean; verf: Buffer; handles: Buffer[] }> {
    const w = new XdrWriter().opaque(dir).uint64(cookie).fixedOpaque(verf).uint32(count);
    if (plus) w.uint32(count);
    const r = await ok(plus ? Nfs3Proc.READDIRPLUS : Nfs3Proc.READDIR, w);
    readPostOpAttr(r);
    const v = Buffer.from(r.fixedOpaque(8));
    const names: string[] = [];
    const cookies: bigint[] = [];
    const handles: Buffer[] = [];
    while (r.bool()) {
      r.uint64();
      names.push(r.string());
      cookies.push(r.uint64());
      if (plus) {
        assert.ok(readPostOpAttr(r));
        assert.equal(r.bool(), true);
        handles.push(Buffer.from(r.opaque(64)));
      }
    }
    return { names, cookies, eof: r.bool(), verf: v, handles };
  }

  describe('MOUNT v3', () => {
    it('MNT answers the handle of an export root with AUTH_SYS and AUTH_NONE', async () => {
      const rep = await c.mount(1, new XdrWriter().string('/alpha'));
      assert.equal(rep.body.uint32(), 0);
      const h = decodeHandle(Buffer.from(rep.body.opaque(64)))!;
      assert.deepEqual(h, { exportId: exportIdOf('/alpha'), ino: 1, generation: 1 });
      const n = rep.body.uint32();
      assert.deepEqual(Array.from({ length: n }, () => rep.body.uint32()), [1, 0]);
    });

    it('MNT accepts a subdirectory of an export and refuses a file, a missing path and ".."', async () => {
      const sub = await fsA.mkdir(1, 'mnt-sub', 0o755);
      await fsA.create(sub.ino, 'f', 0o644);
      assert.equal(decodeHandle(await c.mnt('/alpha/mnt-sub/'))!.ino, sub.ino);
      await assert.rejects(c.mnt('/alpha/mnt-sub/f'), { status: 20 });
      await assert.rejects(c.mnt('/alpha/nope'), { status: 2 });
      await assert.rejects(c.mnt('/nope'), { status: 2 });
      await assert.rejects(c.mnt('/alpha/../ro'), { status: 13 });
    });

    it('MNT refuses a client outside the export\'s address list', async () => {
      await assert.rejects(c.mnt('/denied'), { status: 13 });
    });

    it('DUMP lists the mounts, UMNT and UMNTALL remove them', async () => {
      const dump = async () => {
        const r = (await c.mount(2)).body;
        const out: string[] = [];
        while (r.bool()) out.push(`${r.string()} ${r.string()}`);
        return out;
      };
      assert.ok((await dump()).includes('127.0.0.1 /alpha'));
      await c.mount(3, new XdrWriter().string('/alpha'));
      assert.ok(!(await dump()).includes('127.0.0.1 /alpha'));
      await c.mnt('/ro');
      await c.mount(4);
      assert.deepEqual(await dump(), []);
    });

    it('EXPORT lists every export with its client groups', async () => {
      const r = (await c.mount(5)).body;
      const out: Record<string, string[]> = {};
      while (r.bool()) {
        const dir = r.string();
        const groups: string[] = [];
        while (r.bool()) groups.push(r.string());
        out[dir] = groups;
      }
      assert.deepEqual(out, { '/alpha': [], '/ro': [], '/denied': ['10.0.0.0/8'], '/beta': [] });
    });

    it('answers PROG_MISMATCH for MOUNT v4 and PROC_UNAVAIL for procedure 9', async () => {
      assert.equal((await c.call(100005, 4, 0)).stat, AcceptStat.PROG_MISMATCH);
      assert.equal((await c.call(100005, 3, 9)).stat, AcceptStat.PROC_UNAVAIL);
    });
  });

  describe('NFSv3', () => {
    it('NULL answers nothing; an unknown procedure is PROC_UNAVAIL; v2 is PROG_MISMATCH', async () => {
      assert.equal((await c.nfs(Nfs3Proc.NULL)).stat, AcceptStat.SUCCESS);
      assert.equal((await c.nfs(22)).stat, AcceptStat.PROC_UNAVAIL);
      const r = await c.call(100003, 2, 0);
      assert.equal(r.stat, AcceptStat.PROG_MISMATCH);
    });

    it('GETATTR answers fattr3 of the root with fsid and fileid', async () => {
      const a = readFattr3(await ok(Nfs3Proc.GETATTR, new XdrWriter().opaque(root)));
      assert.equal(a.type, Ftype3.DIR);
      assert.equal(a.fileid, 1);
      assert.equal(a.fsid, BigInt('0x' + exportIdOf('/alpha')));
    });

    it('GETATTR of a handle that is not ours is BADHANDLE, of a deleted inode STALE, of an unknown export STALE', async () => {
      assert.equal(await status(Nfs3Proc.GETATTR, new XdrWriter().opaque(Buffer.alloc(28))), Nfsstat3.BADHANDLE);
      assert.equal(await status(Nfs3Proc.GETATTR, new XdrWriter().opaque(encodeHandle({ exportId: exportIdOf('/alpha'), ino: 99999, generation: 1 }))), Nfsstat3.STALE);
      assert.equal(await status(Nfs3Proc.GETATTR, new XdrWriter().opaque(encodeHandle({ exportId: exportIdOf('/zzz'), ino: 1, generation: 1 }))), Nfsstat3.STALE);
    });

    it('a handle longer than 64 bytes is GARBAGE_ARGS, never a crash', async () => {
      const rep = await c.nfs(Nfs3Proc.GETATTR, new XdrWriter().opaque(Buffer.alloc(65)));
      assert.equal(rep.stat, AcceptStat.GARBAGE_ARGS);
    });

    it('CREATE UNCHECKED makes a file with the mode asked and AUTH_SYS owner, LOOKUP finds it', async () => {
      const { fh, attr } = await create(root, 'f1');
      assert.equal(attr.type, Ftype3.REG);
      assert.equal(attr.mode, 0o640);
      const l = await lookup(root, 'f1');
      assert.ok(l.fh.equals(fh));
      assert.equal(await status(Nfs3Proc.LOOKUP, dirop(root, 'missing')), Nfsstat3.NOENT);
      assert.equal(await status(Nfs3Proc.LOOKUP, dirop(fh, 'inside-a-file')), Nfsstat3.NOTDIR);
    });

    it('LOOKUP "." and ".." answer the directory and its parent', async () => {
      const r = await ok(Nfs3Proc.MKDIR, (() => { const w = dirop(root, 'd-dots'); writeSattr3(w, { mode: 0o700 }); return w; })());
      r.bool();
      const d = Buffer.from(r.opaque(64));
      assert.ok((await lookup(d, '.')).fh.equals(d));
      assert.ok((await lookup(d, '..')).fh.equals(root));
      assert.ok((await lookup(root, '..')).fh.equals(root));
    });

    it('names with "/" or NUL are refused, names over 255 bytes are NAMETOOLONG', async () => {
      assert.equal(await status(Nfs3Proc.LOOKUP, dirop(root, 'a/b')), Nfsstat3.ACCES);
      assert.equal(await status(Nfs3Proc.LOOKUP, dirop(root, 'a\0b')), Nfsstat3.ACCES);
      assert.equal(await status(Nfs3Proc.LOOKUP, dirop(root, 'x'.repeat(256))), Nfsstat3.NAMETOOLONG);
    });

    it('CREATE GUARDED fails with EXIST on an existing name', async () => {
      await create(root, 'g1', 1);
      const w = dirop(root, 'g1').uint32(1);
      writeSattr3(w, {});
      assert.equal(await status(Nfs3Proc.CREATE, w), Nfsstat3.EXIST);
    });

    it('CREATE EXCLUSIVE succeeds again with the same verifier and fails with another', async () => {
      const verf = Buffer.from('12345678');
      const a = await create(root, 'x1', 2, (w) => w.fixedOpaque(verf));
      const again = await create(root, 'x1', 2, (w) => w.fixedOpaque(verf));
      assert.ok(again.fh.equals(a.fh));
      assert.equal(await status(Nfs3Proc.CREATE, dirop(root, 'x1').uint32(2).fixedOpaque(Buffer.from('87654321'))), Nfsstat3.EXIST);
    });

    it('WRITE UNSTABLE is spooled, COMMIT flushes it and both carry the same write verifier', async () => {
      const { fh } = await create(root, 'w1');
      const ino = decodeHandle(fh)!.ino;
      const w = await write(fh, 0, Buffer.from('hello world'));
      assert.equal(w.count, 11);
      assert.equal(w.committed, 0);
      assert.ok(fsA.dirty.has(ino));
      const r = await ok(Nfs3Proc.COMMIT, new XdrWriter().opaque(fh).uint64(0).uint32(0));
      skipWcc(r);
      assert.ok(Buffer.from(r.fixedOpaque(8)).equals(w.verf));
      assert.ok(!fsA.dirty.has(ino));
    });

    it('WRITE FILE_SYNC and DATA_SYNC flush before answering FILE_SYNC', async () => {
      const { fh } = await create(root, 'w2');
      const ino = decodeHandle(fh)!.ino;
      for (const stable of [1, 2]) {
        const before = fsA.flushed.length;
        const w = await write(fh, 0, Buffer.from('abc'), stable);
        assert.equal(w.committed, 2);
        assert.equal(fsA.flushed[before], ino);
      }
    });

    it('COMMIT retries a retryable bridge failure before answering', async () => {
      const { fh } = await create(root, 'retry');
      await write(fh, 0, Buffer.from('x'));
      fsA.failFlushes = 2;
      await ok(Nfs3Proc.COMMIT, new XdrWriter().opaque(fh).uint64(0).uint32(0));
      assert.equal(fsA.failFlushes, 0);
    });

    it('COMMIT answers JUKEBOX when the bridge stays unavailable', async () => {
      const { fh } = await create(root, 'jukebox');
      await write(fh, 0, Buffer.from('x'));
      fsA.failFlushes = 1000;
      try {
        assert.equal(await status(Nfs3Proc.COMMIT, new XdrWriter().opaque(fh).uint64(0).uint32(0)), Nfsstat3.JUKEBOX);
      } finally {
        fsA.failFlushes = 0;
      }
    });

    it('READ answers data and eof, short at the end of the file', async () => {
      const { fh } = await create(root, 'r1');
      await write(fh, 0, Buffer.from('0123456789'));
      const read = async (off: number, n: number) => {
        const r = await ok(Nfs3Proc.READ, new XdrWriter().opaque(fh).uint64(off).uint32(n));
        readPostOpAttr(r);
        const count = r.uint32();
        const eof = r.bool();
        const data = r.opaque();
        assert.equal(count, data.length);
        return { data: data.toString(), eof };
      };
      assert.deepEqual(await read(0, 4), { data: '0123', eof: false });
      assert.deepEqual(await read(6, 100), { data: '6789', eof: true });
      assert.deepEqual(await read(50, 10), { data: '', eof: true });
    });

    it('SETATTR truncates and changes the mode; a failed ctime guard is NOT_SYNC', async () => {
      const { fh } = await create(root, 's1');
      await write(fh, 0, Buffer.from('0123456789'));
      const w = new XdrWriter().opaque(fh);
      writeSattr3(w, { size: 3, mode: 0o600 });
      w.bool(false);
      const post = skipWcc(await ok(Nfs3Proc.SETATTR, w))!;
      assert.equal(post.size, 3);
      assert.equal(post.mode, 0o600);
      const g = new XdrWriter().opaque(fh);
      writeSattr3(g, { mode: 0o644 });
      g.bool(true).uint32(1).uint32(0);
      assert.equal(await status(Nfs3Proc.SETATTR, g), Nfsstat3.NOT_SYNC);
    });

    it('ACCESS grants by mode bits to the AUTH_SYS user, all to root', async () => {
      const { fh } = await create(root, 'acc', 0, (w) => writeSattr3(w, { mode: 0o640 }));
      const ask = ACCESS3.READ | ACCESS3.MODIFY | ACCESS3.EXECUTE;
      const access = async (auth: { uid: number; gid: number }) => {
        const rep = await c.nfs(Nfs3Proc.ACCESS, new XdrWriter().opaque(fh).uint32(ask), { stamp: 0, machineName: 'm', uid: auth.uid, gid: auth.gid, gids: [] });
        assert.equal(rep.body.uint32(), 0);
        readPostOpAttr(rep.body);
        return rep.body.uint32();
      };
      assert.equal(await access({ uid: 0, gid: 0 }), ACCESS3.READ | ACCESS3.MODIFY);
      assert.equal(await access({ uid: 4242, gid: 0 }), ACCESS3.READ);
      assert.equal(await access({ uid: 4242, gid: 4242 }), 0);
    });

    it('enforces Unix permissions for AUTH_SYS users: owner, others, root, owner override', async () => {
      const u1 = { stamp: 0, machineName: 'm', uid: 1000, gid: 1000, gids: [] };
      const u2 = { stamp: 0, machineName: 'm', uid: 2000, gid: 2000, gids: [] };
      const st = async (proc: Nfs3Proc, w: XdrWriter, auth: typeof u1) => (await c.nfs(proc, w, auth)).body.uint32();
      const mk = dirop(root, 'home1');
      writeSattr3(mk, { mode: 0o755, uid: 1000, gid: 1000 });
      const r = await ok(Nfs3Proc.MKDIR, mk);
      r.bool();
      const home = Buffer.from(r.opaque(64));
      const cr = (name: string, mode: number) => { const w = dirop(home, name).uint32(0); writeSattr3(w, { mode }); return w; };
      assert.equal(await st(Nfs3Proc.CREATE, cr('by-u2', 0o644), u2), Nfsstat3.ACCES);
      assert.equal(await st(Nfs3Proc.CREATE, cr('secret', 0o600), u1), Nfsstat3.OK);
      assert.equal(await st(Nfs3Proc.CREATE, cr('readonly', 0o444), u1), Nfsstat3.OK);
      const secret = (await lookup(home, 'secret')).fh;
      const ro = (await lookup(home, 'readonly')).fh;
      const rd = (fh: Buffer) => new XdrWriter().opaque(fh).uint64(0).uint32(10);
      const wr = (fh: Buffer) => new XdrWriter().opaque(fh).uint64(0).uint32(1).uint32(0).opaque(Buffer.from('x'));
      assert.equal(await st(Nfs3Proc.READ, rd(secret), u2), Nfsstat3.ACCES);
      assert.equal(await st(Nfs3Proc.READ, rd(secret), u1), Nfsstat3.OK);
      assert.equal(await st(Nfs3Proc.WRITE, wr(ro), u1), Nfsstat3.OK, 'the owner writes its read-only file (owner override)');
      assert.equal(await st(Nfs3Proc.WRITE, wr(ro), u2), Nfsstat3.ACCES);
      assert.equal(await st(Nfs3Proc.REMOVE, dirop(home, 'secret'), u2), Nfsstat3.ACCES);
      const chmod = new XdrWriter().opaque(secret);
      writeSattr3(chmod, { mode: 0o777 });
      chmod.bool(false);
      assert.equal(await st(Nfs3Proc.SETATTR, chmod, u2), Nfsstat3.PERM);
      assert.equal(await st(Nfs3Proc.RENAME, dirop(home, 'secret').opaque(root).string('stolen'), u2), Nfsstat3.ACCES);
      assert.equal(await st(Nfs3Proc.READ, rd(secret), { ...u2, uid: 0 }), Nfsstat3.OK, 'root reads anything');
      assert.equal(await st(Nfs3Proc.REMOVE, dirop(home, 'secret'), u1), Nfsstat3.OK);
    });

    it('SYMLINK and READLINK; READLINK of a file is INVAL', async () => {
      const w = dirop(root, 'ln');
      writeSattr3(w, {});
      w.string('target/path');
      const r = await ok(Nfs3Proc.SYMLINK, w);
      r.bool();
      const fh = Buffer.from(r.opaque(64));
      assert.equal(readPostOpAttr(r)!.type, Ftype3.LNK);
      const rl = await ok(Nfs3Proc.READLINK, new XdrWriter().opaque(fh));
      readPostOpAttr(rl);
      assert.equal(rl.string(), 'target/path');
      const f = await lookup(root, 'f1');
      assert.equal(await status(Nfs3Proc.READLINK, new XdrWriter().opaque(f.fh)), Nfsstat3.INVAL);
    });

    it('MKNOD and LINK are NOTSUPP', async () => {
      const f = await lookup(root, 'f1');
      const mk = dirop(root, 'dev').uint32(7);
      writeSattr3(mk, {});
      assert.equal(await status(Nfs3Proc.MKNOD, mk), Nfsstat3.NOTSUPP);
      assert.equal(await status(Nfs3Proc.LINK, new XdrWriter().opaque(f.fh).opaque(root).string('hard')), Nfsstat3.NOTSUPP);
    });

    it('MKDIR, RMDIR of a non-empty directory is NOTEMPTY, REMOVE of a directory ISDIR, RMDIR of a file NOTDIR', async () => {
      const w = dirop(root, 'dd');
      writeSattr3(w, { mode: 0o755 });
      const r = await ok(Nfs3Proc.MKDIR, w);
      r.bool();
      const dd = Buffer.from(r.opaque(64));
      await create(dd, 'inner');
      assert.equal(await status(Nfs3Proc.RMDIR, dirop(root, 'dd')), Nfsstat3.NOTEMPTY);
      assert.equal(await status(Nfs3Proc.REMOVE, dirop(root, 'dd')), Nfsstat3.ISDIR);
      assert.equal(await status(Nfs3Proc.RMDIR, dirop(dd, 'inner')), Nfsstat3.NOTDIR);
      await ok(Nfs3Proc.REMOVE, dirop(dd, 'inner'));
      await ok(Nfs3Proc.RMDIR, dirop(root, 'dd'));
      assert.equal(await status(Nfs3Proc.LOOKUP, dirop(root, 'dd')), Nfsstat3.NOENT);
      assert.equal(await status(Nfs3Proc.GETATTR, new XdrWriter().opaque(dd)), Nfsstat3.STALE);
    });

    it('RENAME keeps the file handle valid under the new name', async () => {
      const { fh } = await create(root, 'before');
      await write(fh, 0, Buffer.from('data'), 2);
      const r = await ok(Nfs3Proc.RENAME, dirop(root, 'before').opaque(root).string('after'));
      skipWcc(r); skipWcc(r);
      assert.ok((await lookup(root, 'after')).fh.equals(fh));
      assert.equal(readFattr3(await ok(Nfs3Proc.GETATTR, new XdrWriter().opaque(fh))).size, 4);
    });

    it('RENAME between exports is XDEV, into a read-only export ROFS', async () => {
      const ro = await c.mnt('/ro');
      const beta = await c.mnt('/beta');
      await fsA.create(1, 'xdev', 0o644);
      assert.equal(await status(Nfs3Proc.RENAME, dirop(root, 'xdev').opaque(beta).string('x')), Nfsstat3.XDEV);
      assert.equal(await status(Nfs3Proc.RENAME, dirop(root, 'xdev').opaque(ro).string('x')), Nfsstat3.ROFS);
    });

    it('READDIR and READDIRPLUS list ".", ".." and every entry across small replies with cookies', async () => {
      const w = dirop(root, 'big');
      writeSattr3(w, {});
      const r = await ok(Nfs3Proc.MKDIR, w);
      r.bool();
      const big = Buffer.from(r.opaque(64));
      const bigIno = decodeHandle(big)!.ino;
      const want = Array.from({ length: 1300 }, (_, i) => `entry-${String(i).padStart(5, '0')}`);
      for (const n of want) await fsA.create(bigIno, n, 0o644);
      for (const plus of [false, true]) {
        const seen: string[] = [];
        let cookie = 0n;
        let verf: Buffer = Buffer.alloc(8);
        let replies = 0;
        for (;;) {
          const page = await readdir(big, plus, cookie, verf, 4096);
          replies++;
          seen.push(...page.names);
          verf = page.verf;
          if (page.eof) break;
          cookie = page.cookies[page.cookies.length - 1]!;
        }
        assert.ok(replies > 3, `replies ${replies}`);
        assert.deepEqual(seen, ['.', '..', ...want]);
      }
    });

    it('READDIR resumes from any entry\'s cookie, and BAD_COOKIE with the verifier of another directory', async () => {
      const big = (await lookup(root, 'big')).fh;
      const first = await readdir(big, false, 0n, Buffer.alloc(8), 2048);
      const k = 5;
      const resumed = await readdir(big, false, first.cookies[k]!, first.verf, 2048);
      assert.equal(resumed.names[0], first.names[k + 1]);
      assert.ok(first.verf.equals(cookieVerifier(exportIdOf('/alpha'), decodeHandle(big)!.ino)));
      const other = cookieVerifier(exportIdOf('/alpha'), 1);
      const w = new XdrWriter().opaque(big).uint64(first.cookies[k]!).fixedOpaque(other).uint32(2048);
      assert.equal(await status(Nfs3Proc.READDIR, w), Nfsstat3.BAD_COOKIE);
    });

    it('READDIRPLUS handles resolve to the listed entries', async () => {
      const page = await readdir(root, true);
      const i = page.names.indexOf('f1');
      assert.ok((await lookup(root, 'f1')).fh.equals(page.handles[i]!));
    });

    it('READDIR of a file is NOTDIR; a reply too small for one entry is TOOSMALL', async () => {
      const f = await lookup(root, 'f1');
      assert.equal(await status(Nfs3Proc.READDIR, new XdrWriter().opaque(f.fh).uint64(0).fixedOpaque(Buffer.alloc(8)).uint32(4096)), Nfsstat3.NOTDIR);
      assert.equal(await status(Nfs3Proc.READDIR, new XdrWriter().opaque(root).uint64(0).fixedOpaque(Buffer.alloc(8)).uint32(10)), Nfsstat3.TOOSMALL);
    });

    it('FSSTAT, FSINFO and PATHCONF answer the limits', async () => {
      const s = await ok(Nfs3Proc.FSSTAT, new XdrWriter().opaque(root));
      readPostOpAttr(s);
      assert.equal(s.uint64Number(), 1 << 30);
      const i = await ok(Nfs3Proc.FSINFO, new XdrWriter().opaque(root));
      readPostOpAttr(i);
      assert.equal(i.uint32(), 1 << 20);
      const p = await ok(Nfs3Proc.PATHCONF, new XdrWriter().opaque(root));
      readPostOpAttr(p);
      p.uint32();
      assert.equal(p.uint32(), 255);
    });

    it('a read-only export answers ROFS to changes and serves reads', async () => {
      await fsRo.create(1, 'ro-file', 0o644);
      const ro = await c.mnt('/ro');
      const w = dirop(ro, 'new').uint32(0);
      writeSattr3(w, {});
      assert.equal(await status(Nfs3Proc.CREATE, w), Nfsstat3.ROFS);
      assert.equal(await status(Nfs3Proc.REMOVE, dirop(ro, 'ro-file')), Nfsstat3.ROFS);
      await ok(Nfs3Proc.LOOKUP, dirop(ro, 'ro-file'));
    });

    it('a client outside an export\'s list gets ACCES even with a forged handle', async () => {
      const forged = encodeHandle({ exportId: exportIdOf('/denied'), ino: 1, generation: 1 });
      assert.equal(await status(Nfs3Proc.GETATTR, new XdrWriter().opaque(forged)), Nfsstat3.ACCES);
    });

    it('truncated WRITE arguments are GARBAGE_ARGS and the server keeps serving', async () => {
      const f = await lookup(root, 'f1');
      const rep = await c.nfs(Nfs3Proc.WRITE, new XdrWriter().opaque(f.fh).uint64(0).uint32(10).uint32(0).uint32(10));
      assert.equal(rep.stat, AcceptStat.GARBAGE_ARGS);
      await ok(Nfs3Proc.GETATTR, new XdrWriter().opaque(root));
    });
  });

  describe('portmapper', () => {
    it('GETPORT answers the NFS and MOUNT port, DUMP lists the mappings', async () => {
      const pm = await RpcTestClient.connect('127.0.0.1', server.portmapPort);
      try {
        const r = await pm.call(PORTMAP_PROGRAM, 2, 3, new XdrWriter().uint32(100003).uint32(3).uint32(6).uint32(0));
        assert.equal(r.body.uint32(), server.port);
        const m = await pm.call(PORTMAP_PROGRAM, 2, 3, new XdrWriter().uint32(100005).uint32(3).uint32(6).uint32(0));
        assert.equal(m.body.uint32(), server.port);
        const none = await pm.call(PORTMAP_PROGRAM, 2, 3, new XdrWriter().uint32(100003).uint32(3).uint32(17).uint32(0));
        assert.equal(none.body.uint32(), 0);
        const d = (await pm.call(PORTMAP_PROGRAM, 2, 4)).body;
        let n = 0;
        while (d.bool()) { d.uint32(); d.uint32(); d.uint32(); d.uint32(); n++; }
        assert.ok(n >= 4);
        assert.equal((await pm.call(PORTMAP_PROGRAM, 2, 0)).stat, AcceptStat.SUCCESS);
      } finally {
        pm.close();
      }
    });
  });

  describe('status table', () => {
    it('maps every error code and the table rows of STYLE.md', () => {
      for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) assert.ok(NFS_STATUS[code] !== undefined, code);
      assert.equal(statusOf(new OioError('CONTENT_NOT_FOUND', 'x')), Nfsstat3.NOENT);
      assert.equal(statusOf(new OioError('CONTAINER_NOT_EMPTY', 'x')), Nfsstat3.NOTEMPTY);
      assert.equal(statusOf(new OioError('UNAVAILABLE', 'x')), Nfsstat3.JUKEBOX);
      assert.equal(statusOf(new OioError('NOT_IMPLEMENTED', 'x')), Nfsstat3.NOTSUPP);
      assert.equal(statusOf(new Error('anything')), Nfsstat3.SERVERFAULT);
      assert.equal(statusOf(new OioError('BAD_REQUEST', 'x', { details: { reason: 'not_dir' } })), Nfsstat3.NOTDIR);
      assert.equal(statusOf(new OioError('INVALID_NAME', 'x', { details: { reason: 'name_too_long' } })), Nfsstat3.NAMETOOLONG);
    });
  });
});
