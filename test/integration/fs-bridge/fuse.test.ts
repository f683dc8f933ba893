/**
 * The FUSE bridge under real programs: `oio mount` (background) on a real node, then tar x of
 * 2,000 files + diff -r, cp -a, rsync -a twice (the second transfers nothing), git init +
 * commit + fsck, sqlite3 integrity_check, a 256 MiB file compared by sha256, symlinks and
 * errno, S3-side changes seen through the mount, `oio umount` and a clean unmount on SIGTERM
 * with the last writes committed.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ObjectStorage } from '../../../appliance/client/object-storage';
import { OIO_MAIN, dumpLogsOnFailure, startNode, type TestNode } from '../../helpers/grid';
import { tmpDir } from '../../helpers/tmp';
import { withRetry } from '../../../fs-bridge/core';
import { BRIDGE_NODE_CONFIG, hasTool, makeTree, sha256File } from './helpers';

const run = promisify(execFile);

async function sh(cmd: string, cwd?: string): Promise<string> {
  const { stdout } = await run('bash', ['-c', cmd], { cwd, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

async function isMounted(mnt: string): Promise<boolean> {
  const text = await fs.promises.readFile('/proc/self/mountinfo', 'utf8');
  return text.split('\n').some((l) => l.split(' ')[4] === mnt);
}

async function waitFor(what: string, fn: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('fs-bridge FUSE mount with real programs', function () {
  this.timeout(600_000);
  let node: TestNode;
  let s: ObjectStorage;
  let mnt: string;
  let work: string;
  let env: NodeJS.ProcessEnv;
  let logFile: string;

  const oio = (args: string[]) => run(process.execPath, [OIO_MAIN, ...args], { env });

  before(async function () {
    if (!hasTool('fusermount', this) || !fs.existsSync('/dev/fuse')) return;
    node = await startNode({ config: BRIDGE_NODE_CONFIG });
    s = withRetry(node.client('fuse'));
    await s.containerCreate('vol');
    mnt = tmpDir('mnt-');
    work = tmpDir('fuse-work-');
    logFile = path.join(work, 'mount.log');
    env = { ...process.env, OIO_PROXY: node.proxy, OIO_ACCOUNT: 'fuse' };
    // With the node's configuration, as the image mounts it: the node's chunks are read from
    // the rawx files (local reads).
    await oio(['mount', 'vol', mnt, '--state-dir', path.join(work, 'state'), '--log', logFile, '--config', node.configFile]);
    assert.ok(await isMounted(mnt));
  });
  afterEach(function () {
    dumpLogsOnFailure(this, node);
    if (this.currentTest?.state === 'failed' && logFile && fs.existsSync(logFile)) process.stderr.write(`--- mount log ---\n${fs.readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n')}\n`);
  });
  after(async () => {
    if (mnt && (await isMounted(mnt))) await oio(['umount', mnt]).catch(() => run('fusermount', ['-uz', mnt]));
    await node?.stop();
  });

  it('basic operations and errno', async () => {
    fs.mkdirSync(path.join(mnt, 'a/b'), { recursive: true });
    fs.writeFileSync(path.join(mnt, 'a/b/f.txt'), 'hello');
    fs.appendFileSync(path.join(mnt, 'a/b/f.txt'), ' world');
    assert.equal(fs.readFileSync(path.join(mnt, 'a/b/f.txt'), 'utf8'), 'hello world');
    fs.symlinkSync('b/f.txt', path.join(mnt, 'a/l'));
    assert.equal(fs.readlinkSync(path.join(mnt, 'a/l')), 'b/f.txt');
    assert.equal(fs.readFileSync(path.join(mnt, 'a/l'), 'utf8'), 'hello world');
    assert.throws(() => fs.rmdirSync(path.join(mnt, 'a')), /ENOTEMPTY/);
    assert.throws(() => fs.readFileSync(path.join(mnt, 'nope')), /ENOENT/);
    assert.throws(() => fs.mkdirSync(path.join(mnt, 'a')), /EEXIST/);
    assert.throws(() => fs.writeFileSync(path.join(mnt, 'x'.repeat(256)), ''), /ENAMETOOLONG/);
    fs.chmodSync(path.join(mnt, 'a/b/f.txt'), 0o600);
    assert.equal(fs.statSync(path.join(mnt, 'a/b/f.txt')).mode & 0o7777, 0o600);
    fs.renameSync(path.join(mnt, 'a/b/f.txt'), path.join(mnt, 'a/g.txt'));
    assert.equal(fs.readFileSync(path.join(mnt, 'a/g.txt'), 'utf8'), 'hello world');
    assert.deepEqual(fs.readdirSync(path.join(mnt, 'a')).sort(), ['b', 'g.txt', 'l']);
    // The objects are where the mapping says, with their attributes in properties.
    await waitFor('commit of a/g.txt', async () => (await s.objectHead('vol', 'a/g.txt').catch(() => undefined))?.properties['fs.mode'] === '600');
    // S3-side change seen through the mount within the cache lifetime.
    await s.objectPut('vol', 'a/from-s3.txt', Buffer.from('via the client'));
    await waitFor('object made outside', async () => fs.existsSync(path.join(mnt, 'a/from-s3.txt')));
    assert.equal(fs.readFileSync(path.join(mnt, 'a/from-s3.txt'), 'utf8'), 'via the client');
  });

  it('sets one time alone (touch -m, touch -a) as well as both, on files and folders', async function () {
    if (!hasTool('touch', this)) return;
    const f = path.join(mnt, 'times.txt');
    fs.writeFileSync(f, 'tick');
    fs.mkdirSync(path.join(mnt, 'times-dir'));
    await sh(`touch -d '2020-01-02 03:04:05Z' ${f}`);
    await sh(`touch -m -d '2021-06-07 08:09:10Z' ${f}`);
    await sh(`touch -a -d '2019-01-02 03:04:05Z' ${f}`);
    await sh(`touch -m -d '2018-01-01 00:00:00Z' ${mnt}/times-dir`);
    // Past the kernel's attribute cache (1 s): what the bridge keeps.
    await new Promise((r) => setTimeout(r, 1300));
    const st = fs.statSync(f);
    assert.equal(st.mtime.toISOString(), '2021-06-07T08:09:10.000Z');
    assert.equal(st.atime.toISOString(), '2019-01-02T03:04:05.000Z');
    assert.equal(fs.statSync(path.join(mnt, 'times-dir')).mtime.toISOString(), '2018-01-01T00:00:00.000Z');
    await waitFor('mtime stored with the object', async () => (await s.objectHead('vol', 'times.txt').catch(() => undefined))?.properties['fs.mtime'] === String(Date.parse('2021-06-07T08:09:10Z')));
  });

  it('tar x of 2,000 files, then diff -r', async function () {
    if (!hasTool('tar', this) || !hasTool('diff', this)) return;
    const src = path.join(work, 'tree');
    makeTree(src, 2000);
    await sh(`tar cf ${work}/tree.tar -C ${src} .`);
    fs.mkdirSync(path.join(mnt, 'untar'));
    await sh(`tar xf ${work}/tree.tar -C ${mnt}/untar`);
    await sh(`diff -r ${src} ${mnt}/untar`);
    assert.equal((await sh(`find ${mnt}/untar -type f | wc -l`)).trim(), '2000');
  });

  it('cp -a, then rsync -a twice (the second has nothing to do)', async function () {
    if (!hasTool('rsync', this)) return;
    const src = path.join(work, 'tree');
    await sh(`cp -a ${src} ${mnt}/cpa`);
    await sh(`diff -r ${src} ${mnt}/cpa`);
    const first = await sh(`rsync -a -i ${src}/ ${mnt}/rs/`);
    assert.ok(first.split('\n').filter((l) => l.startsWith('>f')).length === 2000, 'first rsync sends every file');
    await sh(`diff -r ${src} ${mnt}/rs`);
    const second = await sh(`rsync -a -i ${src}/ ${mnt}/rs/`);
    assert.equal(second.trim(), '', `second rsync did:\n${second.slice(0, 2000)}`);
  });

  it('git init + commit + fsck', async function () {
    if (!hasTool('git', this)) return;
    const repo = path.join(mnt, 'repo');
    fs.mkdirSync(repo);
    const g = 'git -c user.email=t@example.com -c user.name=t -c init.defaultBranch=main';
    await sh(`${g} init -q && cp -r ${work}/tree/d1 . && echo one > README && ${g} add -A && ${g} commit -q -m first && echo two >> README && ${g} commit -q -am second`, repo);
    await sh(`${g} fsck --strict --full`, repo);
    assert.match(await sh(`${g} log --oneline | wc -l`, repo), /^2\s*$/);
    assert.equal((await sh(`${g} status --porcelain`, repo)).trim(), '');
  });

  it('sqlite3 database with an integrity check', async function () {
    if (!hasTool('sqlite3', this)) return;
    const db = path.join(mnt, 'db.sqlite');
    const sql = ['CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);', 'BEGIN;',
      ...Array.from({ length: 3000 }, (_, i) => `INSERT INTO t (v) VALUES ('${'v'.repeat(i % 300)}${i}');`),
      'COMMIT;', 'CREATE INDEX iv ON t (v);', 'DELETE FROM t WHERE id % 3 = 0;', 'VACUUM;'].join('\n');
    fs.writeFileSync(path.join(work, 'load.sql'), sql);
    await sh(`sqlite3 ${db} < ${work}/load.sql`);
    assert.equal((await sh(`sqlite3 ${db} 'PRAGMA integrity_check;'`)).trim(), 'ok');
    assert.equal((await sh(`sqlite3 ${db} 'SELECT count(*) FROM t;'`)).trim(), '2000');
  });

  it('a 256 MiB file written and read back with the same sha256', async () => {
    const local = path.join(work, 'big.bin');
    const fd = fs.openSync(local, 'w');
    for (let i = 0; i < 64; i++) fs.writeSync(fd, randomBytes(4 * 1024 * 1024));
    fs.closeSync(fd);
    const want = await sha256File(local);
    await sh(`cp ${local} ${mnt}/big.bin && sync ${mnt}/big.bin`);
    assert.equal(await sha256File(path.join(mnt, 'big.bin')), want);
    await waitFor('commit of big.bin', async () => (await s.objectHead('vol', 'big.bin').catch(() => undefined))?.size === 256 * 1024 * 1024, 120_000);
    const got = await s.objectGet('vol', 'big.bin');
    const h = createHash('sha256');
    for await (const c of got.stream) h.update(c as Buffer);
    assert.equal(h.digest('hex'), want);
  });

  it('oio umount commits and unmounts; a foreground mount stops cleanly on SIGTERM', async () => {
    fs.writeFileSync(path.join(mnt, 'last.txt'), 'last words');
    await oio(['umount', mnt]);
    assert.equal(await isMounted(mnt), false);
    assert.equal((await s.objectHead('vol', 'last.txt')).size, 10);
    // Foreground mount, SIGTERM: the file written just before is committed, the mount is gone.
    const child = spawn(process.execPath, [OIO_MAIN, 'mount', 'vol', mnt, '--foreground', '--state-dir', path.join(work, 'state')], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    await waitFor('foreground mount', () => isMounted(mnt));
    // Inodes are kept across mounts.
    assert.equal(fs.readFileSync(path.join(mnt, 'a/g.txt'), 'utf8'), 'hello world');
    const fdw = fs.openSync(path.join(mnt, 'sigterm.txt'), 'w');
    fs.writeSync(fdw, 'written before SIGTERM');
    fs.closeSync(fdw);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, err);
    assert.equal(await isMounted(mnt), false);
    assert.equal((await s.objectHead('vol', 'sigterm.txt')).size, 22);
  });
});
