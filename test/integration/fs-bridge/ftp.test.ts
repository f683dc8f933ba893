/**
 * The FTP bridge as service type `ftp` in a real node, driven by lftp (a real client):
 * login with access key + secret, the account's containers at the root, mkdir of a container,
 * mirror -R of a tree then mirror back and diff -r, REST/APPE, errors as FTP replies, no
 * escape above the root, and explicit TLS with the certificate made on first start.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { dumpLogsOnFailure, startNode, type TestNode } from '../../helpers/grid';
import { tmpDir } from '../../helpers/tmp';
import { BRIDGE_NODE_CONFIG, hasTool, makeTree } from './helpers';

const run = promisify(execFile);

describe('fs-bridge FTP service with lftp', function () {
  this.timeout(300_000);
  let node: TestNode;
  let work: string;
  let url: string;

  const lftp = async (script: string, opts: { user?: string; cwd?: string } = {}): Promise<string> => {
    const pre = 'set ftp:ssl-allow no;';
    const { stdout } = await run('lftp', ['-u', opts.user ?? 'AKIDFTP,s3cr3t', '-e', `set net:max-retries 1; set net:timeout 20; ${pre} ${script}; quit`, url], { cwd: opts.cwd ?? work, maxBuffer: 32 * 1024 * 1024 });
    return stdout;
  };

  before(async function () {
    if (!hasTool('lftp', this) || !hasTool('openssl', this)) return;
    node = await startNode({
      config: {
        ...BRIDGE_NODE_CONFIG,
        'node.services': ['conscience', 'meta0', 'meta1', 'account', 'meta2', 'rawx', 'proxy', 'ftp'],
        'ftp.pasv_range': '30100-30140', 'ftp.tls': true,
        'ftp.users': { AKIDFTP: { password: 's3cr3t', account: 'ftpacct' } },
      },
    });
    url = `ftp://${node.ip}:2121`;
    work = tmpDir('ftp-work-');
    await node.client('ftpacct').containerCreate('existing');
  });
  afterEach(function () { dumpLogsOnFailure(this, node); });
  after(async () => { await node?.stop(); });

  it('lists the account containers at the root and refuses bad credentials', async () => {
    assert.match(await lftp('cls -1 /'), /existing/);
    await assert.rejects(lftp('cls /', { user: 'AKIDFTP,wrong' }));
    // `..` and absolute paths stop at the root.
    assert.match(await lftp('cd /existing; cd ../../..; pwd'), /ftp:\/\/[^/]+\/?\s*$/m);
  });

  it('logs in S3 users (oio user) with access key and secret key, into their own account', async () => {
    const created = await node.client('ftp-s3').userCreate({ accessKey: 'ftps3user', secretKey: 'ftps3secretkey', account: 'ftp-s3' });
    assert.equal(created.access_key, 'ftps3user');
    await node.client('ftp-s3').containerCreate('s3side');
    assert.match(await lftp('cls -1 /', { user: 'ftps3user,ftps3secretkey' }), /s3side/);
    assert.doesNotMatch(await lftp('cls -1 /', { user: 'ftps3user,ftps3secretkey' }), /existing/);
    await assert.rejects(lftp('cls /', { user: 'ftps3user,notthesecret' }));
  });

  it('mirror -R of a tree into a new container, then mirror back: same files', async () => {
    const src = path.join(work, 'src');
    makeTree(src, 300);
    await lftp('mkdir /share; mirror -R --parallel=4 src /share/tree');
    assert.ok((await node.client('ftpacct').objectList('share', { prefix: 'tree/', limit: 1000 })).objects.length >= 300);
    await lftp('mirror --parallel=4 /share/tree back');
    await run('diff', ['-r', src, path.join(work, 'back')]);
    // Modification times came along (MFMT): kept on the objects, and a second mirror -R has
    // nothing to send.
    const local = fs.statSync(path.join(src, 'd1', 'f1.dat'));
    const stored = (await node.client('ftpacct').objectHead('share', 'tree/d1/f1.dat')).properties['fs.mtime'];
    assert.equal(Math.floor(Number(stored) / 1000), Math.floor(local.mtimeMs / 1000));
    const again = await lftp('mirror -R -v --parallel=4 src /share/tree');
    assert.doesNotMatch(again, /Transferring file/, again);
  });

  it('APPE and REST work; errors become FTP replies', async () => {
    fs.writeFileSync(path.join(work, 'part1'), 'hello ');
    fs.writeFileSync(path.join(work, 'whole'), 'hello world');
    // put -c continues the upload where the remote file ends (REST + STOR, or APPE).
    await lftp('put part1 -o /share/greet.txt; put -c whole -o /share/greet.txt');
    await lftp('get /share/greet.txt -o got.txt');
    assert.equal(fs.readFileSync(path.join(work, 'got.txt'), 'utf8'), 'hello world');
    await assert.rejects(lftp('get /share/missing.txt -o nothing.txt'), /550/);
    await assert.rejects(lftp('rmdir /share'), /550/);
    await assert.rejects(lftp('put part1 -o /notafile.txt'), /550/);
  });

  // A ClientHello that reached the server before its 234 reply was written used to be parsed
  // as a command too (502 to curl's USER, about one login in 30): see patchAuthTls.
  it('explicit TLS (AUTH TLS, PROT P) with the certificate made on first start', async function () {
    if (!hasTool('curl', this)) return;
    assert.ok(fs.readdirSync(node.dataDir, { recursive: true }).some((f) => String(f).endsWith('cert.pem')));
    // curl: lftp handshakes on the data connection only after the 150 reply, which ftp-srv
    // sends only after that handshake (see the report); curl handshakes at once.
    const base = `ftp://AKIDFTP:s3cr3t@${node.ip}:2121`;
    const { stdout: list } = await run('curl', ['-sS', '-k', '--ssl-reqd', '--ftp-pasv', `${base}/share/`]);
    assert.match(list, /greet\.txt/);
    const { stdout: body } = await run('curl', ['-sS', '-k', '--ssl-reqd', `${base}/share/greet.txt`]);
    assert.equal(body, 'hello world');
    fs.writeFileSync(path.join(work, 'up.txt'), 'over TLS');
    await run('curl', ['-sS', '-k', '--ssl-reqd', '-T', path.join(work, 'up.txt'), `${base}/share/up.txt`]);
    assert.equal((await node.client('ftpacct').objectHead('share', 'up.txt')).size, 8);
    // Without AUTH TLS the server still answers (TLS is offered, not forced).
    await run('curl', ['-sS', `${base}/share/`]);
  });

  it('lftp over explicit TLS (PROT P): mirror -R of a tree with a large file, then mirror back', async function () {
    // lftp handshakes on a data connection only after the 150 reply, and never reads what the
    // server sends on an upload: both used to break every lftp transfer under TLS.
    const tree = path.join(work, 'tls-tree');
    fs.mkdirSync(path.join(tree, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(tree, 'sub', 'large.bin'), Buffer.alloc(3 * 1024 * 1024 + 17, 7).map((_, i) => (i * 31) & 0xff));
    fs.writeFileSync(path.join(tree, 'small.txt'), 'small over TLS');
    const { stdout } = await run('lftp', ['-u', 'AKIDFTP,s3cr3t', '-e', [
      'set net:max-retries 1', 'set net:timeout 20', 'set ftp:ssl-force yes', 'set ftp:ssl-protect-data yes', 'set ssl:verify-certificate no',
      'mirror -R tls-tree /share/tls-tree', 'mirror /share/tls-tree tls-back', 'cls -l /share/tls-tree/sub', 'quit',
    ].join('; '), url], { cwd: work, maxBuffer: 32 * 1024 * 1024 });
    assert.match(stdout, /large\.bin/);
    assert.equal((await node.client('ftpacct').objectHead('share', 'tls-tree/sub/large.bin')).size, 3 * 1024 * 1024 + 17);
    await run('diff', ['-r', tree, path.join(work, 'tls-back')]);
  });

  it('lftp in active mode (PORT) over explicit TLS: upload, list and download', async function () {
    const data = Buffer.alloc(2 * 1024 * 1024 + 5).map((_, i) => (i * 7) & 0xff);
    fs.writeFileSync(path.join(work, 'active.bin'), data);
    await node.client('ftpacct').containerCreate('share').catch(() => undefined);
    const { stdout } = await run('lftp', ['-u', 'AKIDFTP,s3cr3t', '-e', [
      'set net:max-retries 1', 'set net:timeout 20', 'set ftp:passive-mode off', 'set ftp:ssl-force yes', 'set ftp:ssl-protect-data yes', 'set ssl:verify-certificate no',
      'put active.bin -o /share/active.bin', 'cls -l /share/active.bin', 'get /share/active.bin -o active-back.bin', 'quit',
    ].join('; '), url], { cwd: work, maxBuffer: 32 * 1024 * 1024 });
    assert.match(stdout, /active\.bin/);
    assert.equal((await node.client('ftpacct').objectHead('share', 'active.bin')).size, data.length);
    assert.ok(fs.readFileSync(path.join(work, 'active-back.bin')).equals(data));
  });
});
