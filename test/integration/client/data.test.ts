/**
 * Integration tests of the client data path against real rawx services on 127.0.0.1:
 * replicated writes with a quorum (replicas down before and during the upload), the
 * metachunk splitter's boundaries, ranged reads with replica failover, and local reads of
 * the chunks of this host's rawx from their files.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { LocalChunkStream, MetachunkReplicas, openChunk, readRange, splitChunks, writeReplicas } from '../../../appliance/client/data';
import { rawxDelete, rawxGet, rawxHead, rawxStat } from '../../../appliance/client/remote';
import { chunkFilePath, ChunkPutMeta, newChunkId, readAll, setLogLevel } from '../../../appliance/common';
import type { ChunkInfo } from '../../../appliance/common/model';
import { RawxService } from '../../../appliance/services/rawx';

setLogLevel('error');

const META: ChunkPutMeta = {
  containerId: 'C'.repeat(64),
  contentPath: 'obj',
  contentVersion: 1,
  contentId: 'D'.repeat(32),
  chunkPos: '0',
  contentPolicy: 'THREECOPIES',
  contentChunkMethod: 'plain/nb_copy=3',
};

function md5(b: Buffer): string {
  return createHash('md5').update(b).digest('hex').toUpperCase();
}

/** A source emitting `data` in pieces of `piece` bytes, awaiting `pauseAt(offset)` hooks. */
function slowSource(data: Buffer, piece: number, hook?: (offset: number) => Promise<void> | void): Readable {
  let off = 0;
  return new Readable({
    highWaterMark: piece,
    read() {
      if (off >= data.length) { this.push(null); return; }
      const b = data.subarray(off, off + piece);
      const at = off;
      off += b.length;
      Promise.resolve(hook?.(at)).then(() => this.push(b), (e: Error) => this.destroy(e));
    },
  });
}

async function chunkFiles(volume: string): Promise<string[]> {
  const out: string[] = [];
  const data = path.join(volume, 'data');
  for (const d of await fsp.readdir(data)) out.push(...(await fsp.readdir(path.join(data, d))));
  return out;
}

describe('client data path', function () {
  this.timeout(30_000);
  let dirs: string[];
  let rawx: RawxService[];

  beforeEach(async function () {
    dirs = [];
    rawx = [];
    for (let i = 0; i < 3; i++) {
      const d = await fsp.mkdtemp(path.join(os.tmpdir(), `data-rawx${i}-`));
      dirs.push(d);
      const r = new RawxService({ host: '127.0.0.1', port: 0, volume: d, fsync: true });
      await r.start();
      rawx.push(r);
    }
  });

  afterEach(async function () {
    await Promise.all(rawx.map((r) => r.stop()));
    await Promise.all(dirs.map((d) => fsp.rm(d, { recursive: true, force: true })));
  });

  const targets = (): { url: string }[] => rawx.map((r) => ({ url: `http://${r.addr}/${newChunkId()}` }));

  describe('writeReplicas', function () {
    it('stores 3 replicas and reports hash and size', async function () {
      const data = randomBytes(2 * 1024 * 1024 + 3);
      const t = targets();
      const r = await writeReplicas(t, Readable.from([data]), META, { quorum: 2, size: data.length });
      assert.equal(r.hash, md5(data));
      assert.equal(r.size, data.length);
      assert.equal(r.chunks.length, 3);
      assert.deepEqual(r.failures, []);
      for (const c of r.chunks) {
        const h = await rawxHead(c.url);
        assert.equal(h.chunkHash, md5(data));
        assert.equal(c.pos, '0');
      }
    });

    it('stores an empty metachunk', async function () {
      const r = await writeReplicas(targets(), Readable.from([]), META, { quorum: 3 });
      assert.equal(r.size, 0);
      assert.equal(r.chunks.length, 3);
    });

    it('succeeds with quorum 2 when one rawx is stopped before the upload', async function () {
      await rawx[2]!.stop();
      const data = randomBytes(1024 * 1024);
      const r = await writeReplicas(targets(), Readable.from([data]), META, { quorum: 2 });
      assert.equal(r.chunks.length, 2);
      assert.equal(r.failures.length, 1);
      assert.equal(r.failures[0]!.code, 'UNAVAILABLE');
    });

    it('succeeds with quorum 2 when one rawx is stopped during the upload', async function () {
      const data = randomBytes(6 * 1024 * 1024);
      const t = targets();
      const src = slowSource(data, 256 * 1024, async (off) => {
        if (off === 1024 * 1024) await rawx[1]!.stop();
      });
      const r = await writeReplicas(t, src, META, { quorum: 2, size: data.length });
      assert.equal(r.chunks.length, 2);
      assert.deepEqual(r.failures.map((f) => f.url), [t[1]!.url]);
      assert.deepEqual(await chunkFiles(dirs[1]!), []);
      assert.deepEqual(await fsp.readdir(path.join(dirs[1]!, 'tmp')), []);
      for (const c of r.chunks) assert.equal((await rawxHead(c.url)).chunkHash, md5(data));
    });

    it('fails with UNAVAILABLE and leaves nothing when two rawx are stopped before', async function () {
      await rawx[0]!.stop();
      await rawx[2]!.stop();
      await assert.rejects(writeReplicas(targets(), Readable.from([randomBytes(100_000)]), META, { quorum: 2 }), { code: 'UNAVAILABLE' });
      assert.deepEqual(await chunkFiles(dirs[1]!), []);
    });

    it('fails and leaves nothing when two rawx are stopped during the upload', async function () {
      const data = randomBytes(6 * 1024 * 1024);
      const src = slowSource(data, 256 * 1024, async (off) => {
        if (off === 1024 * 1024) await Promise.all([rawx[0]!.stop(), rawx[1]!.stop()]);
      });
      await assert.rejects(writeReplicas(targets(), src, META, { quorum: 2, size: data.length }), { code: 'UNAVAILABLE' });
      // Give rawx 2 a moment to notice the aborted upload (its chunk file, partly written, goes).
      const leftovers = async (d: string) => (await chunkFiles(d)).length + (await fsp.readdir(path.join(d, 'tmp'))).length;
      for (let i = 0; i < 50 && (await leftovers(dirs[2]!)) > 0; i++) await new Promise((r) => setTimeout(r, 20));
      for (const d of dirs) {
        assert.deepEqual(await chunkFiles(d), []);
        assert.deepEqual(await fsp.readdir(path.join(d, 'tmp')), []);
      }
    });

    it('deletes the replicas written when the quorum is missed at the end', async function () {
      // One replica refuses at once (the chunk exists), one is down: only one stores it.
      const t = targets();
      await writeReplicas([t[0]!], Readable.from([Buffer.from('old')]), META, { quorum: 1 });
      await rawx[1]!.stop();
      await assert.rejects(writeReplicas(t, Readable.from([randomBytes(1000)]), META, { quorum: 2 }), { code: 'CHUNK_EXISTS' });
      assert.deepEqual(await chunkFiles(dirs[2]!), []);
      // The pre-existing chunk is untouched.
      assert.equal((await rawxHead(t[0]!.url)).chunkSize, 3);
    });

    it('rethrows a source error and stores nothing', async function () {
      const src = slowSource(randomBytes(2 * 1024 * 1024), 256 * 1024, (off) => {
        if (off === 512 * 1024) throw new Error('client went away');
      });
      await assert.rejects(writeReplicas(targets(), src, META, { quorum: 2 }));
      await new Promise((r) => setTimeout(r, 100));
      for (const d of dirs) assert.deepEqual(await chunkFiles(d), []);
    });
  });

  describe('splitChunks', function () {
    const cs = 1000;
    for (const n of [0, 1, cs - 1, cs, cs + 1, 3 * cs + 1]) {
      it(`splits ${n} bytes into ${Math.max(1, Math.ceil(n / cs))} metachunk(s) of at most ${cs}`, async function () {
        const data = randomBytes(n);
        // Uneven source pieces, some larger than a metachunk.
        const pieces: Buffer[] = [];
        for (let off = 0, k = 0; off < n; k++) {
          const len = [333, 1500, 7, 999][k % 4]!;
          pieces.push(data.subarray(off, off + len));
          off += len;
        }
        const got: Buffer[] = [];
        const offsets: number[] = [];
        let pos = 0;
        for await (const mc of splitChunks(Readable.from(pieces), cs)) {
          assert.equal(mc.pos, pos++);
          offsets.push(mc.offset);
          const b = await readAll(mc.stream as unknown as http.IncomingMessage);
          assert.ok(b.length <= cs);
          assert.equal(mc.size, b.length);
          got.push(b);
        }
        assert.equal(got.length, Math.max(1, Math.ceil(n / cs)));
        for (let i = 0; i < got.length - 1; i++) assert.equal(got[i]!.length, cs);
        assert.deepEqual(offsets, got.map((_, i) => i * cs));
        assert.ok(Buffer.concat(got).equals(data));
      });
    }

    it('feeds writeReplicas metachunk by metachunk', async function () {
      const data = randomBytes(5 * 1024 * 1024 + 11);
      const size = 2 * 1024 * 1024;
      const hashes: string[] = [];
      for await (const mc of splitChunks(Readable.from([data.subarray(0, 3_000_000), data.subarray(3_000_000)]), size)) {
        const r = await writeReplicas(targets(), mc.stream, { ...META, chunkPos: String(mc.pos) }, { quorum: 2 });
        assert.equal(r.size, mc.size);
        hashes.push(r.hash);
      }
      assert.deepEqual(hashes, [0, 1, 2].map((i) => md5(data.subarray(i * size, (i + 1) * size))));
    });

    it('ends with the source error', async function () {
      const src = slowSource(randomBytes(5000), 1000, (off) => { if (off === 3000) throw new Error('boom'); });
      await assert.rejects((async () => {
        for await (const mc of splitChunks(src, 2000)) await readAll(mc.stream as unknown as http.IncomingMessage);
      })(), /boom/);
    });

    it('lets a source fail after the reader of its metachunk gave up, with no uncaught error', async function () {
      const src = new PassThrough();
      const uncaught: unknown[] = [];
      const onUncaught = (e: unknown) => { uncaught.push(e); };
      process.on('uncaughtException', onUncaught);
      try {
        const it = splitChunks(src, 10_000)[Symbol.asyncIterator]();
        const mc = (await it.next()).value!;
        src.write(Buffer.alloc(100));
        // The reader stops (its upload failed elsewhere) while the metachunk waits for bytes.
        await new Promise<void>((resolve) => { mc.stream.once('data', () => resolve()); });
        mc.stream.pause();
        mc.stream.read(0);
        src.destroy(new Error('source gone'));
        await new Promise((r) => setTimeout(r, 50));
        assert.deepEqual(uncaught, []);
      } finally {
        process.off('uncaughtException', onUncaught);
      }
    });
  });

  describe('readRange', function () {
    const cs = 300_000;
    let data: Buffer;
    let metachunks: (MetachunkReplicas & { chunks: ChunkInfo[] })[];

    beforeEach(async function () {
      data = randomBytes(3 * cs + 1234);
      metachunks = [];
      for await (const mc of splitChunks(Readable.from([data]), cs)) {
        const r = await writeReplicas(targets(), mc.stream, { ...META, chunkPos: String(mc.pos) }, { quorum: 3 });
        metachunks.push({ pos: mc.pos, size: r.size, replicas: r.chunks.map((c) => ({ url: c.url })), chunks: r.chunks });
      }
    });

    const ranges: [number, number][] = [[0, 0], [0, 3 * cs + 1233], [cs - 10, cs + 10], [cs, 2 * cs - 1], [123, 2 * cs + 456], [3 * cs, 3 * cs + 1233]];
    for (const [a, b] of ranges) {
      it(`reads bytes ${a}-${b}`, async function () {
        const got = await readAll(readRange(metachunks, a, b) as unknown as http.IncomingMessage);
        assert.ok(got.equals(data.subarray(a, b + 1)));
      });
    }

    it('gives an empty stream for end < start and refuses a range outside the content', async function () {
      assert.equal((await readAll(readRange(metachunks, 5, 4) as unknown as http.IncomingMessage)).length, 0);
      assert.throws(() => readRange(metachunks, 0, data.length), { code: 'BAD_REQUEST' });
    });

    it('fails over when the first replica is stopped', async function () {
      await rawx[0]!.stop();
      const got = await readAll(readRange(metachunks, 10, data.length - 10) as unknown as http.IncomingMessage);
      assert.ok(got.equals(data.subarray(10, data.length - 9)));
    });

    it('fails over when the first replica lost its chunk, and honours get scores', async function () {
      await rawxDelete(metachunks[1]!.replicas[1]!.url);
      for (const m of metachunks) m.replicas = m.replicas.map((r, i) => ({ ...r, scoreGet: i === 1 ? 90 : 10 }));
      const got = await readAll(readRange(metachunks, 0, data.length - 1) as unknown as http.IncomingMessage);
      assert.ok(got.equals(data));
    });

    it('resumes at the same byte on another replica after a failure mid-body', async function () {
      // A fake replica that sends part of the asked range then drops the connection.
      const cut = 70_000;
      const fake = http.createServer((req, res) => {
        const m = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? '')!;
        const a = Number(m[1]);
        const b = Number(m[2]);
        res.writeHead(206, { 'content-length': b - a + 1, 'content-range': `bytes ${a}-${b}/${cs}`, 'x-oio-chunk-meta-chunk-size': cs });
        res.write(data.subarray(cs + a, cs + a + cut), () => setTimeout(() => res.destroy(), 20));
      });
      await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
      try {
        const port = (fake.address() as AddressInfo).port;
        metachunks[1]!.replicas.unshift({ url: `http://127.0.0.1:${port}/${newChunkId()}` });
        const got = await readAll(readRange(metachunks, cs - 5, 2 * cs + 5) as unknown as http.IncomingMessage);
        assert.equal(got.length, cs + 11);
        assert.ok(got.equals(data.subarray(cs - 5, 2 * cs + 6)));
      } finally {
        fake.closeAllConnections();
        fake.close();
      }
    });

    it('errors with UNAVAILABLE naming the metachunk when every replica fails', async function () {
      for (const r of metachunks[2]!.replicas) await rawxDelete(r.url);
      const s = readRange(metachunks, 0, data.length - 1);
      await assert.rejects(readAll(s as unknown as http.IncomingMessage), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'UNAVAILABLE');
        assert.match(e.message, /metachunk 2/);
        return true;
      });
    });
  });
  describe('local reads', function () {
    const local = (): Map<string, string> => new Map(rawx.map((r, i) => [r.addr, dirs[i]!]));
    const gets = async (): Promise<number> => (await Promise.all(rawx.map((r) => rawxStat(r.addr)))).reduce((n, s) => n + s.gets!, 0);
    let data: Buffer;
    let metachunks: MetachunkReplicas[];

    beforeEach(async function () {
      const cs = 300_000;
      data = randomBytes(2 * cs + 777);
      metachunks = [];
      for await (const mc of splitChunks(Readable.from([data]), cs)) {
        const r = await writeReplicas(targets(), mc.stream, { ...META, chunkPos: String(mc.pos) }, { quorum: 3 });
        metachunks.push({ pos: mc.pos, size: r.size, replicas: r.chunks.map((c) => ({ url: c.url })) });
      }
    });

    it('reads the chunks of local rawx from their files, ranges included, without asking the rawx', async function () {
      const before = await gets();
      for (const [a, b] of [[0, data.length - 1], [5, 299_999], [299_990, 300_010], [data.length - 1, data.length - 1]] as const) {
        const got = await readAll(readRange(metachunks, a, b, { localVolumes: local() }) as unknown as http.IncomingMessage);
        assert.ok(got.equals(data.subarray(a, b + 1)), `bytes ${a}-${b}`);
      }
      assert.equal(await gets(), before);
      // The same reads without local volumes go to the rawx (the counter this test relies on).
      await readAll(readRange(metachunks, 0, data.length - 1) as unknown as http.IncomingMessage);
      assert.equal(await gets(), before + 3);
    });

    it('answers what the rawx answers for a range beyond the end, with the chunk\'s metadata', async function () {
      const url = metachunks[0]!.replicas[0]!.url;
      const g = await openChunk(url, { start: 10, end: 10_000_000, localVolumes: local() });
      assert.deepEqual([g.start, g.end, g.size, g.meta.chunkPos, g.meta.contentPath], [10, 299_999, 300_000, '0', 'obj']);
      assert.ok((await readAll(g.stream as http.IncomingMessage)).equals(data.subarray(10, 300_000)));
      await assert.rejects(openChunk(url, { start: 300_000, localVolumes: local() }), { code: 'BAD_REQUEST' });
      await assert.rejects(rawxGet(url, { start: 300_000 }), { code: 'BAD_REQUEST' });
    });

    it('asks the rawx when the file cannot settle the read: wrong folder, missing or unfinished file', async function () {
      // A map naming the wrong folder: nothing there, the rawx serves the chunk.
      const wrong = new Map(rawx.map((r, i) => [r.addr, dirs[(i + 1) % 3]!]));
      const url0 = metachunks[0]!.replicas[0]!.url;
      const id0 = new URL(url0).pathname.slice(1);
      await fsp.rm(chunkFilePath(dirs[1]!, id0), { force: true });
      const before = await gets();
      assert.ok((await readAll((await openChunk(url0, { localVolumes: wrong })).stream as http.IncomingMessage)).equals(data.subarray(0, 300_000)));
      assert.equal(await gets(), before + 1);
      // A file without its footer (a write in progress) is no chunk: the rawx's answer stands.
      const id = newChunkId();
      const unfinished = chunkFilePath(dirs[0]!, id);
      await fsp.mkdir(path.dirname(unfinished), { recursive: true });
      await fsp.writeFile(unfinished, randomBytes(1000));
      const url = `http://${rawx[0]!.addr}/${id}`;
      const viaRawx = await rawxGet(url).then(() => 'read', (e: { code?: string }) => e.code);
      assert.notEqual(viaRawx, 'read');
      await assert.rejects(openChunk(url, { localVolumes: local() }), { code: viaRawx });
      await fsp.rm(unfinished);
      await assert.rejects(openChunk(url, { localVolumes: local() }), { code: 'CHUNK_NOT_FOUND' });
    });

    it('waits for a consumer that stops reading, however long', async function () {
      const url = metachunks[1]!.replicas[2]!.url;
      const g = await openChunk(url, { localVolumes: local(), timeoutMs: 100 });
      await new Promise((r) => setTimeout(r, 400));
      assert.ok((await readAll(g.stream as http.IncomingMessage)).equals(data.subarray(300_000, 600_000)));
    });

    it('fails a file read that hangs after the timeout, as a stalled socket does', async function () {
      let closed = false;
      const hung = { read: () => new Promise<{ bytesRead: number }>(() => undefined), close: async () => { closed = true; } };
      const s = new LocalChunkStream(hung, 0, 999, 100, 'hung');
      const t0 = Date.now();
      const err = await new Promise<Error & { code?: string }>((resolve) => { s.once('error', resolve); s.resume(); });
      assert.equal(err.code, 'ETIMEDOUT');
      assert.ok(Date.now() - t0 < 2000);
      assert.ok(closed);
    });

    it('fails over to the next replica when the local file is gone', async function () {
      for (const m of metachunks) await fsp.rm(chunkFilePath(dirs[0]!, new URL(m.replicas[0]!.url).pathname.slice(1)));
      const got = await readAll(readRange(metachunks, 0, data.length - 1, { localVolumes: local() }) as unknown as http.IncomingMessage);
      assert.ok(got.equals(data));
    });
  });
});
