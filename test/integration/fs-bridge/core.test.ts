/**
 * The bridge layer on a real node: files, directories (markers and implicit prefixes),
 * random writes and appends through the spool, ranged reads, rename by relink, symlinks,
 * attributes in properties, paged readdir, inodes kept across a restart, S3-side changes
 * seen within the cache lifetime, and the account root (containers as directories).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { ObjectStorage } from '../../../appliance/client/object-storage';
import { OioError } from '../../../appliance/common';
import { ROOT_INO, createBridgeFs, errnoOf, withRetry, ERRNO, type LocalBridgeFs, type BridgeFs, type Ino } from '../../../fs-bridge/core';
import { dumpLogsOnFailure, startNode, type TestNode } from '../../helpers/grid';
import { tmpDir } from '../../helpers/tmp';
import { BRIDGE_NODE_CONFIG } from './helpers';

async function errOf(p: Promise<unknown>): Promise<number> {
  try { await p; } catch (e) { return errnoOf(e); }
  throw new Error('expected an error');
}

async function listAll(fs: BridgeFs, ino: Ino, limit = 1000): Promise<string[]> {
  const names: string[] = [];
  let cookie = 0;
  for (;;) {
    const page = await fs.readdir(ino, cookie, limit);
    names.push(...page.entries.map((e) => e.name));
    if (page.eof || page.nextCookie === undefined) return names;
    cookie = page.nextCookie;
  }
}

describe('fs-bridge/core on a real node', function () {
  this.timeout(120_000);
  let node: TestNode;
  let s: ObjectStorage;
  let state: string;
  let bfs: LocalBridgeFs;
  const open = () => createBridgeFs({ storage: s, container: 'share', stateDir: state, spoolDir: tmpDir('spool-'), attrTtlMs: 300, idleFlushMs: 200 });

  before(async () => {
    node = await startNode({ config: BRIDGE_NODE_CONFIG });
    s = withRetry(node.client('bridge'));
    await s.containerCreate('share');
    state = tmpDir('bridge-state-');
    bfs = open();
  });
  afterEach(function () { dumpLogsOnFailure(this, node); });
  after(async () => { await bfs?.close().catch(() => undefined); await node?.stop(); });

  it('creates, writes (random, append), reads and commits a file as an object', async () => {
    const d = await bfs.mkdir(ROOT_INO, 'docs', 0o750);
    assert.equal(d.type, 'dir');
    assert.equal(d.mode, 0o750);
    const f = await bfs.create(d.ino, 'a.txt', 0o640);
    await bfs.open(f.ino);
    await bfs.write(f.ino, 0, Buffer.from('hello world'));
    await bfs.write(f.ino, 6, Buffer.from('WORLD'));
    await bfs.write(f.ino, 11, Buffer.from('!!'));
    assert.equal((await bfs.read(f.ino, 0, 100)).toString(), 'hello WORLD!!');
    assert.equal((await bfs.lookup(d.ino, 'a.txt')).size, 13);
    await bfs.release(f.ino);
    const head = await s.objectHead('share', 'docs/a.txt');
    assert.equal(head.size, 13);
    assert.equal(head.properties['fs.mode'], '640');
    const got = await s.objectGet('share', 'docs/a.txt');
    let text = '';
    for await (const c of got.stream) text += c;
    assert.equal(text, 'hello WORLD!!');
    // Reopen: a write in the middle keeps the rest (the committed bytes are spooled first).
    await bfs.open(f.ino);
    await bfs.write(f.ino, 0, Buffer.from('J'));
    await bfs.release(f.ino);
    assert.equal((await bfs.read(f.ino, 0, 100)).toString(), 'jello WORLD!!'.replace('j', 'J'));
    // Truncate through setattr.
    await bfs.setattr(f.ino, { size: 5 });
    await bfs.flush(f.ino);
    assert.equal((await s.objectHead('share', 'docs/a.txt')).size, 5);
    assert.equal((await bfs.getattr(f.ino)).size, 5);
  });

  it('reads a multi-megabyte file with ranged reads and read-ahead', async () => {
    const big = Buffer.alloc(5 * 1024 * 1024 + 123);
    for (let i = 0; i + 4 <= big.length; i += 4) big.writeUInt32LE(i, i);
    await s.objectPut('share', 'big.bin', big);
    const a = await bfs.lookup(ROOT_INO, 'big.bin');
    assert.equal(a.size, big.length);
    const parts: Buffer[] = [];
    for (let off = 0; off < big.length; off += 131072) parts.push(await bfs.read(a.ino, off, 131072));
    const all = Buffer.concat(parts);
    assert.equal(createHash('sha256').update(all).digest('hex'), createHash('sha256').update(big).digest('hex'));
    assert.deepEqual(await bfs.read(a.ino, 3_000_001, 10), big.subarray(3_000_001, 3_000_011));
    assert.equal((await bfs.read(a.ino, big.length + 5, 10)).length, 0);
    // Odd sizes, so reads straddle the buffers a window arrived in, several in flight at once
    // (as the kernel and NFS clients send them), and random jumps.
    const odd: Array<Promise<Buffer>> = [];
    for (let off = 0; off < big.length; off += 77_777) odd.push(bfs.read(a.ino, off, 77_777));
    assert.ok(Buffer.concat(await Promise.all(odd)).equals(big));
    let seed = 7;
    for (let i = 0; i < 40; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const off = seed % big.length;
      const len = 1 + (seed % 300_000);
      assert.ok((await bfs.read(a.ino, off, len)).equals(big.subarray(off, Math.min(big.length, off + len))), `read ${off}+${len}`);
    }
  });

  it('streams a stored file from an offset in one piece, and leaves a file with unsaved bytes to read()', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 5);
    await s.objectPut('share', 'whole.bin', data);
    const a = await bfs.lookup(ROOT_INO, 'whole.bin');
    const all = async (r: Readable | undefined) => { const parts: Buffer[] = []; for await (const c of r!) parts.push(c as Buffer); return Buffer.concat(parts); };
    assert.ok((await all(await bfs.readStream(a.ino, 0))).equals(data));
    assert.ok((await all(await bfs.readStream(a.ino, 1_000_001))).equals(data.subarray(1_000_001)));
    assert.equal((await all(await bfs.readStream(a.ino, data.length))).length, 0);
    await bfs.open(a.ino);
    await bfs.write(a.ino, 10, Buffer.from('unsaved'));
    assert.equal(await bfs.readStream(a.ino, 0), undefined);
    assert.deepEqual(await bfs.read(a.ino, 10, 7), Buffer.from('unsaved'));
    await bfs.release(a.ino);
    await assert.rejects(bfs.readStream(ROOT_INO, 0), { code: 'BAD_REQUEST' });
  });

  it('refuses rmdir of a non-empty directory, unlinks, rmdirs', async () => {
    const docs = await bfs.lookup(ROOT_INO, 'docs');
    assert.equal(await errOf(bfs.rmdir(ROOT_INO, 'docs')), ERRNO.ENOTEMPTY);
    assert.equal(await errOf(bfs.unlink(ROOT_INO, "docs")), ERRNO.EISDIR);
    assert.equal(await errOf(bfs.rmdir(docs.ino, 'a.txt')), ERRNO.ENOTDIR);
    await bfs.unlink(docs.ino, 'a.txt');
    assert.equal(await errOf(bfs.lookup(docs.ino, 'a.txt')), ERRNO.ENOENT);
    await bfs.rmdir(ROOT_INO, 'docs');
    assert.equal(await errOf(bfs.lookup(ROOT_INO, 'docs')), ERRNO.ENOENT);
    assert.equal(await errOf(bfs.create(ROOT_INO, '..', 0o644)), ERRNO.EINVAL);
    assert.equal(await errOf(bfs.create(ROOT_INO, 'a/b', 0o644)), ERRNO.EINVAL);
  });

  it('renames a file by relinking (inode kept) and a directory object by object', async () => {
    const d = await bfs.mkdir(ROOT_INO, 'src', 0o755);
    const sub = await bfs.mkdir(d.ino, 'sub', 0o755);
    const f = await bfs.create(sub.ino, 'f', 0o600);
    await bfs.write(f.ino, 0, Buffer.from('data'));
    await bfs.flush(f.ino);
    const before = await s.objectHead('share', 'src/sub/f');
    await bfs.rename(sub.ino, 'f', d.ino, 'g');
    const g = await bfs.lookup(d.ino, 'g');
    assert.equal(g.ino, f.ino, 'inode kept across a rename');
    const after = await s.objectHead('share', 'src/g');
    assert.deepEqual(after.chunks.map((c) => c.url), before.chunks.map((c) => c.url), 'same chunks: no data copy');
    await bfs.rename(ROOT_INO, 'src', ROOT_INO, 'dst');
    assert.equal((await bfs.lookup(ROOT_INO, 'dst')).ino, d.ino);
    assert.equal((await bfs.lookup(d.ino, 'sub')).ino, sub.ino);
    assert.equal((await bfs.read(g.ino, 0, 10)).toString(), 'data');
    assert.equal(await errOf(bfs.lookup(ROOT_INO, 'src')), ERRNO.ENOENT);
    const names = (await s.objectList('share', { prefix: 'dst/' })).objects.map((o) => o.name).sort();
    assert.deepEqual(names, ['dst/', 'dst/g', 'dst/sub/']);
  });

  it('keeps symlinks and attributes in properties', async () => {
    const l = await bfs.symlink(ROOT_INO, 'link', 'dst/g');
    assert.equal(l.type, 'symlink');
    assert.equal(await bfs.readlink(l.ino), 'dst/g');
    const g = await bfs.lookup((await bfs.lookup(ROOT_INO, 'dst')).ino, 'g');
    await bfs.setattr(g.ino, { mode: 0o711, uid: 1234, gid: 77, mtimeMs: 1_000_000_000_000 });
    const h = await s.objectHead('share', 'dst/g');
    assert.equal(h.properties['fs.uid'], '1234');
    const a = await bfs.getattr(g.ino);
    assert.deepEqual([a.mode, a.uid, a.gid, a.mtimeMs], [0o711, 1234, 77, 1_000_000_000_000]);
  });

  it('pages readdir with cookies over implicit directories and markers', async () => {
    const d = await bfs.mkdir(ROOT_INO, 'many', 0o755);
    await Promise.all(Array.from({ length: 120 }, (_, i) => s.objectPut('share', `many/f${String(i).padStart(3, '0')}`, Buffer.from(String(i)))));
    await s.objectPut('share', 'many/implicit/deep/x', Buffer.from('x'));
    const names = await listAll(bfs, d.ino, 25);
    assert.equal(names.length, 121);
    assert.equal(new Set(names).size, 121);
    assert.ok(names.includes('implicit'));
    const imp = await bfs.lookup(d.ino, 'implicit');
    assert.equal(imp.type, 'dir');
    const page = await bfs.readdir(d.ino, 0, 10, true);
    assert.ok(page.entries.every((e) => e.attr && e.attr.ino === e.ino));
  });

  it('sees S3-side changes within the cache lifetime', async () => {
    await s.objectPut('share', 'ext.txt', Buffer.from('v1'));
    const a = await bfs.lookup(ROOT_INO, 'ext.txt');
    assert.equal((await bfs.read(a.ino, 0, 10)).toString(), 'v1');
    await s.objectPut('share', 'ext.txt', Buffer.from('version2'));
    const deadline = Date.now() + 10_000;
    while ((await bfs.getattr(a.ino)).size !== 8) {
      assert.ok(Date.now() < deadline, 'change not seen');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal((await bfs.read(a.ino, 0, 10)).toString(), 'version2');
  });

  it('hides and refuses the names of S3 multipart uploads in progress (U+10FFFF prefix)', async () => {
    await s.objectPut('share', '\u{10FFFF}mpu/upload-1/00001', Buffer.from('part'));
    await s.objectPut('share', 'visible.txt', Buffer.from('v'));
    const names = await listAll(bfs, ROOT_INO);
    assert.ok(names.includes('visible.txt'));
    assert.ok(!names.some((n) => n.startsWith('\u{10FFFF}')), names.join(','));
    assert.equal(await errOf(bfs.lookup(ROOT_INO, '\u{10FFFF}mpu')), ERRNO.EINVAL);
    assert.equal(await errOf(bfs.create(ROOT_INO, '\u{10FFFF}x', 0o644)), ERRNO.EINVAL);
  });

  it('commits an unopened dirty file after idle time (NFS-style writes)', async () => {
    const f = await bfs.create(ROOT_INO, 'nfs.bin', 0o644);
    await bfs.write(f.ino, 0, Buffer.from('abc'));
    const deadline = Date.now() + 10_000;
    for (;;) {
      const h = await s.objectHead('share', 'nfs.bin').catch(() => undefined);
      if (h?.size === 3) break;
      assert.ok(Date.now() < deadline, 'not committed');
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  it('keeps inode numbers across a restart of the bridge', async () => {
    const dst = await bfs.lookup(ROOT_INO, 'dst');
    const g = await bfs.lookup(dst.ino, 'g');
    await bfs.close();
    bfs = open();
    assert.equal((await bfs.lookup(ROOT_INO, 'dst')).ino, dst.ino);
    assert.equal((await bfs.getattr(g.ino)).size, 4);
    const st = await bfs.statfs();
    assert.ok(st.totalBytes > 0 && st.freeBytes <= st.totalBytes);
  });

  it('writes directories in the background when asked (dirWriteDelayMs): shown at once, written by flush, rmdir, rename and close', async () => {
    await s.containerCreate('later');
    const mk = (delay: number) => createBridgeFs({ storage: s, container: 'later', stateDir: tmpDir('later-state-'), spoolDir: tmpDir('later-spool-'), attrTtlMs: 300, dirWriteDelayMs: delay });
    const absent = (name: string) => assert.rejects(s.objectHead('later', name), (e: OioError) => e.code === 'CONTENT_NOT_FOUND');
    // A long delay: nothing is written until something asks for it.
    const b = mk(600_000);
    try {
      const d = await b.mkdir(ROOT_INO, 'd', 0o700);
      await absent('d/');
      assert.equal((await b.getattr(d.ino)).mode, 0o700);
      assert.equal((await b.lookup(ROOT_INO, 'd')).ino, d.ino);
      assert.deepEqual(await listAll(b, ROOT_INO), ['d']);
      const plus = await b.readdir(ROOT_INO, 0, 10, true);
      assert.equal(plus.entries[0]?.attr?.mode, 0o700);
      assert.equal(await errOf(b.create(ROOT_INO, 'd', 0o644)), ERRNO.EEXIST);
      assert.equal(await errOf(b.mkdir(ROOT_INO, 'd', 0o755)), ERRNO.EEXIST);
      // Attribute changes pile up in memory, then one write carries them all.
      await b.setattr(d.ino, { uid: 1234, gid: 5678 });
      await b.setattr(d.ino, { mode: 0o751 });
      await b.setattr(d.ino, { mtimeMs: 1_600_000_000_000, atimeMs: 1_600_000_000_000 });
      const a = await b.getattr(d.ino);
      assert.deepEqual([a.mode, a.uid, a.gid, a.mtimeMs], [0o751, 1234, 5678, 1_600_000_000_000]);
      await absent('d/');
      await b.flush(d.ino);
      const m = await s.objectHead('later', 'd/');
      assert.deepEqual([m.properties['fs.mode'], m.properties['fs.uid'], m.properties['fs.gid'], m.properties['fs.mtime']], ['751', '1234', '5678', '1600000000000']);
      // A change to a written directory waits too.
      await b.setattr(d.ino, { mode: 0o705 });
      assert.equal((await s.objectHead('later', 'd/')).properties['fs.mode'], '751');
      assert.equal((await b.getattr(d.ino)).mode, 0o705);
      // rmdir writes first: the marker (and a pending sub-directory) make it non-empty.
      const sub = await b.mkdir(d.ino, 'sub', 0o755);
      assert.equal(await errOf(b.rmdir(ROOT_INO, 'd')), ERRNO.ENOTEMPTY);
      await s.objectHead('later', 'd/sub/');
      assert.equal((await s.objectHead('later', 'd/')).properties['fs.mode'], '705');
      await b.rmdir(d.ino, 'sub');
      await absent('d/sub/');
      assert.equal(sub.type, 'dir');
      // rename of a pending directory (with a file in it) moves its marker too.
      const e = await b.mkdir(ROOT_INO, 'e', 0o710);
      const f = await b.create(e.ino, 'f', 0o644);
      await b.write(f.ino, 0, Buffer.from('x'));
      await b.flush(f.ino);
      await b.rename(ROOT_INO, 'e', ROOT_INO, 'e2');
      assert.equal((await s.objectHead('later', 'e2/')).properties['fs.mode'], '710');
      assert.equal((await s.objectHead('later', 'e2/f')).size, 1);
      await absent('e/');
      // close writes the rest.
      await b.mkdir(ROOT_INO, 'g', 0o770);
    } finally { await b.close(); }
    assert.equal((await s.objectHead('later', 'g/')).properties['fs.mode'], '770');
    // A short delay: written in the background, seen by another bridge.
    const c = mk(20);
    try {
      await c.mkdir(ROOT_INO, 'h', 0o750);
      const other = createBridgeFs({ storage: s, container: 'later', stateDir: tmpDir('later-other-'), spoolDir: tmpDir('later-other-spool-'), attrTtlMs: 300 });
      try {
        for (let i = 0; i < 100 && !(await listAll(other, ROOT_INO)).includes('h'); i++) await new Promise((r) => setTimeout(r, 50));
        const h = await other.lookup(ROOT_INO, 'h');
        assert.equal(h.mode, 0o750);
      } finally { await other.close(); }
    } finally { await c.close(); }
  });

  it('shows a whole account: containers as top-level directories', async () => {
    const acc = createBridgeFs({ storage: s, stateDir: tmpDir('acc-state-'), spoolDir: tmpDir('acc-spool-'), attrTtlMs: 300 });
    try {
      const top = await listAll(acc, ROOT_INO);
      assert.ok(top.includes('share'));
      const c = await acc.mkdir(ROOT_INO, 'newctr', 0o755);
      await s.containerShow('newctr');
      const f = await acc.create(c.ino, 'x', 0o644);
      await acc.write(f.ino, 0, Buffer.from('1'));
      await acc.flush(f.ino);
      assert.equal(await errOf(acc.rmdir(ROOT_INO, 'newctr')), ERRNO.ENOTEMPTY);
      await acc.unlink(c.ino, 'x');
      await acc.rmdir(ROOT_INO, 'newctr');
      await assert.rejects(s.containerShow('newctr'), (e: OioError) => e.code === 'CONTAINER_NOT_FOUND');
      assert.equal(await errOf(acc.create(ROOT_INO, 'file', 0o644)), ERRNO.EACCES);
    } finally { await acc.close(); }
  });
});
