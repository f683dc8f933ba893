/**
 * Integration: the rdir of each rawx volume on a real node. Objects put through the client
 * library show up in the rdir of every volume that holds one of their chunks, exactly as the
 * rawx lists its chunk files; deleted objects leave it; a wiped index (admin clear, or its
 * base file removed while the node is down) is rebuilt from the volume by `oio rdir rebuild`;
 * bad input is refused with 400. Then the process split: `oio service run rawx` and
 * `oio service run rdir` as their own processes register and score, and a rawx keeps its
 * events while its rdir is down (killed) and delivers them when it is back.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { rawxList, rawxStat, RdirClient, type RdirEntry } from '../../../appliance/client/remote';
import { volumesOf } from '../../../appliance/client/rdir-volume';
import { callJson } from '../../../appliance/common';
import { dumpLogsOnFailure, startNode, TestNode, ProcessHandle } from '../../helpers/grid';

const BIN = path.resolve(__dirname, '../../../../bin/oio');
const CHUNK = 64 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Run { code: number; stdout: string; stderr: string }

function oio(node: TestNode, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, OIO_PROXY: node.proxy, OIO_ACCOUNT: 'test' }, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

/** Every chunk file of a rawx, as `container/content/chunk pos size` lines, sorted. */
async function rawxKeys(addr: string): Promise<string[]> {
  const out: string[] = [];
  let marker: string | undefined;
  for (;;) {
    const page = await rawxList(addr, { marker, limit: 1000 });
    out.push(...page.chunks.map((c) => `${c.meta.containerId}/${c.meta.contentId}/${c.id} ${c.meta.chunkPos} ${c.meta.chunkSize} ${c.meta.chunkHash}`));
    if (!page.truncated) return out.sort();
    marker = page.next_marker;
  }
}

const rdirKey = (e: RdirEntry) => `${e.container_id}/${e.content_id}/${e.chunk_id} ${e.pos} ${e.size} ${e.hash}`;

async function rdirKeys(addr: string): Promise<string[]> {
  return (await new RdirClient(addr).rdirFetchAll()).map(rdirKey).sort();
}

/** Waits until the rdir lists exactly the rawx's chunks (the feed is asynchronous). */
async function waitSame(rawx: string, rdir: string, timeoutMs = 10_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [a, b] = [await rawxKeys(rawx), await rdirKeys(rdir)];
    if (JSON.stringify(a) === JSON.stringify(b)) return a;
    if (Date.now() > deadline) { assert.deepEqual(b, a, `rdir ${rdir} lists exactly the chunks of rawx ${rawx}`); }
    await sleep(100);
  }
}

async function volumes(node: TestNode): Promise<Array<{ volume: string; rawx: string; rdir: string; rdirId: string }>> {
  const vols = volumesOf(await node.client().clusterList());
  return vols.map((v) => {
    assert.ok(v.rdir, `volume ${v.volume} has an rdir`);
    return { volume: v.volume, rawx: v.rawx.addr, rdir: v.rdir.addr, rdirId: v.rdir.id };
  });
}

describe('rdir: reverse index of each rawx volume', function () {
  this.timeout(120_000);
  let node: TestNode;
  before(async () => {
    node = await startNode({ config: { 'ns.chunk_size': CHUNK, 'rawx.count': 3 } });
  });
  afterEach(function () { dumpLogsOnFailure(this, node); });
  after(async () => { await node?.stop(); });

  it('registers one scored rdir per volume, beside the volume, on ports 6300+', async () => {
    const vols = await volumes(node);
    assert.equal(vols.length, 3);
    assert.deepEqual(vols.map((v) => Number(v.rdir.split(':')[1])).sort(), [6300, 6301, 6302]);
    const rdirs = (await node.client().clusterList()).filter((s) => s.type === 'rdir');
    assert.ok(rdirs.every((s) => s.score > 0), 'every rdir scores');
    for (const v of vols) assert.ok(fs.existsSync(path.join(node.dataDir, 'rdir', path.basename(v.volume), 'rdir.db')), `base of ${v.volume} beside it`);
    const r = await oio(node, 'rdir', 'list', '--format', 'json');
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as unknown[]).length, 3);
  });

  it('lists exactly the chunks each rawx holds after puts, and forgets deleted objects', async () => {
    const oio1 = node.client();
    await oio1.containerCreate('r3', { policy: 'THREECOPIES' });
    await oio1.containerCreate('r1', { policy: 'SINGLE' });
    const puts = [];
    for (let i = 0; i < 6; i++) puts.push(await oio1.objectPut('r3', `o${i}`, randomBytes(CHUNK * 2 + 100 * i)));
    for (let i = 0; i < 10; i++) puts.push(await oio1.objectPut('r1', `s${i}`, randomBytes(1000 + i)));
    const vols = await volumes(node);
    let total = 0;
    for (const v of vols) total += (await waitSame(v.rawx, v.rdir)).length;
    assert.equal(total, puts.reduce((n, p) => n + p.chunks.length, 0), 'every chunk of every object is indexed once');
    // Status counts agree with the listing.
    const st = await new RdirClient(vols[0]!.rdir).rdirStatus();
    assert.equal(st.chunks.total, (await rawxKeys(vols[0]!.rawx)).length);

    const victim = puts[0]!;
    await oio1.objectDelete('r3', 'o0');
    // meta2 deletes the chunks from its event queue, a moment after the object went.
    const deadline = Date.now() + 10_000;
    for (const v of vols) {
      while ((await rawxKeys(v.rawx)).some((k) => k.includes(`/${victim.id}/`))) {
        if (Date.now() > deadline) assert.fail(`chunks of ${victim.id} still on ${v.volume}`);
        await sleep(100);
      }
    }
    for (const v of vols) await waitSame(v.rawx, v.rdir);
    for (const v of vols) {
      const left = (await rdirKeys(v.rdir)).filter((k) => k.includes(`/${victim.id}/`));
      assert.deepEqual(left, [], `no entry of the deleted content on ${v.volume}`);
    }
  });

  it('`oio rdir fetch VOLUME` lists what a volume holds, per container too', async () => {
    const [v] = await volumes(node);
    const r = await oio(node, 'rdir', 'fetch', path.basename(v!.volume), '--format', 'json');
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as RdirEntry[];
    assert.deepEqual(rows.map(rdirKey).sort(), await rawxKeys(v!.rawx));
    const one = await oio(node, 'rdir', 'fetch', v!.rawx, '--container', 'r3', '--format', 'json');
    assert.equal(one.code, 0, one.stderr);
    const r3 = JSON.parse(one.stdout) as RdirEntry[];
    assert.ok(r3.length > 0 && r3.every((e) => e.content_path.startsWith('o')), 'only objects of r3');
    assert.equal((await oio(node, 'rdir', 'fetch', 'no-such-volume')).code, 1);
  });

  it('rebuilds a cleared index from the volume (`oio rdir rebuild`)', async () => {
    const [v] = await volumes(node);
    const want = await rawxKeys(v!.rawx);
    assert.ok(want.length > 0);
    await new RdirClient(v!.rdir).rdirAdminClear();
    assert.deepEqual(await rdirKeys(v!.rdir), []);
    const r = await oio(node, 'rdir', 'rebuild', v!.rawx, '--format', 'json');
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { Pushed: number }).Pushed, want.length);
    assert.deepEqual(await rdirKeys(v!.rdir), want);
  });

  it('a rebuild removes entries no chunk file backs', async () => {
    const [, v] = await volumes(node);
    const stale: RdirEntry = {
      container_id: 'A'.repeat(64), content_id: 'B'.repeat(32), chunk_id: 'C'.repeat(64), pos: '0', size: 1, hash: '',
      mtime: 1, content_path: 'ghost', content_version: 1, policy: 'SINGLE', chunk_method: 'plain/nb_copy=1',
    };
    await new RdirClient(v!.rdir).rdirPush([stale]);
    const r = await oio(node, 'rdir', 'rebuild', v!.rdir, '--format', 'json');
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { Removed: number }).Removed, 1);
    assert.deepEqual(await rdirKeys(v!.rdir), await rawxKeys(v!.rawx));
  });

  it('refuses bad input with 400 BAD_REQUEST', async () => {
    const [v, w] = await volumes(node);
    const rdir = v!.rdir;
    await assert.rejects(callJson(rdir, '/v1/rdir/push', { method: 'POST', body: { chunks: [{ container_id: 'nope' }] } }), { code: 'BAD_REQUEST', message: /chunks\[0\]\.container_id/ });
    await assert.rejects(callJson(rdir, '/v1/rdir/push', { method: 'POST', body: { entries: [] } }), { code: 'BAD_REQUEST', message: /chunks/ });
    await assert.rejects(callJson(rdir, '/v1/rdir/fetch', { query: { limit: 'x' } }), { code: 'BAD_REQUEST' });
    await assert.rejects(callJson(rdir, '/v1/rdir/fetch', { query: { marker: 'x/y' } }), { code: 'BAD_REQUEST', message: /marker/ });
    await assert.rejects(new RdirClient(rdir, { volume: w!.volume }).rdirStatus(), { code: 'BAD_REQUEST', message: /indexes volume/ });
    // the raw answer is a 400 with the JSON error
    const res = await fetch(`http://${rdir}/v1/rdir/delete`, { method: 'POST', body: '{not json' });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { code: string }).code, 'BAD_REQUEST');
  });

  it('rebuilds an index whose base file was removed while the node was down', async () => {
    const vols = await volumes(node);
    const v = vols[2]!;
    const want = await rawxKeys(v.rawx);
    await node.stop();
    const dir = path.join(node.dataDir, 'rdir', path.basename(v.volume));
    for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f));
    await node.restart();
    assert.deepEqual(await rdirKeys(v.rdir), [], 'a new, empty base');
    const r = await oio(node, 'rdir', 'rebuild', path.basename(v.volume));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await rdirKeys(v.rdir), want);
  });
});

describe('rdir and rawx as their own processes (`oio service run rdir|rawx|rawx,rdir`)', function () {
  this.timeout(120_000);
  let node: TestNode;
  const procs: Record<string, ProcessHandle> = {};
  before(async () => {
    // As on the image: the node's process runs the directory and volume 0 (the boot disk);
    // volumes 1 and 2 (data disks) run their rawx and rdir in their own processes.
    node = await startNode({ config: { 'ns.chunk_size': CHUNK, 'rawx.count': 3, 'node.volume_indexes': ['0'] } });
    procs.rdir1 = await node.runService('rdir', 1);
    procs.rawx1 = await node.runService('rawx', 1);
    // volume 2 named by its folder, its rawx and rdir in one process, as the image's
    // oio-volume@LABEL does (`oio service run rawx,rdir --volume /srv/oio/LABEL`)
    const vol2 = path.join(node.dataDir, 'volumes', 'rawx-2');
    procs.volume2 = await node.runService('rawx,rdir', { volume: vol2 });
  });
  afterEach(function () { dumpLogsOnFailure(this, node); });
  after(async () => { await node?.stop(); });

  it('registers every rawx and rdir with the conscience, each scored', async () => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const list = await node.client().clusterList();
      const scored = (t: string) => list.filter((s) => s.type === t && s.score > 0).length;
      if (scored('rawx') === 3 && scored('rdir') === 3) break;
      if (Date.now() > deadline) assert.fail(`not scored: ${JSON.stringify(list.map((s) => [s.type, s.id, s.score]))}`);
      await sleep(200);
    }
    const vols = await volumes(node);
    assert.deepEqual(vols.map((v) => v.rdirId).sort(), [0, 1, 2].map((i) => `${node.ip}:rdir-${i}`));
    assert.deepEqual(vols.map((v) => Number(v.rawx.split(':')[1])).sort(), [6200, 6201, 6202]);
    assert.deepEqual(vols.map((v) => Number(v.rdir.split(':')[1])).sort(), [6300, 6301, 6302]);
    for (const v of vols) assert.equal(path.basename(v.volume), `rawx-${v.rdirId.split('rdir-')[1]}`, 'rawx and rdir of the same volume paired');
  });

  it('a rawx keeps its rdir events while its rdir is down and delivers them when it is back', async () => {
    const oio1 = node.client();
    await oio1.containerCreate('split', { policy: 'THREECOPIES' });
    const vols = await volumes(node);
    const v1 = vols.find((v) => v.rdirId.endsWith(':rdir-1'))!;
    procs.rdir1!.proc.kill('SIGKILL');
    await procs.rdir1!.exited;
    const puts = [];
    for (let i = 0; i < 5; i++) puts.push(await oio1.objectPut('split', `o${i}`, randomBytes(CHUNK + i)));
    const onV1 = puts.flatMap((p) => p.chunks).filter((c) => c.url.includes(`//${v1.rawx}/`)).length;
    let stat = await rawxStat(v1.rawx);
    assert.ok(stat.rdirPending! >= 5, `events wait in the rawx queue (${JSON.stringify(stat)})`);
    // The rawx is killed too: its queue is on the volume and outlives the process.
    procs.rawx1!.proc.kill('SIGKILL');
    await procs.rawx1!.exited;
    procs.rawx1 = await node.runService('rawx', 1);
    procs.rdir1 = await node.runService('rdir', 1);
    const keys = await waitSame(v1.rawx, v1.rdir, 20_000);
    assert.equal(keys.length, onV1, 'every chunk the puts stored on this volume');
    assert.ok(onV1 >= 5, `chunks on the volume: ${onV1}`);
    stat = await rawxStat(v1.rawx);
    assert.equal(stat.rdirPending, 0);
    for (const v of vols) await waitSame(v.rawx, v.rdir);
  });

  it('`oio service run rawx --volume DIR` finds the volume by folder; an unknown folder is refused', async () => {
    const r = await new Promise<Run>((resolve) => {
      execFile(process.execPath, [BIN, 'service', 'run', 'rawx', '--config', node.configFile, '--volume', '/nonexistent/vol'], { env: process.env },
        (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /BAD_REQUEST: volume \/nonexistent\/vol is not one of this node's volumes/);
  });
});
