/**
 * Integration: a grid of real nodes on 127.x.0.1..4 (etcd members on the first three).
 * Replicated directory (meta1/meta2/account bases on three nodes, elected masters, quorum),
 * failover after kill -9 of a master with no acknowledged write lost, catch-up of a node
 * that was down, a deposed (paused) master that cannot write, and a fourth node that joins
 * without any chunk moving. The S3 gateways elect the one that runs the lifecycle worker and
 * share the SSE-S3 master key through etcd.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { CreateBucketCommand, GetObjectCommand, PutBucketLifecycleConfigurationCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Etcd3 } from 'etcd3';
import { callJson, cidOf } from '../../../appliance/common';
import { Meta2Client } from '../../../appliance/client/remote';
import { startGrid, TestGrid, TestNode } from '../../helpers/grid';

const CHUNK = 256 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hostOf = (url: string) => url.replace(/^https?:\/\//, '').replace(/[:/].*$/, '');

async function readAll(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of s) parts.push(b as Buffer);
  return Buffer.concat(parts);
}

const alive = (n: TestNode) => n.main.proc.exitCode === null && n.main.proc.signalCode === null;

describe('grid of nodes', function () {
  let grid: TestGrid;
  let etcd: Etcd3;

  before(async function () {
    this.timeout(120_000);
    // A lifecycle day of 1 s and a pass every 500 ms: the S3 lifecycle test sees them applied.
    grid = await startGrid({ nodes: 3, config: { 'ns.chunk_size': CHUNK, 's3.lifecycle_interval': '500ms', 's3.lifecycle_day': '1s' } });
    etcd = new Etcd3({ hosts: grid.etcd.map((e) => `http://${e}`) });
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') for (const n of grid.nodes) process.stderr.write(`\n--- ${n.ip} ---\n${n.logs()}\n`);
  });
  after(async function () { this.timeout(60_000); etcd?.close(); await grid?.stop(); });

  /** The master of a container's meta2 base, from its etcd election key. */
  async function meta2Master(account: string, container: string): Promise<string> {
    const key = `/oio/OPENIO/election/meta2/${cidOf(account, container)}`;
    for (let i = 0; i < 100; i++) {
      const v = await etcd.get(key).string();
      if (v) return v;
      // Masters are elected on access: a master whose lease lapsed (a busy machine) is
      // replaced at the next request, so ask for the container to get one.
      const live = grid.nodes.find(alive);
      if (live) await live.client(account).objectList(container, { limit: 1 }).catch(() => undefined);
      await sleep(100);
    }
    throw new Error(`no master for ${key}`);
  }

  async function replicaSeqs(account: string, container: string, addrs: string[]): Promise<number[]> {
    return Promise.all(addrs.map(async (a) => (await callJson<{ seq: number }>(a, '/v1/repl/status', { method: 'POST', body: { name: cidOf(account, container) } })).seq));
  }

  async function waitSeqsEqual(account: string, container: string, addrs: string[], timeoutMs = 20_000): Promise<number[]> {
    const deadline = Date.now() + timeoutMs;
    let seqs: number[] = [];
    while (Date.now() < deadline) {
      seqs = await replicaSeqs(account, container, addrs);
      if (seqs.every((s) => s === seqs[0]) && seqs[0]! > 0) return seqs;
      await sleep(200);
    }
    throw new Error(`replicas did not converge: ${seqs.join(', ')}`);
  }

  it('places THREECOPIES on three nodes and replicates the container base on three nodes', async () => {
    const oio = grid.nodes[0]!.client('acct');
    // Placement follows the scores: wait until every rawx of the three nodes takes writes.
    for (let i = 0; i < 100; i++) {
      const rawx = (await oio.clusterList('rawx')).filter((s) => s.score > 0);
      if (new Set(rawx.map((s) => hostOf(s.addr))).size === 3 && rawx.length === 9) break;
      await sleep(200);
    }
    await sleep(1000); // one more bulletin refresh for the proxy
    await oio.containerCreate('spread', { policy: 'THREECOPIES' });
    const put = await oio.objectPut('spread', 'o', randomBytes(10_000));
    assert.equal(new Set(put.chunks.map((c) => hostOf(c.url))).size, 3, `copies on ${put.chunks.map((c) => c.url).join(' ')}`);
    const meta2 = grid.nodes.map((n) => `${n.ip}:6120`);
    await waitSeqsEqual('acct', 'spread', meta2);
    // Every node's proxy serves the same container.
    for (const n of grid.nodes) assert.equal((await n.client('acct').objectHead('spread', 'o')).size, 10_000);
  });

  it('runs the S3 lifecycle on one elected gateway, which applies the rules set through any gateway', async function () {
    this.timeout(60_000);
    const s3 = new S3Client({ endpoint: `http://${grid.nodes[1]!.ip}:6007`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'demo', secretAccessKey: 'demosecretkey123' }, maxAttempts: 1 });
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'lifecycle' }));
      await s3.send(new PutObjectCommand({ Bucket: 'lifecycle', Key: 'tmp/a', Body: 'a' }));
      await s3.send(new PutObjectCommand({ Bucket: 'lifecycle', Key: 'keep/b', Body: 'b' }));
      await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: 'lifecycle', LifecycleConfiguration: { Rules: [{ ID: 'tmp', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 1 } }] } }));
    } finally { s3.destroy(); }
    const lib = grid.nodes[2]!.client('default');
    let names: string[] = [];
    for (let i = 0; i < 100; i++) {
      names = (await lib.objectList('lifecycle')).objects.map((o) => o.name);
      if (names.join() === 'keep/b') break;
      await sleep(250);
    }
    assert.deepEqual(names, ['keep/b']);
    // One gateway holds the election's key: the one that ran the pass.
    const leader = await etcd.get('/oio/OPENIO/election/s3/lifecycle').string();
    assert.ok(grid.nodes.some((n) => leader === `${n.ip}:6007`), `leader ${leader}`);
    const keys = await etcd.getAll().prefix('/oio/OPENIO/election/s3/').keys();
    assert.deepEqual(keys, ['/oio/OPENIO/election/s3/lifecycle']);
  });

  it('encrypts with the grid\'s SSE-S3 master key (one secret in etcd): written through one gateway, read through another', async function () {
    this.timeout(60_000);
    const client = (i: number) => new S3Client({ endpoint: `http://${grid.nodes[i]!.ip}:6007`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'demo', secretAccessKey: 'demosecretkey123' }, maxAttempts: 1 });
    const [a, c] = [client(0), client(2)];
    try {
      await a.send(new CreateBucketCommand({ Bucket: 'sealed' }));
      const data = randomBytes(100_000);
      assert.equal((await a.send(new PutObjectCommand({ Bucket: 'sealed', Key: 'k', Body: data, ServerSideEncryption: 'AES256' }))).ServerSideEncryption, 'AES256');
      const got = await c.send(new GetObjectCommand({ Bucket: 'sealed', Key: 'k' }));
      assert.equal(got.ServerSideEncryption, 'AES256');
      assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(data));
      const stored = await readAll((await grid.nodes[1]!.client('default').objectGet('sealed', 'k')).stream);
      assert.ok(!stored.equals(data));
      const secret = await etcd.get('/oio/OPENIO/secret/s3-sse-master').string();
      assert.equal(Buffer.from(secret ?? '', 'base64').length, 32);
    } finally { a.destroy(); c.destroy(); }
  });

  it('loses no acknowledged write when the meta2 master is killed (kill -9) during writes', async function () {
    this.timeout(120_000);
    const writer = grid.nodes[0]!.client('acct');
    await writer.containerCreate('failover', { policy: 'TWOCOPIES' });
    await writer.objectPut('failover', 'first', Buffer.from('x'));
    const master = await meta2Master('acct', 'failover');
    const victim = grid.nodes.find((n) => master.startsWith(`${n.ip}:`))!;
    // Write through a proxy on a node that survives.
    const via = grid.nodes.find((n) => n !== victim)!;
    const oio = via.client('acct');
    const acked = new Map<string, Buffer>();
    let killedAt = 0;
    let firstAckAfterKill = 0;
    let failures = 0;
    const deadline = Date.now() + 60_000;
    for (let i = 0; acked.size < 40 && Date.now() < deadline; i++) {
      if (i === 10) { killedAt = Date.now(); await victim.kill('SIGKILL'); }
      const data = randomBytes(100 + (i % 7) * 1000);
      try {
        await oio.objectPut('failover', `o${i}`, data);
        acked.set(`o${i}`, data);
        if (killedAt && !firstAckAfterKill) firstAckAfterKill = Date.now();
      } catch {
        failures++;
        await sleep(100);
      }
    }
    assert.ok(killedAt > 0 && firstAckAfterKill > 0, 'writes went on after the kill');
    process.stderr.write(`      failover: first write acknowledged ${firstAckAfterKill - killedAt} ms after kill -9 of the master (${failures} failed attempts)\n`);
    assert.equal(acked.size, 40);
    for (const [name, data] of acked) {
      const got = await readAll((await oio.objectGet('failover', name)).stream);
      assert.ok(got.equals(data), `${name} reads back`);
    }
    const newMaster = await meta2Master('acct', 'failover');
    assert.notEqual(newMaster, master);

    // The killed node comes back and catches up on the next write.
    await victim.restart();
    await oio.objectPut('failover', 'after-restart', Buffer.from('y'));
    const seqs = await waitSeqsEqual('acct', 'failover', grid.nodes.map((n) => `${n.ip}:6120`));
    assert.ok(seqs[0]! > 40);
  });

  it('deposes a paused master: it cannot write when it resumes, and its base is repaired', async function () {
    this.timeout(120_000);
    const oio0 = grid.nodes[0]!.client('acct');
    await oio0.containerCreate('pause', { policy: 'SINGLE' });
    await oio0.objectPut('pause', 'before', Buffer.from('b'));
    const master = await meta2Master('acct', 'pause');
    const paused = grid.nodes.find((n) => master.startsWith(`${n.ip}:`))!;
    const other = grid.nodes.find((n) => n !== paused && alive(n))!;
    // The node's oio process is paused; its etcd member keeps running (a paused etcd member
    // leaves the other nodes' etcd clients hanging on it: not handled yet, see the issue note).
    paused.main.proc.kill('SIGSTOP');
    try {
      // The majority elects another master once the paused one's lease expires.
      const pausedAt = Date.now();
      const deadline = pausedAt + 90_000;
      let ok = false;
      const errors: string[] = [];
      while (!ok && Date.now() < deadline) {
        try {
          await other.client('acct').objectPut('pause', 'during', Buffer.from('d'));
          ok = true;
        } catch (e) {
          errors.push(`${Date.now() - pausedAt} ms: ${(e as Error).message}`);
          await sleep(200);
        }
      }
      process.stderr.write(`      paused master: first write accepted ${Date.now() - pausedAt} ms after SIGSTOP (${errors.length} failed attempts${errors.length ? `, last: ${errors[errors.length - 1]}` : ''})\n`);
      assert.ok(ok, `the majority accepted a write while the old master was paused; errors:\n${errors.slice(-10).join('\n')}`);
    } finally {
      paused.main.proc.kill('SIGCONT');
    }
    // Right after it resumes, the old master still believes it masters the base: its own
    // write cannot reach a quorum (the others know a newer epoch) and is refused.
    const cid = cidOf('acct', 'pause');
    const peers = grid.nodes.slice(0, 3).map((n) => `${n.ip}:6120`).join(',');
    const direct = new Meta2Client(`${paused.ip}:6120`, undefined, { 'x-oio-peers': peers });
    const stale = { id: 'AA', name: 'stale-write', version: 0, size: 0, hash: '', mime: 'x', policy: 'SINGLE', chunkMethod: 'plain/nb_copy=1', ctime: 0, mtime: 0, deleted: false, properties: {}, chunks: [] };
    await direct.contentCreate(cid, stale).then(
      () => assert.fail('the deposed master acknowledged a write'),
      (e: { code?: string }) => assert.ok(['NOT_MASTER', 'UNAVAILABLE'].includes(e.code ?? ''), `refused with ${e.code}`),
    ).catch(async (e: unknown) => {
      // It may also have noticed its lost lease first and redirected to the new master,
      // which then took the write: then the write is on the majority, not a split brain.
      if ((e as Error).message === 'the deposed master acknowledged a write') {
        const list = await other.client('acct').objectList('pause');
        assert.ok(list.objects.some((o) => o.name === 'stale-write'), 'an acknowledged write is on the new master');
      } else throw e;
    });
    await other.client('acct').objectPut('pause', 'after', Buffer.from('a'));
    await waitSeqsEqual('acct', 'pause', grid.nodes.slice(0, 3).map((n) => `${n.ip}:6120`));
    const names = (await paused.client('acct').objectList('pause')).objects.map((o) => o.name);
    assert.ok(names.includes('before') && names.includes('during') && names.includes('after'), names.join(','));
  });

  it('takes a fourth node without moving any chunk, and sends it new chunks', async function () {
    this.timeout(120_000);
    const countChunks = async (n: TestNode): Promise<number> => {
      let total = 0;
      for (let i = 0; i < 3; i++) {
        let marker: string | undefined;
        for (;;) {
          const page = await callJson<{ chunks: unknown[]; truncated: boolean; next_marker?: string }>(`${n.ip}:${6200 + i}`, '/v1/chunks', { query: { marker, limit: 1000 } });
          total += page.chunks.length;
          if (!page.truncated) break;
          marker = page.next_marker;
        }
      }
      return total;
    };
    const first = grid.nodes.slice(0, 3);
    await sleep(500); // let deletes queued by earlier tests drain
    const before = await Promise.all(first.map(countChunks));
    const fourth = await grid.addNode();
    await sleep(2000);
    const after = await Promise.all(first.map(countChunks));
    assert.deepEqual(after, before, 'no chunk moved when the node joined');
    // Its empty disks ramp up to the top scores, then take new chunks.
    const oio = fourth.client('acct');
    const deadline = Date.now() + 60_000;
    let onFourth = 0;
    await oio.containerCreate('join', { policy: 'SINGLE' });
    for (let i = 0; onFourth === 0 && Date.now() < deadline; i++) {
      const put = await oio.objectPut('join', `o${i}`, randomBytes(1000));
      if (put.chunks.some((c) => hostOf(c.url) === fourth.ip)) onFourth++;
      if (i % 20 === 19) await sleep(500);
    }
    assert.ok(onFourth > 0, 'the new node received new chunks');
  });
});
