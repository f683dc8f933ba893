/**
 * E2E: our NFSv3 server (service `nfs` of a real node, bridge on the grid) driven by
 * libnfs-utils (`nfs-ls`, `nfs-cp`, `nfs-cat`), a client nobody here wrote, plus raw RPC
 * calls to replay old file handles after a restart and a rename.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Nfsstat3 } from '../../../fs-bridge/nfs';
import { Nfs3Proc, readFattr3, readPostOpAttr, skipWcc, writeSattr3 } from '../../../fs-bridge/nfs/nfs3';
import { XdrWriter } from '../../../fs-bridge/nfs/xdr';
import { dumpLogsOnFailure, startNode, type TestNode } from '../../helpers/grid';
import { RpcTestClient } from '../../helpers/nfs-rpc-client';
import { tmpDir } from '../../helpers/tmp';

const run = promisify(execFile);
const SERVICES = ['conscience', 'meta0', 'meta1', 'account', 'meta2', 'rawx', 'proxy', 'nfs'];
const PORT = 2049;
/** Scores that do not fall to 0 when other tests load the 2 cores (the default uses idle CPU). */
const STEADY_SCORES = { '*': { put: '(stat.space >= 2) * 90', get: '90' } };

function haveTools(): string | undefined {
  for (const t of ['nfs-ls', 'nfs-cp', 'nfs-cat']) {
    try { execFileSync('sh', ['-c', `command -v ${t}`], { stdio: 'pipe' }); } catch { return t; }
  }
  return undefined;
}

const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('e2e: libnfs-utils against the NFSv3 server', function () {
  this.timeout(300_000);
  let node: TestNode;
  let work: string;
  const ctr = `nfs-${crypto.randomBytes(3).toString('hex')}`;
  const url = (p: string) => `nfs://${node.ip}/${ctr}${p}?version=3&nfsport=${PORT}&mountport=${PORT}`;
  const roUrl = (p: string) => `nfs://${node.ip}/${ctr}-ro${p}?version=3&nfsport=${PORT}&mountport=${PORT}`;

  before(async function () {
    const missing = haveTools();
    if (missing) {
      if (process.env.CI === 'true') throw new Error(`${missing} not installed (apt-get install libnfs-utils)`);
      console.log(`      skipped: ${missing} not installed (libnfs-utils)`);
      this.skip();
    }
    node = await startNode({ services: SERVICES, config: { 'nfs.account': 'test', 'nfs.port': PORT, 'ns.storage_policy': 'SINGLE', 'ns.score_expr': STEADY_SCORES, 'nfs.portmap': true, 'nfs.exports': { [`${ctr}-ro`]: { readOnly: true } } } });
    await node.client('test').containerCreate(ctr);
    await node.client('test').containerCreate(`${ctr}-ro`);
    await node.client('test').objectPut(`${ctr}-ro`, 'kept.txt', Buffer.from('read only\n'));
    work = tmpDir('nfs-e2e-');
  });
  afterEach(function () { dumpLogsOnFailure(this, node); });
  after(async () => { await node?.stop(); });

  /** raw MKDIR through our RPC helper (libnfs-utils has no mkdir tool) */
  async function mkdirs(rel: string[]): Promise<void> {
    const c = await RpcTestClient.connect(node.ip, PORT);
    try {
      for (const d of rel) {
        const parent = await c.mnt(`/${ctr}/${path.posix.dirname(d)}`.replace(/\/\.$/, ''));
        const w = new XdrWriter().opaque(parent).string(path.posix.basename(d));
        writeSattr3(w, { mode: 0o755 });
        const st = (await c.nfs(Nfs3Proc.MKDIR, w)).body.uint32();
        assert.equal(st, Nfsstat3.OK, `mkdir ${d}: ${st}`);
      }
    } finally { c.close(); }
  }

  async function lookupPath(c: RpcTestClient, rel: string): Promise<Buffer> {
    let fh = await c.mnt(`/${ctr}`);
    for (const name of rel.split('/')) {
      const r = (await c.nfs(Nfs3Proc.LOOKUP, new XdrWriter().opaque(fh).string(name))).body;
      assert.equal(r.uint32(), Nfsstat3.OK, `lookup ${name}`);
      fh = Buffer.from(r.opaque(64));
    }
    return fh;
  }

  async function readAll(c: RpcTestClient, fh: Buffer): Promise<{ status: number; data?: Buffer; fileid?: number }> {
    const g = (await c.nfs(Nfs3Proc.GETATTR, new XdrWriter().opaque(fh))).body;
    const status = g.uint32();
    if (status !== Nfsstat3.OK) return { status };
    const a = readFattr3(g);
    const r = (await c.nfs(Nfs3Proc.READ, new XdrWriter().opaque(fh).uint64(0).uint32(a.size + 1))).body;
    assert.equal(r.uint32(), Nfsstat3.OK);
    readPostOpAttr(r);
    r.uint32(); r.bool();
    return { status, data: Buffer.from(r.opaque()), fileid: a.fileid };
  }

  it('round-trips a tree: nfs-cp up, nfs-ls -R, nfs-cp down, same hashes, objects in the grid', async () => {
    const src = path.join(work, 'tree');
    const files: Record<string, Buffer> = {};
    const dirs = ['a', 'a/b', 'a/b/c', 'empty-dir', 'z'];
    for (const d of dirs) fs.mkdirSync(path.join(src, d), { recursive: true });
    for (let i = 0; i < 25; i++) {
      const rel = `${dirs[i % dirs.length]}/file-${i}.bin`;
      files[rel] = crypto.randomBytes(i * 7919);
    }
    files['top.txt'] = Buffer.from('top level\n');
    files['a/b/c/with space.txt'] = Buffer.from('spaces work\n');
    for (const [rel, data] of Object.entries(files)) fs.writeFileSync(path.join(src, rel), data);
    await mkdirs(dirs);
    for (const rel of Object.keys(files)) await run('nfs-cp', [path.join(src, rel), url('/' + rel)]);

    const ls = await run('nfs-ls', ['-R', url('')]);
    if (process.env.NFS_DEBUG) console.log(ls.stdout);
    const listed = ls.stdout.split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/).slice(5).join(' '));
    for (const rel of Object.keys(files)) assert.ok(listed.includes(rel), `nfs-ls -R lacks ${rel}:\n${ls.stdout}`);
    for (const d of dirs) assert.ok(listed.includes(d), `nfs-ls -R lacks dir ${d}`);

    const back = path.join(work, 'back');
    for (const [rel, data] of Object.entries(files)) {
      const out = path.join(back, rel);
      fs.mkdirSync(path.dirname(out), { recursive: true });
      await run('nfs-cp', [url('/' + rel), out]);
      assert.ok(fs.readFileSync(out).equals(data), `content of ${rel}`);
    }
    // Committed to the grid (COMMIT at close), readable through the client library.
    for (const [rel, data] of Object.entries(files)) {
      const got = await node.client('test').objectGet(ctr, rel);
      const chunks: Buffer[] = [];
      for await (const ch of got.stream) chunks.push(ch as Buffer);
      assert.ok(Buffer.concat(chunks).equals(data), `object ${rel} in the grid`);
    }
  });

  it('copies a 64 MiB file up and down with the same sha256', async () => {
    const big = path.join(work, 'big.bin');
    const fd = fs.openSync(big, 'w');
    for (let i = 0; i < 64; i++) fs.writeSync(fd, crypto.randomBytes(1 << 20));
    fs.closeSync(fd);
    await run('nfs-cp', [big, url('/big.bin')]);
    const back = path.join(work, 'big.back');
    await run('nfs-cp', [url('/big.bin'), back]);
    assert.equal(sha256(back), sha256(big));
    assert.equal((await node.client('test').objectHead(ctr, 'big.bin')).size, 64 << 20);
    // nfs-cp creates exclusively: an existing name is refused (NFS3ERR_EXIST), content kept.
    const small = path.join(work, 'small.txt');
    fs.writeFileSync(small, 'now small\n');
    await assert.rejects(run('nfs-cp', [small, url('/big.bin')]), (e: { stderr?: string }) => /NFS3ERR_EXIST/.test(String(e.stderr)));
    // SETATTR size (truncate) is committed before the reply.
    const c = await RpcTestClient.connect(node.ip, PORT);
    try {
      const fh = await lookupPath(c, 'big.bin');
      const w = new XdrWriter().opaque(fh);
      writeSattr3(w, { size: 1000 });
      w.bool(false);
      assert.equal((await c.nfs(Nfs3Proc.SETATTR, w)).body.uint32(), Nfsstat3.OK);
    } finally { c.close(); }
    assert.equal((await node.client('test').objectHead(ctr, 'big.bin')).size, 1000);
    assert.ok(Buffer.from((await run('nfs-cat', [url('/big.bin')], { encoding: 'buffer' })).stdout).equals(fs.readFileSync(big).subarray(0, 1000)));
  });

  it('nfs-cat of a missing file fails with NFS3ERR_NOENT', async () => {
    for (const missing of ['/no-such-file.txt', '/a/b/no-such-file.txt']) {
      await assert.rejects(run('nfs-cat', [url(missing)]), (e: { code?: number; stderr?: string }) => {
        assert.ok(typeof e.code === 'number' && e.code !== 0, `exit status ${e.code}`);
        assert.match(String(e.stderr), /NFS3ERR_NOENT/);
        return true;
      });
    }
    // A missing folder: libnfs mounts the parent folder of the file, MNT answers NOENT.
    await assert.rejects(run('nfs-cat', [url('/no/such/file.txt')]), (e: { code?: number; stderr?: string }) => {
      assert.ok(typeof e.code === 'number' && e.code !== 0);
      assert.match(String(e.stderr), /MNT3ERR_NOENT/);
      return true;
    });
    const ok = await run('nfs-cat', [url('/top.txt')]);
    assert.equal(ok.stdout, 'top level\n');
  });

  it('nfs-ls lists a directory of 2,500 objects made through the client library (pages of the bridge)', async () => {
    const names = Array.from({ length: 2500 }, (_, i) => `many/n-${String(i).padStart(5, '0')}`);
    const s = node.client('test');
    for (let i = 0; i < names.length; i += 50) await Promise.all(names.slice(i, i + 50).map((n) => s.objectPut(ctr, n, Buffer.from(n))));
    const ls = await run('nfs-ls', [url('/many')], { maxBuffer: 16 << 20 });
    const listed = ls.stdout.split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/).slice(5).join(' ')).filter((n) => n !== '.' && n !== '..');
    assert.deepEqual(listed.sort(), names.map((n) => n.slice(5)).sort());
    assert.equal((await run('nfs-cat', [url('/many/n-02499')])).stdout, 'many/n-02499');
  });

  it('maps the real bridge\'s errors to NFS3ERR_* and never escapes the export', async () => {
    const c = await RpcTestClient.connect(node.ip, PORT);
    try {
      const root = await c.mnt(`/${ctr}`);
      const file = await lookupPath(c, 'top.txt');
      const st = async (proc: Nfs3Proc, w: XdrWriter) => (await c.nfs(proc, w)).body.uint32();
      const dirop = (fh: Buffer, name: string) => new XdrWriter().opaque(fh).string(name);
      assert.equal(await st(Nfs3Proc.LOOKUP, dirop(file, 'x')), Nfsstat3.NOTDIR);
      assert.equal(await st(Nfs3Proc.REMOVE, dirop(root, 'no-such')), Nfsstat3.NOENT);
      assert.equal(await st(Nfs3Proc.RMDIR, dirop(root, 'a')), Nfsstat3.NOTEMPTY);
      assert.equal(await st(Nfs3Proc.RMDIR, dirop(root, 'top.txt')), Nfsstat3.NOTDIR);
      assert.equal(await st(Nfs3Proc.REMOVE, dirop(root, 'a')), Nfsstat3.ISDIR);
      const guarded = dirop(root, 'top.txt').uint32(1);
      writeSattr3(guarded, {});
      assert.equal(await st(Nfs3Proc.CREATE, guarded), Nfsstat3.EXIST);
      const mk = dirop(root, 'a');
      writeSattr3(mk, {});
      assert.equal(await st(Nfs3Proc.MKDIR, mk), Nfsstat3.EXIST);
      assert.equal(await st(Nfs3Proc.LOOKUP, dirop(root, '../other')), Nfsstat3.ACCES);
      const up = (await c.nfs(Nfs3Proc.LOOKUP, dirop(root, '..'))).body;
      assert.equal(up.uint32(), Nfsstat3.OK);
      assert.ok(Buffer.from(up.opaque(64)).equals(root), '".." of the export root is the root');
      await assert.rejects(c.mnt(`/${ctr}/../${ctr}-ro`), { status: 13 });
    } finally { c.close(); }
    // libnfs as an unprivileged user: root's rw-rw---- file is refused, a world-readable one served.
    const asUser = (p: string) => url(p).replace('?', '?uid=4321&gid=4321&');
    await assert.rejects(run('nfs-cat', [asUser('/top.txt')]), (e: { stderr?: string }) => /NFS3ERR_ACCES|ACCESS denied/.test(String(e.stderr)));
    assert.equal((await run('nfs-cat', [asUser('/a/b/c/with space.txt').replace('uid=4321&gid=4321', 'uid=0&gid=0')])).stdout, 'spaces work\n');
  });

  it('finds the NFS and MOUNT ports through the portmapper when the URL names none', async () => {
    const out = await run('nfs-cat', [`nfs://${node.ip}/${ctr}/top.txt?version=3`]);
    assert.equal(out.stdout, 'top level\n');
    const ls = await run('nfs-ls', [`nfs://${node.ip}/${ctr}/a/b?version=3`]);
    assert.match(ls.stdout, /file-1\.bin/);
  });

  it('a read-only export serves reads and refuses nfs-cp into it', async () => {
    assert.equal((await run('nfs-cat', [roUrl('/kept.txt')])).stdout, 'read only\n');
    const f = path.join(work, 'ro-try.txt');
    fs.writeFileSync(f, 'nope');
    await assert.rejects(run('nfs-cp', [f, roUrl('/new.txt')]));
    await assert.rejects(node.client('test').objectHead(`${ctr}-ro`, 'new.txt'));
  });

  it('keeps a file handle valid across a rename', async () => {
    const c = await RpcTestClient.connect(node.ip, PORT);
    try {
      const fh = await lookupPath(c, 'a/file-0.bin');
      const dirA = await lookupPath(c, 'a');
      const dirZ = await lookupPath(c, 'z');
      const before = await readAll(c, fh);
      const r = (await c.nfs(Nfs3Proc.RENAME, new XdrWriter().opaque(dirA).string('file-0.bin').opaque(dirZ).string('moved.bin'))).body;
      assert.equal(r.uint32(), Nfsstat3.OK);
      skipWcc(r); skipWcc(r);
      const after = await readAll(c, fh);
      assert.equal(after.status, Nfsstat3.OK);
      assert.equal(after.fileid, before.fileid);
      assert.ok(after.data!.equals(before.data!));
      assert.ok((await lookupPath(c, 'z/moved.bin')).equals(fh));
      await assert.rejects(run('nfs-cat', [url('/a/file-0.bin')]));
      // Rename of a file with content: the renamed object is in the grid.
      const big = await lookupPath(c, 'a/b/file-1.bin');
      const r2 = (await c.nfs(Nfs3Proc.RENAME, new XdrWriter().opaque(await lookupPath(c, 'a/b')).string('file-1.bin').opaque(dirA).string('renamed-1.bin'))).body;
      assert.equal(r2.uint32(), Nfsstat3.OK);
      const d = await readAll(c, big);
      assert.equal(d.data!.length, 7919);
      await run('nfs-cp', [url('/a/renamed-1.bin'), path.join(work, 'renamed-1.bin')]);
      assert.equal(fs.statSync(path.join(work, 'renamed-1.bin')).size, 7919);
    } finally { c.close(); }
  });

  it('keeps file handles valid across a restart of the NFS server', async () => {
    let c = await RpcTestClient.connect(node.ip, PORT);
    const fh = await lookupPath(c, 'a/b/c/with space.txt');
    const dirFh = await lookupPath(c, 'a/b');
    const moved = await lookupPath(c, 'z/moved.bin');
    const before = await readAll(c, fh);
    const movedBefore = await readAll(c, moved);
    c.close();
    await node.stop();
    await node.restart();
    c = await RpcTestClient.connect(node.ip, PORT);
    try {
      // The old handles, never looked up again after the restart.
      const after = await readAll(c, fh);
      assert.equal(after.status, Nfsstat3.OK);
      assert.equal(after.fileid, before.fileid);
      assert.equal(after.data!.toString(), 'spaces work\n');
      const m = await readAll(c, moved);
      assert.equal(m.status, Nfsstat3.OK);
      assert.ok(m.data!.equals(movedBefore.data!));
      const l = (await c.nfs(Nfs3Proc.LOOKUP, new XdrWriter().opaque(dirFh).string('c'))).body;
      assert.equal(l.uint32(), Nfsstat3.OK);
      assert.ok(Buffer.from(l.opaque(64)).equals(await lookupPath(c, 'a/b/c')));
    } finally { c.close(); }
    assert.equal((await run('nfs-cat', [url('/a/b/c/with space.txt')])).stdout, 'spaces work\n');
  });
});

describe('e2e: NFS as its own process (`oio service run nfs`), killed and started again', function () {
  this.timeout(300_000);
  let node: TestNode;
  const ctr = `nfs-svc-${crypto.randomBytes(3).toString('hex')}`;
  const url = (p: string) => `nfs://${node.ip}/${ctr}${p}?version=3&nfsport=${PORT}&mountport=${PORT}`;

  before(async function () {
    const missing = haveTools();
    if (missing) {
      if (process.env.CI === 'true') throw new Error(`${missing} not installed (apt-get install libnfs-utils)`);
      console.log(`      skipped: ${missing} not installed (libnfs-utils)`);
      this.skip();
    }
    node = await startNode({ services: SERVICES.filter((s) => s !== 'nfs'), config: { 'nfs.account': 'test', 'nfs.port': PORT, 'ns.storage_policy': 'SINGLE', 'ns.score_expr': STEADY_SCORES } });
    await node.client('test').containerCreate(ctr);
  });
  afterEach(function () { dumpLogsOnFailure(this, node); });
  after(async () => { await node?.stop(); });

  it('an old handle reads the same file after the NFS process was SIGKILLed and started again', async () => {
    const first = await node.runService('nfs');
    const work = tmpDir('nfs-svc-');
    const src = path.join(work, 'f.bin');
    fs.writeFileSync(src, crypto.randomBytes(3 << 20));
    await run('nfs-cp', [src, url('/f.bin')]);
    let c = await RpcTestClient.connect(node.ip, PORT);
    let fh = await c.mnt(`/${ctr}`);
    const l = (await c.nfs(Nfs3Proc.LOOKUP, new XdrWriter().opaque(fh).string('f.bin'))).body;
    assert.equal(l.uint32(), Nfsstat3.OK);
    fh = Buffer.from(l.opaque(64));
    c.close();
    first.proc.kill('SIGKILL');
    await first.exited;
    await node.runService('nfs');
    c = await RpcTestClient.connect(node.ip, PORT);
    try {
      const g = (await c.nfs(Nfs3Proc.GETATTR, new XdrWriter().opaque(fh))).body;
      assert.equal(g.uint32(), Nfsstat3.OK);
      assert.equal(readFattr3(g).size, 3 << 20);
      const r = (await c.nfs(Nfs3Proc.READ, new XdrWriter().opaque(fh).uint64(1 << 20).uint32(4096))).body;
      assert.equal(r.uint32(), Nfsstat3.OK);
      readPostOpAttr(r);
      r.uint32(); r.bool();
      assert.ok(Buffer.from(r.opaque()).equals(fs.readFileSync(src).subarray(1 << 20, (1 << 20) + 4096)));
    } finally { c.close(); }
    const back = path.join(work, 'back.bin');
    await run('nfs-cp', [url('/f.bin'), back]);
    assert.equal(sha256(back), sha256(src));
  });
});
