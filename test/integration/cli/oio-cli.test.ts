/**
 * Integration: the `oio` binary (bin/oio) against a real node, as a user types it:
 * openio-style argument order, tables and --format json, exit codes and messages.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { dumpLogsOnFailure, startNode, TestNode } from '../../helpers/grid';
import { tmpDir } from '../../helpers/tmp';

const BIN = path.resolve(__dirname, '../../../../bin/oio');

interface Run { code: number; stdout: string; stderr: string }

function oio(node: TestNode, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, OIO_PROXY: node.proxy, OIO_ACCOUNT: 'cli' }, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

describe('oio CLI', function () {
  let node: TestNode;
  let dir: string;
  before(async () => {
    node = await startNode({ config: { 'ns.chunk_size': '256KiB' } });
    dir = tmpDir('oio-cli-');
  });
  afterEach(function () { dumpLogsOnFailure(this, node); });
  after(async () => { await node?.stop(); });

  it('shows the namespace like `openio cluster show`', async () => {
    const r = await oio(node, 'cluster', 'show');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\| namespace +\| OPENIO +\|/);
    assert.match(r.stdout, /\| storage_policy\.THREECOPIES +\| NONE:DUPONETHREE +\|/);
    assert.match(r.stdout, /\| data_security\.DUPONETHREE +\| plain\/distance=1,nb_copy=3 +\|/);
    assert.match(r.stdout, /\| chunksize +\| 262144 +\|/);
  });

  it('lists services with scores, and lock/unlock change a score', async () => {
    const list = JSON.parse((await oio(node, 'cluster', 'list', 'rawx', '--format', 'json')).stdout) as Array<{ Id: string; Score: number; Locked: boolean }>;
    assert.equal(list.length, 3);
    const id = list[0]!.Id;
    assert.equal((await oio(node, 'cluster', 'lock', 'rawx', id, '--score', '0')).code, 0);
    let after = JSON.parse((await oio(node, 'cluster', 'list', 'rawx', '--format', 'json')).stdout) as typeof list;
    assert.deepEqual(after.filter((s) => s.Id === id).map((s) => [s.Score, s.Locked]), [[0, true]]);
    assert.equal((await oio(node, 'cluster', 'unlock', 'rawx', id)).code, 0);
    after = JSON.parse((await oio(node, 'cluster', 'list', 'rawx', '--format', 'json')).stdout) as typeof list;
    assert.equal(after.find((s) => s.Id === id)!.Locked, false);
  });

  it('lists policies', async () => {
    const r = await oio(node, 'policy', 'list', '--format', 'json');
    const names = (JSON.parse(r.stdout) as Array<{ Name: string }>).map((p) => p.Name).sort();
    assert.deepEqual(names, ['EC123', 'EC144', 'EC42', 'EC63', 'SINGLE', 'THREECOPIES', 'TWOCOPIES']);
  });

  it('creates, shows, sets, lists and deletes containers', async () => {
    assert.equal((await oio(node, 'container', 'create', 'box', '--storage-policy', 'TWOCOPIES')).code, 0);
    const show = JSON.parse((await oio(node, 'container', 'show', 'box', '--format', 'json')).stdout) as Record<string, unknown>;
    assert.equal(show.storage_policy, 'TWOCOPIES');
    assert.equal((await oio(node, 'container', 'set', 'box', '--property', 'color=blue', '--max-versions', '3')).code, 0);
    const show2 = JSON.parse((await oio(node, 'container', 'show', 'box', '--format', 'json')).stdout) as Record<string, unknown>;
    assert.equal(show2['meta.color'], 'blue');
    assert.equal(show2.max_versions, 3);
    const list = await oio(node, 'container', 'list');
    assert.match(list.stdout, /\| box +\|/);
    assert.equal((await oio(node, 'container', 'create', 'tmp')).code, 0);
    assert.equal((await oio(node, 'container', 'delete', 'tmp')).code, 0);
    const gone = await oio(node, 'container', 'show', 'tmp');
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /CONTAINER_NOT_FOUND/);
  });

  it('uploads a file with --name and --policy, saves it back identical', async () => {
    const src = path.join(dir, 'big.bin');
    fs.writeFileSync(src, randomBytes(3 * 256 * 1024 + 99));
    assert.equal((await oio(node, 'container', 'create', 'files')).code, 0);
    const up = await oio(node, 'object', 'create', 'files', src, '--name', 'dir/big.bin', '--policy', 'SINGLE', '--format', 'json');
    assert.equal(up.code, 0, up.stderr);
    const dst = path.join(dir, 'back.bin');
    const save = await oio(node, 'object', 'save', 'files', 'dir/big.bin', '--file', dst);
    assert.equal(save.code, 0, save.stderr);
    assert.ok(fs.readFileSync(dst).equals(fs.readFileSync(src)));
    const show = JSON.parse((await oio(node, 'object', 'show', 'files', 'dir/big.bin', '--format', 'json')).stdout) as Record<string, unknown>;
    assert.equal(show.policy, 'SINGLE');
    assert.equal(show.size, 3 * 256 * 1024 + 99);
    const list = JSON.parse((await oio(node, 'object', 'list', 'files', '--delimiter', '/', '--format', 'json')).stdout) as Array<{ Name: string }>;
    assert.deepEqual(list.map((o) => o.Name), ['dir/']);
    assert.equal((await oio(node, 'object', 'delete', 'files', 'dir/big.bin')).code, 0);
    const missing = await oio(node, 'object', 'show', 'files', 'dir/big.bin');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /CONTENT_NOT_FOUND/);
  });

  it('names the usage on missing arguments and unknown commands', async () => {
    const r = await oio(node, 'object', 'create', 'files');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /usage: oio object create CONTAINER FILE/);
    const u = await oio(node, 'object', 'explode');
    assert.equal(u.code, 2);
    assert.match(u.stderr, /unknown command/);
  });
});
