/**
 * Integration: erasure-coded objects on a real node with 18 rawx volumes (so EC63 and EC144
 * fit on one host at distance 1) and a small chunk size: round trips of every built-in EC
 * policy around fragment / stripe / chunk boundaries, ranged reads, fragments deleted or
 * corrupted on disk, rawx processes killed, dynamic policies by size.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ObjectStorage } from '../../../appliance/client/object-storage';
import { BAD_FRAGMENT_CHANNEL, type BadFragment } from '../../../appliance/client/data';
import { defaultCell, nativeCodecError, parseEcMethod } from '../../../appliance/client/ec';
import { isChoosable } from '../../../appliance/client/lb/pool';
import { DEFAULT_DATA_SECURITY, DEFAULT_STORAGE_POLICIES } from '../../../appliance/common/config';
import type { ContentInfo } from '../../../appliance/common/model';
import { dumpLogsOnFailure, startNode, TestNode, ProcessHandle } from '../../helpers/grid';

const CHUNK = 1536 * 1024;
const RAWX_PORT = 6200;

async function readAll(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of s) parts.push(b as Buffer);
  return Buffer.concat(parts);
}

/** The chunk file of a fragment URL on a node whose volumes are data_dir/volumes/rawx-<i>. */
function chunkFile(node: TestNode, url: string): string {
  const u = new URL(url);
  const id = u.pathname.slice(1);
  return path.join(node.dataDir, 'volumes', `rawx-${Number(u.port) - RAWX_PORT}`, 'data', id.slice(0, 3), id);
}

/**
 * Waits for `rawx` rawx services to be registered, then locks every service's score at 100:
 * these tests are about EC, not placement, and other jobs loading the machine's disks would
 * otherwise push IO-based scores to 0 (POLICY_NOT_SATISFIABLE).
 */
async function lockScores(oio: ObjectStorage, rawx: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const all = await oio.clusterList();
    // Registered and up: a rawx just resumed from SIGSTOP (an earlier test) may still be marked
    // down, and placement leaves it out whatever its score (CI once found 8 of 9 under load).
    const ready = all.filter((x) => x.type === 'rawx' && isChoosable({ ...x, score: 1 }));
    if (ready.length >= rawx && all.some((x) => x.type === 'meta2')) {
      for (const x of all) await oio.clusterLock(x.type, x.id, 100);
      return;
    }
    if (Date.now() > deadline) throw new Error(`only ${ready.length} of ${rawx} rawx registered and up`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function fragmentsOf(c: ContentInfo, metachunk: number): ContentInfo['chunks'] {
  return c.chunks.filter((ch) => ch.pos.split('.')[0] === String(metachunk)).sort((a, b) => Number(a.pos.split('.')[1]) - Number(b.pos.split('.')[1]));
}

describe('ec: erasure-coded objects on one node', function () {
  let node: TestNode;
  let oio: ObjectStorage;
  const bad: BadFragment[] = [];
  before(async () => {
    node = await startNode({
      config: {
        'rawx.count': 18, 'ns.chunk_size': CHUNK, 'ns.auto_storage_policies': 'EC42,SINGLE:0,EC63:100KiB',
        // The portable codec, forced by the data security (what a machine without the addon writes).
        'ns.data_security': { ...DEFAULT_DATA_SECURITY, EC63JS: 'ec/k=6,m=3,algo=js_rs_vand,distance=1' },
        'ns.storage_policies': { ...DEFAULT_STORAGE_POLICIES, EC63JS: 'NONE:EC63JS' },
      },
    });
    oio = new ObjectStorage({ proxy: node.proxy, account: 'ec', onBadFragment: (b) => bad.push(b) });
    await lockScores(oio, 18);
  });
  afterEach(function () { dumpLogsOnFailure(this, node); });
  after(async () => { await node?.stop(); });

  it('lists the EC data securities, storage policies and the dynamic policies', async () => {
    const ns = await oio.clusterInfo();
    for (const p of ['EC42', 'EC63', 'EC123', 'EC144']) {
      assert.match(ns.dataSecurity[p] ?? '', /^ec\/k=\d+,m=\d+/);
      assert.equal(ns.storagePolicies[p], `NONE:${p}`);
    }
    assert.equal(ns.autoStoragePolicies, 'EC42,SINGLE:0,EC63:100KiB');
    const bin = path.resolve(__dirname, '../../../../bin/oio');
    const stdout = await new Promise<string>((resolve, reject) => execFile(process.execPath, [bin, 'cluster', 'show'], { env: { ...process.env, OIO_PROXY: node.proxy } },
      (err, so, se) => (err ? reject(new Error(`${err.message}: ${se}`)) : resolve(so))));
    assert.match(stdout, /\| data_security\.EC63 +\| ec\/k=6,m=3,distance=1 +\|/);
    assert.match(stdout, /\| storage_policy\.EC144 +\| NONE:EC144 +\|/);
    assert.match(stdout, /\| auto_storage_policies +\| EC42,SINGLE:0,EC63:100KiB +\|/);
  });

  for (const [policy, k, m] of [['EC42', 4, 2], ['EC63', 6, 3], ['EC123', 12, 3], ['EC144', 14, 4]] as const) {
    describe(policy, () => {
      const container = `c-${policy.toLowerCase()}`;
      before(async () => { await oio.containerCreate(container, { policy }); });
      const stripe = k * defaultCell(k);
      for (const size of [0, 1, stripe - 1, CHUNK, 3 * CHUNK + 1]) {
        it(`round-trips ${size} bytes with ${k}+${m} fragments per metachunk`, async () => {
          const data = randomBytes(size);
          const put = await oio.objectPut(container, `o-${size}`, data);
          assert.equal(put.policy, policy);
          const p = parseEcMethod(put.chunkMethod);
          assert.deepEqual([p.k, p.m], [k, m]);
          const metachunks = Math.max(1, Math.ceil(size / CHUNK));
          for (let mc = 0; mc < metachunks; mc++) {
            const frags = fragmentsOf(put, mc);
            assert.equal(frags.length, k + m, `metachunk ${mc} has k+m fragments`);
            assert.deepEqual(frags.map((f) => f.pos), Array.from({ length: k + m }, (_, i) => `${mc}.${i}`));
            assert.equal(new Set(frags.map((f) => new URL(f.url).port)).size, k + m, 'each fragment on its own volume');
          }
          const got = await readAll((await oio.objectGet(container, `o-${size}`)).stream);
          assert.equal(got.length, size);
          assert.ok(got.equals(data), 'bit-identical');
        });
      }
    });
  }

  describe('EC63 faults', () => {
    const container = 'c-faults';
    const size = 3 * CHUNK + 1;
    let data: Buffer;
    before(async () => {
      await oio.containerCreate(container, { policy: 'EC63' });
      data = randomBytes(size);
    });

    it('reads ranges across cell, stripe and metachunk boundaries', async () => {
      await oio.objectPut(container, 'ranges', data);
      const G = 6 * defaultCell(6);
      const cell = defaultCell(6);
      for (const [a, b] of [[0, 0], [cell - 3, cell + 3], [G - 10, G + 10], [CHUNK - 5, CHUNK + 5], [size - 1, size - 1], [1, size - 2], [2 * CHUNK + 7, 2 * CHUNK + 7 + 3 * cell]]) {
        const r = await oio.objectGet(container, 'ranges', { start: a, end: b });
        assert.ok((await readAll(r.stream)).equals(data.subarray(a!, b! + 1)), `range ${a}-${b}`);
      }
    });

    it('reads back bit-identical with m fragment files of every metachunk deleted, and reports them', async () => {
      const put = await oio.objectPut(container, 'del3', data);
      bad.length = 0;
      const lost: string[] = [];
      for (let mc = 0; mc < 4; mc++) {
        const frags = fragmentsOf(put, mc);
        // Two data fragments and one parity fragment.
        for (const i of [0, 4, 7]) { fs.rmSync(chunkFile(node, frags[i]!.url)); lost.push(frags[i]!.pos); }
      }
      assert.ok((await readAll((await oio.objectGet(container, 'del3')).stream)).equals(data));
      const reported = new Set(bad.map((b) => b.pos));
      for (const pos of lost.filter((p) => !p.endsWith('.7'))) assert.ok(reported.has(pos), `${pos} reported`);
      // A range inside one cell of a lost data fragment is rebuilt too.
      const r = await oio.objectGet(container, 'del3', { start: 10, end: 1000 });
      assert.ok((await readAll(r.stream)).equals(data.subarray(10, 1001)));
    });

    it('fails with an error naming the fragments when m+1 are missing', async () => {
      const put = await oio.objectPut(container, 'del4', data);
      const frags = fragmentsOf(put, 1);
      for (const i of [1, 2, 3, 8]) fs.rmSync(chunkFile(node, frags[i]!.url));
      const r = await oio.objectGet(container, 'del4');
      await assert.rejects(readAll(r.stream), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'UNAVAILABLE');
        for (const i of [1, 2, 3]) assert.match(e.message, new RegExp(`1\\.${i}\\b`));
        assert.match(e.message, /metachunk 1/);
        return true;
      });
      // The first metachunk is intact: a range inside it still reads.
      const r0 = await oio.objectGet(container, 'del4', { start: 0, end: CHUNK - 1 });
      assert.ok((await readAll(r0.stream)).equals(data.subarray(0, CHUNK)));
    });

    it('detects a fragment corrupted on disk and still reads the object correctly', async () => {
      const put = await oio.objectPut(container, 'corrupt', data);
      const frag = fragmentsOf(put, 2)[1]!;
      const file = chunkFile(node, frag.url);
      const fd = fs.openSync(file, 'r+');
      const b = Buffer.alloc(1);
      fs.readSync(fd, b, 0, 1, 100);
      b[0] = b[0]! ^ 0xff;
      fs.writeSync(fd, b, 0, 1, 100);
      fs.closeSync(fd);
      bad.length = 0;
      const published: BadFragment[] = [];
      const onPublish = (m: unknown): void => { published.push(m as BadFragment); };
      diagnostics.subscribe(BAD_FRAGMENT_CHANNEL, onPublish);
      try {
        assert.ok((await readAll((await oio.objectGet(container, 'corrupt')).stream)).equals(data));
      } finally {
        diagnostics.unsubscribe(BAD_FRAGMENT_CHANNEL, onPublish);
      }
      assert.ok(published.some((x) => x.pos === frag.pos && x.reason === 'CORRUPT'), 'published on the diagnostics channel');
      assert.ok(bad.some((x) => x.pos === frag.pos && x.reason === 'CORRUPT'), `corruption of ${frag.pos} reported: ${JSON.stringify(bad)}`);
      const cell = defaultCell(6);
      const r = await oio.objectGet(container, 'corrupt', { start: 2 * CHUNK + cell, end: 2 * CHUNK + cell + 50 });
      assert.ok((await readAll(r.stream)).equals(data.subarray(2 * CHUNK + cell, 2 * CHUNK + cell + 51)));
    });

    it('writes an EC object from a stream of unknown size', async () => {
      const blocks = Array.from({ length: 40 }, () => randomBytes(100_000));
      const put = await oio.objectPut(container, 'streamed', Readable.from(blocks));
      const all = Buffer.concat(blocks);
      assert.equal(put.size, all.length);
      assert.ok((await readAll((await oio.objectGet(container, 'streamed')).stream)).equals(all));
    });
  });

  it('writes and rebuilds with the portable codec when the data security names it', async () => {
    await oio.containerCreate('c-js', { policy: 'EC63JS' });
    const data = randomBytes(CHUNK + 777);
    const put = await oio.objectPut('c-js', 'o', data);
    assert.equal(parseEcMethod(put.chunkMethod).algo, 'js_rs_vand');
    for (const mc of [0, 1]) for (const i of [1, 3, 6]) fs.rmSync(chunkFile(node, fragmentsOf(put, mc)[i]!.url));
    assert.ok((await readAll((await oio.objectGet('c-js', 'o')).stream)).equals(data));
  });

  it('writes with the native codec by default and records it', async function () {
    if (nativeCodecError()) { if (process.env.CI === 'true') throw new Error(nativeCodecError()); this.skip(); }
    await oio.containerCreate('c-native', { policy: 'EC63' });
    const put = await oio.objectPut('c-native', 'algo', randomBytes(1000));
    assert.equal(parseEcMethod(put.chunkMethod).algo, 'ronomon_cauchy');
  });

  describe('dynamic policies', () => {
    it('picks the namespace rule by size, the default for a streamed upload', async () => {
      await oio.containerCreate('auto');
      assert.equal((await oio.objectPut('auto', 'small', randomBytes(10))).policy, 'SINGLE');
      assert.equal((await oio.objectPut('auto', 'big', randomBytes(200 * 1024))).policy, 'EC63');
      assert.equal((await oio.objectPut('auto', 'streamed', Readable.from([randomBytes(1000)]))).policy, 'EC42');
      assert.equal((await oio.objectPut('auto', 'explicit', randomBytes(10), { policy: 'TWOCOPIES' })).policy, 'TWOCOPIES');
    });

    it('lets a container override the rules, or pin one policy', async () => {
      await oio.containerCreate('auto-own', { properties: { 'sys.auto_storage_policies': 'TWOCOPIES,EC144:1KiB' } });
      assert.equal((await oio.objectPut('auto-own', 'small', randomBytes(10))).policy, 'TWOCOPIES');
      assert.equal((await oio.objectPut('auto-own', 'big', randomBytes(4096))).policy, 'EC144');
      await oio.containerCreate('auto-pinned', { policy: 'THREECOPIES' });
      assert.equal((await oio.objectPut('auto-pinned', 'big', randomBytes(200 * 1024))).policy, 'THREECOPIES');
      await oio.containerSet('auto-own', { properties: { 'sys.auto_storage_policies': 'SINGLE' } });
      assert.equal((await oio.objectPut('auto-own', 'big2', randomBytes(4096))).policy, 'SINGLE');
    });
  });
});

describe('ec: rawx processes killed', function () {
  let node: TestNode;
  let rawx: ProcessHandle[] = [];
  before(async () => {
    node = await startNode({ services: ['conscience', 'meta0', 'meta1', 'account', 'meta2', 'proxy'], config: { 'rawx.count': 9, 'ns.chunk_size': CHUNK } });
    for (let i = 0; i < 9; i++) rawx.push(await node.runService('rawx', i));
  });
  afterEach(function () { dumpLogsOnFailure(this, node); });
  after(async () => { await node?.stop(); });

  const kill = async (h: ProcessHandle): Promise<void> => { h.proc.kill('SIGKILL'); await h.exited; };

  it('rebuilds around a rawx that hangs (SIGSTOP) instead of waiting for it', async () => {
    const bad: BadFragment[] = [];
    const oio = new ObjectStorage({ proxy: node.proxy, account: 'slow', ecSlowFragmentMs: 1000, onBadFragment: (b) => bad.push(b) });
    await lockScores(oio, 9);
    await oio.containerCreate('s', { policy: 'EC63' });
    const data = randomBytes(CHUNK + 4321);
    const put = await oio.objectPut('s', 'o', data);
    const frag = fragmentsOf(put, 0)[2]!;
    const victim = rawx[Number(new URL(frag.url).port) - RAWX_PORT]!;
    victim.proc.kill('SIGSTOP');
    try {
      assert.ok((await readAll((await oio.objectGet('s', 'o')).stream)).equals(data));
      // Dropped as slow (relative to the other fragments), not after the socket timeout.
      assert.ok(bad.some((b) => b.pos === frag.pos && b.reason === 'TIMEOUT' && /after the other fragments answered/.test(b.message)), `slow ${frag.pos} reported: ${JSON.stringify(bad)}`);
    } finally {
      victim.proc.kill('SIGCONT');
    }
  });

  it('puts of a buffer go on when rawx hang (SIGSTOP): a missed EC quorum is sent again elsewhere', async function () {
    this.timeout(180_000);
    const oio = node.client();
    await lockScores(oio, 9);
    await oio.containerCreate('hang', { policy: 'EC42' });
    const stopped = [1, 4, 7];
    const stoppedPorts = new Set(stopped.map((i) => RAWX_PORT + i));
    for (const i of stopped) rawx[i]!.proc.kill('SIGSTOP');
    try {
      // 6 of the 9 rawx per put, quorum 5: a put placed on two stopped rawx misses it.
      const stored = new Map<string, Buffer>();
      for (let i = 0; i < 6; i++) {
        const data = randomBytes(CHUNK + 1000 * i);
        const put = await oio.objectPut('hang', `o${i}`, data);
        assert.ok(put.chunks.filter((c) => stoppedPorts.has(Number(new URL(c.url).port))).length === 0, `o${i} has no fragment on a hung rawx`);
        stored.set(`o${i}`, data);
      }
      for (const [name, data] of stored) assert.ok((await readAll((await oio.objectGet('hang', name)).stream)).equals(data), name);
    } finally {
      for (const i of stopped) rawx[i]!.proc.kill('SIGCONT');
    }
  });

  it('writes through rawx deaths down to the K+1 quorum, reads with m down, fails naming fragments with m+1', async () => {
    const oio = node.client();
    await lockScores(oio, 9);
    await oio.containerCreate('k', { policy: 'EC63' });
    const portOf = (i: number): number => RAWX_PORT + i;
    const data = randomBytes(2 * CHUNK + 12345);
    const put = await oio.objectPut('k', 'o', data);
    assert.equal(new Set(put.chunks.map((c) => Number(new URL(c.url).port))).size, 9);

    // A rawx dies in the middle of an upload: the others go on, 8 fragments per metachunk.
    const blocks = Array.from({ length: 16 }, () => randomBytes(200_000));
    const during = await oio.objectPut('k', 'during', Readable.from((async function* () {
      for (let i = 0; i < blocks.length; i++) { if (i === 6) await kill(rawx[0]!); yield blocks[i]!; }
    })()));
    assert.ok(during.chunks.filter((c) => c.pos.startsWith('0.')).length >= 7);
    assert.ok(!during.chunks.some((c) => c.pos.startsWith('1.') && Number(new URL(c.url).port) === portOf(0)), 'nothing recorded on the dead rawx after its death');
    assert.ok((await readAll((await oio.objectGet('k', 'during')).stream)).equals(Buffer.concat(blocks)));

    // Two rawx down: exactly the quorum (7 of 9) is stored, and it reads back.
    await kill(rawx[4]!);
    const seven = await oio.objectPut('k', 'seven', data);
    for (let mc = 0; mc < 3; mc++) assert.equal(fragmentsOf(seven, mc).length, 7);
    assert.ok((await readAll((await oio.objectGet('k', 'seven')).stream)).equals(data));

    // Three down (m): both objects still read bit-identical.
    await kill(rawx[8]!);
    assert.ok((await readAll((await oio.objectGet('k', 'o')).stream)).equals(data), 'read with 3 rawx down');
    assert.ok((await readAll((await oio.objectGet('k', 'seven')).stream)).equals(data), 'read of a 7-fragment object with a third rawx down');

    // Four down (m + 1): a clear error naming the fragments.
    await kill(rawx[2]!);
    await assert.rejects(readAll((await oio.objectGet('k', 'o')).stream), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'UNAVAILABLE');
      assert.match(e.message, /metachunk 0: 4 of 9 fragments unusable/);
      for (const i of [0, 2, 4, 8]) assert.ok(e.message.includes(`:${portOf(i)}/`), `names the fragment on rawx ${i}`);
      return true;
    });
    // 5 live rawx: below k+1 = 7, the write fails and leaves no object.
    await assert.rejects(oio.objectPut('k', 'fails', randomBytes(50_000)), (e: Error & { code?: string }) => e.code === 'UNAVAILABLE' && /quorum 7/.test(e.message));
    await assert.rejects(oio.objectHead('k', 'fails'), (e: Error & { code?: string }) => e.code === 'CONTENT_NOT_FOUND');
  });
});
