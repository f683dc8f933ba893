/**
 * Integration tests of one real rawx on 127.0.0.1 (port 0) in a temp folder: chunk
 * PUT/GET/HEAD/DELETE, ranges, hash checks (header and trailer), truncated uploads,
 * metadata across a restart, the crawl listing, and NO_SPACE on a small tmpfs.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { rawxDelete, rawxGet, rawxHead, rawxInfo, rawxList, rawxPut, rawxStat } from '../../../appliance/client/remote';
import { ChunkPutMeta, chunkMetaToHeaders, newChunkId, readAll, setLogLevel } from '../../../appliance/common';
import { RawxService } from '../../../appliance/services/rawx';

setLogLevel('error');

const META: ChunkPutMeta = {
  containerId: 'A'.repeat(64),
  contentPath: 'dir/obj é?.txt',
  contentVersion: 1_700_000_000_000_000,
  contentId: 'B'.repeat(32),
  chunkPos: '0',
  contentPolicy: 'THREECOPIES',
  contentChunkMethod: 'plain/nb_copy=3',
};

function md5(b: Buffer): string {
  return createHash('md5').update(b).digest('hex').toUpperCase();
}

async function countFiles(dir: string): Promise<number> {
  let n = 0;
  for (const e of await fsp.readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) n += await countFiles(path.join(dir, e.name));
    else n++;
  }
  return n;
}

/** Raw PUT with full control of headers and trailers. */
function rawPut(addr: string, id: string, body: Buffer, headers: Record<string, string | number>, trailers?: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const [host, port] = addr.split(':');
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port: Number(port), path: `/${id}`, method: 'PUT', headers }, (res) => {
      readAll(res).then((b) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b.toString() }), reject);
    });
    req.on('error', reject);
    if (trailers) req.addTrailers(trailers);
    req.end(body);
  });
}

function rawGet(addr: string, id: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const [host, port] = addr.split(':');
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port: Number(port), path: `/${id}`, method: 'GET', headers }, (res) => {
      readAll(res).then((b) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b }), reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('rawx service', function () {
  let dir: string;
  let rawx: RawxService;
  const url = (id: string): string => `http://${rawx.addr}/${id}`;

  beforeEach(async function () {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'rawx-test-'));
    rawx = new RawxService({ host: '127.0.0.1', port: 0, volume: dir, fsync: true });
    await rawx.start();
  });

  afterEach(async function () {
    await rawx.stop();
    await fsp.rm(dir, { recursive: true, force: true });
  });

  for (const size of [0, 1, 1024 * 1024]) {
    it(`puts, gets, heads and deletes a ${size}-byte chunk`, async function () {
      const data = randomBytes(size);
      const id = newChunkId();
      const put = await rawxPut(url(id), data, META);
      assert.equal(put.hash, md5(data));
      assert.equal(put.size, size);
      const g = await rawxGet(url(id));
      const body = await readAll(g.stream);
      assert.ok(body.equals(data));
      assert.equal(g.meta.contentPath, META.contentPath);
      assert.equal(g.meta.chunkHash, md5(data));
      const h = await rawxHead(url(id));
      assert.equal(h.chunkSize, size);
      assert.equal(h.containerId, META.containerId);
      assert.equal(h.contentVersion, META.contentVersion);
      assert.equal(h.chunkPos, '0');
      await rawxDelete(url(id));
      await assert.rejects(rawxGet(url(id)), { code: 'CHUNK_NOT_FOUND' });
      await assert.rejects(rawxDelete(url(id)), { code: 'CHUNK_NOT_FOUND' });
    });
  }

  it('streams a chunk given as a Readable with the hash as trailer', async function () {
    const data = randomBytes(3 * 1024 * 1024 + 7);
    const id = newChunkId();
    const put = await rawxPut(url(id), Readable.from([data.subarray(0, 100), data.subarray(100)]), META);
    assert.equal(put.hash, md5(data));
    const g = await rawxGet(url(id));
    assert.ok((await readAll(g.stream)).equals(data));
  });

  describe('ranges', function () {
    const data = randomBytes(1000);
    let id: string;
    beforeEach(async function () {
      id = newChunkId();
      await rawxPut(url(id), data, META);
    });
    const cases: [string, number, number][] = [
      ['bytes=0-0', 0, 0],
      ['bytes=100-199', 100, 199],
      ['bytes=-10', 990, 999],
      ['bytes=900-', 900, 999],
      ['bytes=990-5000', 990, 999],
    ];
    for (const [range, a, b] of cases) {
      it(`answers 206 with bytes ${a}-${b} for "${range}"`, async function () {
        const r = await rawGet(rawx.addr, id, { range });
        assert.equal(r.status, 206);
        assert.equal(r.headers['content-range'], `bytes ${a}-${b}/1000`);
        assert.ok(r.body.equals(data.subarray(a, b + 1)));
      });
    }
    for (const range of ['bytes=1000-', 'bytes=1000-1001', 'bytes=-0', 'bytes=5-2', 'bytes=0-1,5-6']) {
      it(`answers 416 BAD_REQUEST for "${range}"`, async function () {
        const r = await rawGet(rawx.addr, id, { range });
        assert.equal(r.status, 416);
        assert.equal(JSON.parse(r.body.toString()).code, 'BAD_REQUEST');
      });
    }
    it('answers 416 for any range of an empty chunk', async function () {
      const e = newChunkId();
      await rawxPut(url(e), Buffer.alloc(0), META);
      assert.equal((await rawGet(rawx.addr, e, { range: 'bytes=0-' })).status, 416);
      assert.equal((await rawGet(rawx.addr, e)).status, 200);
    });
    it('gives the range through the client stub', async function () {
      const g = await rawxGet(url(id), { start: 10, end: 19 });
      assert.equal(g.start, 10);
      assert.equal(g.end, 19);
      assert.equal(g.size, 1000);
      assert.ok((await readAll(g.stream)).equals(data.subarray(10, 20)));
    });
  });

  it('refuses a wrong hash in a header and stores nothing', async function () {
    const id = newChunkId();
    const before = await countFiles(dir);
    const data = randomBytes(50_000);
    const r = await rawPut(rawx.addr, id, data, { ...chunkMetaToHeaders(META), 'x-oio-chunk-meta-chunk-hash': md5(Buffer.from('x')), 'content-length': data.length });
    assert.equal(r.status, 422);
    assert.equal(JSON.parse(r.body).code, 'HASH_MISMATCH');
    assert.equal(await countFiles(dir), before);
    assert.equal((await rawGet(rawx.addr, id)).status, 404);
  });

  it('accepts the hash as HTTP trailer and refuses a wrong one', async function () {
    const data = randomBytes(200_000);
    const ok = newChunkId();
    const headers = { ...chunkMetaToHeaders(META), 'transfer-encoding': 'chunked', trailer: 'x-oio-chunk-meta-chunk-hash' };
    const r1 = await rawPut(rawx.addr, ok, data, headers, { 'x-oio-chunk-meta-chunk-hash': md5(data).toLowerCase() });
    assert.equal(r1.status, 201);
    assert.equal(r1.headers['x-oio-chunk-meta-chunk-hash'], md5(data));
    assert.equal(r1.headers['x-oio-chunk-meta-chunk-size'], String(data.length));
    const bad = newChunkId();
    const before = await countFiles(dir);
    const r2 = await rawPut(rawx.addr, bad, data, headers, { 'x-oio-chunk-meta-chunk-hash': md5(Buffer.alloc(1)) });
    assert.equal(r2.status, 422);
    assert.equal(await countFiles(dir), before);
    assert.equal((await rawGet(rawx.addr, bad)).status, 404);
  });

  it('refuses a chunk that exists (CHUNK_EXISTS) and keeps the first', async function () {
    const id = newChunkId();
    const a = randomBytes(10);
    await rawxPut(url(id), a, META);
    await assert.rejects(rawxPut(url(id), randomBytes(10), META), { code: 'CHUNK_EXISTS' });
    assert.ok((await readAll((await rawxGet(url(id))).stream)).equals(a));
  });

  it('shows a chunk being written to nobody (GET, HEAD, DELETE, listing), and refuses a second PUT of it before its body', async function () {
    const id = newChunkId();
    const data = randomBytes(2 * 1024 * 1024);
    const [host, port] = rawx.addr.split(':');
    const req = http.request({ host, port: Number(port), path: `/${id}`, method: 'PUT', headers: { ...chunkMetaToHeaders(META), 'content-length': data.length } });
    const answer = new Promise<number>((resolve, reject) => { req.on('response', (res) => { res.resume(); resolve(res.statusCode ?? 0); }); req.on('error', reject); });
    await new Promise<void>((resolve) => req.write(data.subarray(0, 1024 * 1024), () => resolve()));
    // The file exists once the first bytes arrived.
    for (let i = 0; i < 100 && !(await fsp.access(path.join(dir, 'data', id.slice(0, 3), id)).then(() => true, () => false)); i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal((await rawGet(rawx.addr, id)).status, 404);
    await assert.rejects(rawxHead(url(id)), { code: 'CHUNK_NOT_FOUND' });
    await assert.rejects(rawxDelete(url(id)), { code: 'CHUNK_NOT_FOUND' });
    assert.ok(!(await rawxList(rawx.addr, { limit: 10_000 })).chunks.some((c) => c.id === id));
    // Another PUT of the id: 409 with no byte of its body sent.
    const second = await new Promise<number>((resolve, reject) => {
      const r2 = http.request({ host, port: Number(port), path: `/${id}`, method: 'PUT', headers: { ...chunkMetaToHeaders(META), 'content-length': 4 * 1024 * 1024 } }, (res) => { res.resume(); resolve(res.statusCode ?? 0); r2.destroy(); });
      r2.on('error', reject);
      r2.flushHeaders();
    });
    assert.equal(second, 409);
    req.end(data.subarray(1024 * 1024));
    assert.equal(await answer, 201);
    assert.ok((await readAll((await rawxGet(url(id))).stream)).equals(data));
    assert.equal((await rawxHead(url(id))).chunkHash, md5(data));
    assert.ok((await rawxList(rawx.addr, { limit: 10_000 })).chunks.some((c) => c.id === id));
  });

  it('refuses invalid chunk ids and missing metadata', async function () {
    assert.equal((await rawGet(rawx.addr, '..%2F..%2Fetc%2Fpasswd')).status, 400);
    assert.equal((await rawGet(rawx.addr, 'abc')).status, 400);
    const r = await rawPut(rawx.addr, newChunkId(), Buffer.from('x'), { 'content-length': 1 });
    assert.equal(r.status, 400);
  });

  it('stores nothing when the client goes away mid-upload', async function () {
    const id = newChunkId();
    const before = await countFiles(dir);
    const [host, port] = rawx.addr.split(':');
    await new Promise<void>((resolve) => {
      const req = http.request({ host, port: Number(port), path: `/${id}`, method: 'PUT', headers: { ...chunkMetaToHeaders(META), 'content-length': 4 * 1024 * 1024 } });
      req.on('error', () => resolve());
      req.write(randomBytes(1024 * 1024), () => setTimeout(() => { req.destroy(); resolve(); }, 100));
    });
    // Let the server notice the disconnect and clean up.
    for (let i = 0; i < 50 && (await countFiles(dir)) !== before; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await countFiles(dir), before);
    assert.equal((await rawGet(rawx.addr, id)).status, 404);
    assert.equal((await rawxStat(rawx.addr)).putErrors, 1);
  });

  it('on a new volume, makes a prefix folder at the first PUT needing it (concurrent PUTs into one share it), and no other', async function () {
    await rawx.stop();
    const fresh = await fsp.mkdtemp(path.join(os.tmpdir(), 'rawx-fresh-'));
    try {
      rawx = new RawxService({ host: '127.0.0.1', port: 0, volume: fresh, fsync: true });
      await rawx.start();
      const prefixes = async () => (await fsp.readdir(path.join(fresh, 'data'))).filter((d) => /^[0-9A-F]{3}$/.test(d)).sort();
      assert.deepEqual(await prefixes(), [], 'no folder made at start');
      // 10 chunks in one new prefix folder at once, 10 in others
      const same = Array.from({ length: 10 }, () => 'ABC' + newChunkId().slice(3));
      const others = Array.from({ length: 10 }, () => newChunkId());
      await Promise.all([...same, ...others].map((id) => rawxPut(url(id), Buffer.from(id), META)));
      for (const id of [...same, ...others]) assert.equal((await readAll((await rawxGet(url(id))).stream)).toString(), id);
      assert.deepEqual(await prefixes(), [...new Set([...same, ...others].map((id) => id.slice(0, 3)))].sort());
      // a restart knows them: a PUT into one again works
      await rawx.stop();
      rawx = new RawxService({ host: '127.0.0.1', port: 0, volume: fresh, fsync: true });
      await rawx.start();
      const again = 'ABC' + newChunkId().slice(3);
      await rawxPut(url(again), Buffer.from(again), META);
      assert.equal((await readAll((await rawxGet(url(again))).stream)).toString(), again);
    } finally {
      await rawx.stop();
      await fsp.rm(fresh, { recursive: true, force: true });
      rawx = new RawxService({ host: '127.0.0.1', port: 0, volume: dir, fsync: true });
      await rawx.start();
    }
  });

  it('keeps metadata across a restart and removes leftover temp files', async function () {
    const id = newChunkId();
    const data = randomBytes(12345);
    await rawxPut(url(id), data, { ...META, fullPath: 'acct/cont/dir%2Fobj/1' });
    await rawx.stop();
    await fsp.writeFile(path.join(dir, 'tmp', `${id}.crashed`), 'partial');
    rawx = new RawxService({ host: '127.0.0.1', port: 0, volume: dir, fsync: true });
    await rawx.start();
    assert.deepEqual(await fsp.readdir(path.join(dir, 'tmp')), []);
    const h = await rawxHead(url(id));
    assert.equal(h.contentPath, META.contentPath);
    assert.equal(h.fullPath, 'acct/cont/dir%2Fobj/1');
    assert.equal(h.chunkHash, md5(data));
    assert.ok((await readAll((await rawxGet(url(id))).stream)).equals(data));
  });

  it('after a crash, removes the chunk files left unfinished (no footer), and after a clean stop sweeps nothing', async function () {
    const kept = newChunkId();
    const data = randomBytes(70_000);
    await rawxPut(url(kept), data, META);
    // A crash in the middle of a write: the file has part of the data and no footer.
    const unfinished = newChunkId();
    const fileOf = (id: string) => path.join(dir, 'data', id.slice(0, 3), id);
    const writeRaw = async (id: string, bytes: Buffer | string) => {
      await fsp.mkdir(path.dirname(fileOf(id)), { recursive: true });
      await fsp.writeFile(fileOf(id), bytes);
    };
    await writeRaw(unfinished, data.subarray(0, 5000));
    await writeRaw(newChunkId(), 'abc'); // shorter than a footer
    // Stopped cleanly: the volume is marked, the next start sweeps nothing.
    await rawx.stop();
    rawx = new RawxService({ host: '127.0.0.1', port: 0, volume: dir, fsync: true });
    await rawx.start();
    assert.equal(rawx.store.needsSweep, false);
    await assert.rejects(rawxHead(url(unfinished)), (e: { code?: string }) => e.code !== undefined);
    // Killed (no clean stop): the next start finds no mark and sweeps the files older than it.
    await fsp.rm(path.join(dir, 'closed-cleanly'), { force: true });
    const store = new RawxService({ host: '127.0.0.1', port: 0, volume: dir, fsync: true }).store;
    await new Promise((r) => setTimeout(r, 200));
    await store.init();
    assert.equal(store.needsSweep, true);
    const recent = newChunkId(); // written since this start: never swept
    await writeRaw(recent, 'partial');
    assert.equal(await store.sweepUnfinished(), 2);
    await assert.rejects(fsp.access(fileOf(unfinished)));
    await fsp.access(fileOf(recent));
    await store.close();
    assert.ok((await readAll((await rawxGet(url(kept))).stream)).equals(data));
    assert.equal((await rawxHead(url(kept))).chunkHash, md5(data));
  });

  it('after a crash, looks only at the files modified since the last checkpoint, which no write in progress is older than', async function () {
    const fileOf = (id: string) => path.join(dir, 'data', id.slice(0, 3), id);
    const writeRaw = async (id: string, bytes: string) => {
      await fsp.mkdir(path.dirname(fileOf(id)), { recursive: true });
      await fsp.writeFile(fileOf(id), bytes);
    };
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    // A write in progress holds the checkpoint back to its start.
    const slow = new Readable({ read() { /* fed below */ } });
    const t0 = Date.now();
    const put = rawxPut(url(newChunkId()), slow, META);
    slow.push(Buffer.alloc(1000, 1));
    await sleep(150);
    await rawx.store.writeCheckpoint();
    const held = Number(await fsp.readFile(path.join(dir, 'complete-before'), 'utf8'));
    assert.ok(held >= t0 && held < Date.now() - 100, `checkpoint ${held - t0} ms after the write started`);
    slow.push(null);
    await put;
    // Files from before a checkpoint are complete by its promise: a crash only asks about newer ones.
    const older = newChunkId();
    await writeRaw(older, 'fabricated, older than the checkpoint');
    await sleep(100);
    await rawx.store.writeCheckpoint();
    assert.ok(Number(await fsp.readFile(path.join(dir, 'complete-before'), 'utf8')) > held);
    await sleep(100);
    const newer = newChunkId();
    await writeRaw(newer, 'unfinished');
    await rawx.stop();
    await fsp.rm(path.join(dir, 'closed-cleanly'), { force: true });
    await sleep(100);
    const store = new RawxService({ host: '127.0.0.1', port: 0, volume: dir, fsync: true }).store;
    await store.init();
    assert.equal(await store.sweepUnfinished(), 1);
    await assert.rejects(fsp.access(fileOf(newer)));
    await fsp.access(fileOf(older));
    await store.close();
    rawx = new RawxService({ host: '127.0.0.1', port: 0, volume: dir, fsync: true });
    await rawx.start();
  });

  it('lists chunks in id order with metadata, page by page', async function () {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const id = newChunkId();
      ids.push(id);
      await rawxPut(url(id), randomBytes(i), { ...META, chunkPos: String(i) });
    }
    ids.sort();
    const seen: string[] = [];
    let marker: string | undefined;
    for (let page = 0; page < 10; page++) {
      const r = await rawxList(rawx.addr, { marker, limit: 3 });
      for (const c of r.chunks) {
        seen.push(c.id);
        assert.equal(c.meta.chunkId, c.id);
        assert.equal(c.meta.containerId, META.containerId);
      }
      if (!r.truncated) break;
      marker = r.next_marker;
    }
    assert.deepEqual(seen, ids);
  });

  it('serves /info and /stat', async function () {
    const info = await rawxInfo(rawx.addr);
    assert.equal(info.type, 'rawx');
    assert.equal(info.addr, rawx.addr);
    assert.equal(info.volume, path.resolve(dir));
    const id = newChunkId();
    await rawxPut(url(id), randomBytes(100), META);
    await readAll((await rawxGet(url(id))).stream);
    const st = await rawxStat(rawx.addr);
    assert.equal(st.puts, 1);
    assert.equal(st.gets, 1);
    assert.equal(st.bytesIn, 100);
    assert.equal(st.bytesOut, 100);
  });
});

describe('rawx on a full volume', function () {
  let mnt: string;
  let rawx: RawxService | undefined;
  let mounted = false;

  before(async function () {
    mnt = await fsp.mkdtemp(path.join(os.tmpdir(), 'rawx-full-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt], { stdio: 'pipe' });
      mounted = true;
    } catch (e) {
      const why = `cannot mount a 2 MiB tmpfs (${String((e as Error).message).split('\n')[0]})`;
      if (process.env.CI === 'true') throw new Error(why);
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    rawx = new RawxService({ host: '127.0.0.1', port: 0, volume: mnt, fsync: true });
    await rawx.start();
  });

  after(async function () {
    await rawx?.stop();
    if (mounted) execFileSync('umount', [mnt]);
    await fsp.rm(mnt, { recursive: true, force: true });
  });

  it('answers NO_SPACE (507), leaves no temp file and keeps serving', async function () {
    const r = rawx!;
    const small = newChunkId();
    await rawxPut(`http://${r.addr}/${small}`, randomBytes(1000), META);
    const big = newChunkId();
    await assert.rejects(rawxPut(`http://${r.addr}/${big}`, randomBytes(4 * 1024 * 1024), META), { code: 'NO_SPACE' });
    await assert.rejects(rawxPut(`http://${r.addr}/${newChunkId()}`, Readable.from([randomBytes(3 * 1024 * 1024)]), META), { code: 'NO_SPACE' });
    assert.deepEqual(await fsp.readdir(path.join(mnt, 'tmp')), []);
    assert.equal((await rawGet(r.addr, big)).status, 404);
    const g = await rawxGet(`http://${r.addr}/${small}`);
    assert.equal((await readAll(g.stream)).length, 1000);
    const again = newChunkId();
    await rawxPut(`http://${r.addr}/${again}`, randomBytes(1000), META);
  });
});
