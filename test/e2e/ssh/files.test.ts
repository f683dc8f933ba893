/**
 * E2E: files through the SSH console with OpenSSH's own `sftp` (batch mode) and `scp`
 * (SFTP protocol, and the legacy protocol with -O) against a real node: the account's
 * containers at the top level, put/get round trips compared by sha256, the same bytes seen
 * through the client library, mkdir/rmdir (containers too), rm, rename, and the clients'
 * own "No such file" errors.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { OIO_MAIN, dumpLogsOnFailure, startNode, type TestNode } from '../../helpers/grid';
import { tmpDir } from '../../helpers/tmp';
import { BRIDGE_NODE_CONFIG } from '../../integration/fs-bridge/helpers';
import { hasTool, opensshOptions, run } from './openssh';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const fileSha = (p: string) => sha256(fs.readFileSync(p));

describe('e2e: sftp and scp through the SSH console', function () {
  this.timeout(180_000);
  let node: TestNode;
  let dir: string;
  let knownHosts: string;
  let identity: string;
  const ctr = `files-${Date.now().toString(36)}`;

  const sftp = (script: string, extra: string[] = []) =>
    run('sftp', ['-b', '-', ...opensshOptions(knownHosts, identity, '-P', extra), `admin@${node.ip}`], { input: script, timeoutMs: 120_000 });
  const scp = (args: string[]) => run('scp', [...opensshOptions(knownHosts, identity, '-P'), ...args], { timeoutMs: 120_000 });
  const remote = (p: string) => `admin@${node.ip}:${p}`;
  const local = (name: string) => path.join(dir, name);
  /** sha256 of an object read through the client library (account of the console) */
  const objectSha = async (container: string, name: string): Promise<string> => {
    const got = await node.client('default').objectGet(container, name);
    const h = createHash('sha256');
    for await (const c of got.stream) h.update(c as Buffer);
    return h.digest('hex');
  };
  const containerExists = async (name: string): Promise<boolean> =>
    node.client('default').containerShow(name).then(() => true, (e: { code?: string }) => { if (e.code === 'CONTAINER_NOT_FOUND') return false; throw e; });

  before(async function () {
    for (const tool of ['ssh-keygen', 'sftp', 'scp']) {
      if (!hasTool(tool)) {
        if (process.env.CI === 'true') throw new Error(`${tool} missing (Debian package openssh-client)`);
        this.skip();
      }
    }
    dir = tmpDir('oio-sftp-');
    knownHosts = path.join(dir, 'known_hosts');
    identity = path.join(dir, 'admin');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'admin@test', '-f', identity]);
    node = await startNode({ config: BRIDGE_NODE_CONFIG });
    const add = await run(process.execPath, [OIO_MAIN, 'admin', 'key', 'add', `${identity}.pub`, '--data', node.dataDir], { env: { OIO_PROXY: node.proxy } });
    assert.equal(add.code, 0, add.stderr);
    fs.writeFileSync(local('small.txt'), 'hello through sftp\n');
    fs.writeFileSync(local('big.bin'), randomBytes(5 * 1024 * 1024 + 123));
  });
  afterEach(function () { dumpLogsOnFailure(this, node); });
  after(async () => { await node?.stop(); });

  describe('sftp (batch mode)', () => {
    it('makes a container, puts files, lists the top level and the container, gets them back identical', async () => {
      const r = await sftp([
        `mkdir /${ctr}`,
        `put ${local('small.txt')} /${ctr}/small.txt`,
        `mkdir /${ctr}/a`,
        `mkdir /${ctr}/a/b`,
        `put ${local('big.bin')} /${ctr}/a/b/big.bin`,
        'ls -1 /',
        `ls -l /${ctr}`,
        `ls -1 /${ctr}/a/b`,
        `get /${ctr}/small.txt ${local('small.back')}`,
        `get /${ctr}/a/b/big.bin ${local('big.back')}`,
      ].join('\n') + '\n');
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, new RegExp(`^/?${ctr}$`, 'm'), 'the top level lists the container');
      assert.match(r.stdout, /^-rw-r--r-- .* 19 .* small\.txt$/m, 'ls -l shows the file with its size');
      assert.match(r.stdout, /^d.* a$/m, 'ls -l shows the folder');
      assert.match(r.stdout, /big\.bin$/m);
      assert.equal(fileSha(local('small.back')), fileSha(local('small.txt')));
      assert.equal(fileSha(local('big.back')), fileSha(local('big.bin')));
    });

    it('wrote objects the client library reads with the same bytes (a/b/big.bin is object "a/b/big.bin")', async () => {
      assert.equal(await objectSha(ctr, 'small.txt'), fileSha(local('small.txt')));
      assert.equal(await objectSha(ctr, 'a/b/big.bin'), fileSha(local('big.bin')));
    });

    it('shows objects written through the client library', async () => {
      const body = randomBytes(200_000);
      await node.client('default').objectPut(ctr, 'from-client/obj.bin', body);
      const r = await sftp(`get /${ctr}/from-client/obj.bin ${local('obj.back')}\n`);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(fileSha(local('obj.back')), sha256(body));
    });

    it('makes and removes folders, renames and removes files, and removes an empty container', async () => {
      const tmp = `${ctr}-tmp`;
      const r = await sftp([
        `mkdir /${tmp}`,
        `mkdir /${tmp}/d`,
        `put ${local('small.txt')} /${tmp}/d/one.txt`,
        `rename /${tmp}/d/one.txt /${tmp}/d/two.txt`,
        `ls -1 /${tmp}/d`,
      ].join('\n') + '\n');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^\/.*\/d\/two\.txt$/m);
      assert.doesNotMatch(r.stdout, /^\/.*\/d\/one\.txt$/m);
      assert.equal(await objectSha(tmp, 'd/two.txt'), fileSha(local('small.txt')));
      // A container that is not empty is not removed.
      const notEmpty = await sftp(`rmdir /${tmp}\n`);
      assert.notEqual(notEmpty.code, 0);
      assert.ok(await containerExists(tmp));
      const clean = await sftp([`rm /${tmp}/d/two.txt`, `rmdir /${tmp}/d`, `rmdir /${tmp}`].join('\n') + '\n');
      assert.equal(clean.code, 0, clean.stderr);
      assert.equal(await containerExists(tmp), false);
    });

    it('fails a get of a missing file with the client\'s "not found" message', async () => {
      const r = await sftp(`get /${ctr}/no-such-file ${local('nothing')}\n`);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /not found|No such file/);
      assert.equal(fs.existsSync(local('nothing')), false);
    });

    it('refuses files at the top level (only containers live there)', async () => {
      const r = await sftp(`put ${local('small.txt')} /top.txt\n`);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /Permission denied|Failure/);
    });
  });

  describe('scp (SFTP protocol, the default of OpenSSH 9)', () => {
    it('uploads and downloads identical bytes', async () => {
      const up = await scp([local('big.bin'), remote(`/${ctr}/scp-big.bin`)]);
      assert.equal(up.code, 0, up.stderr);
      const down = await scp([remote(`/${ctr}/scp-big.bin`), local('scp.back')]);
      assert.equal(down.code, 0, down.stderr);
      assert.equal(fileSha(local('scp.back')), fileSha(local('big.bin')));
      assert.equal(await objectSha(ctr, 'scp-big.bin'), fileSha(local('big.bin')));
    });

    it('copies a folder with -r (paths relative to the top level)', async () => {
      const src = local('tree');
      fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
      fs.writeFileSync(path.join(src, 'x.txt'), 'x');
      fs.writeFileSync(path.join(src, 'sub', 'y.bin'), randomBytes(70_000));
      const up = await scp(['-r', src, remote(`${ctr}/trees`)]);
      assert.equal(up.code, 0, up.stderr);
      assert.equal(await objectSha(ctr, 'trees/sub/y.bin'), fileSha(path.join(src, 'sub', 'y.bin')));
      const back = local('tree.back');
      const down = await scp(['-r', remote(`${ctr}/trees`), back]);
      assert.equal(down.code, 0, down.stderr);
      assert.equal(fileSha(path.join(back, 'sub', 'y.bin')), fileSha(path.join(src, 'sub', 'y.bin')));
      assert.equal(fs.readFileSync(path.join(back, 'x.txt'), 'utf8'), 'x');
    });

    it('fails on a missing file with "No such file"', async () => {
      const r = await scp([remote(`/${ctr}/missing.bin`), local('missing.back')]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /No such file/);
    });
  });

  describe('scp -O (legacy scp protocol on an exec channel)', () => {
    it('uploads and downloads identical bytes, keeping the mode with -p', async () => {
      fs.chmodSync(local('big.bin'), 0o640);
      const up2 = await scp(['-O', '-p', local('big.bin'), remote(`/${ctr}/legacy.bin`)]);
      assert.equal(up2.code, 0, up2.stderr);
      assert.equal(await objectSha(ctr, 'legacy.bin'), fileSha(local('big.bin')));
      // Into a folder (here a container's top): the file keeps its name.
      const into = await scp(['-O', local('small.txt'), remote(`/${ctr}`)]);
      assert.equal(into.code, 0, into.stderr);
      assert.equal(await objectSha(ctr, 'small.txt'), fileSha(local('small.txt')));
      const down = await scp(['-O', '-p', remote(`/${ctr}/legacy.bin`), local('legacy.back')]);
      assert.equal(down.code, 0, down.stderr);
      assert.equal(fileSha(local('legacy.back')), fileSha(local('big.bin')));
      assert.equal(fs.statSync(local('legacy.back')).mode & 0o777, 0o640);
    });

    it('copies folders with -r both ways', async () => {
      const src = local('tree');
      const up = await scp(['-O', '-r', src, remote(`/${ctr}/legacy-tree`)]);
      assert.equal(up.code, 0, up.stderr);
      assert.equal(await objectSha(ctr, 'legacy-tree/sub/y.bin'), fileSha(path.join(src, 'sub', 'y.bin')));
      const back = local('legacy-tree.back');
      const down = await scp(['-O', '-r', remote(`/${ctr}/legacy-tree`), back]);
      assert.equal(down.code, 0, down.stderr);
      assert.equal(fileSha(path.join(back, 'sub', 'y.bin')), fileSha(path.join(src, 'sub', 'y.bin')));
    });

    it('fails on a missing file with "No such file", and never runs a host command', async () => {
      const r = await scp(['-O', remote(`/${ctr}/missing.bin`), local('legacy-missing')]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /No such file/);
      const host = await scp(['-O', remote('/etc/passwd'), local('passwd')]);
      assert.notEqual(host.code, 0);
      assert.equal(fs.existsSync(local('passwd')), false);
    });
  });
});
