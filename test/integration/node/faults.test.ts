/**
 * Integration: faults on a real node. rawx volumes run as their own processes
 * (`oio service run rawx --index N`) so a test can kill one; the node itself is killed with
 * SIGKILL mid-upload; a volume on its own small file system fills up.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { dumpLogsOnFailure, startNode, TestNode, ProcessHandle } from '../../helpers/grid';
import { tmpDir } from '../../helpers/tmp';

const CHUNK = 256 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readAll(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of s) parts.push(b as Buffer);
  return Buffer.concat(parts);
}

/** A source that yields `count` blocks, calling `at(i)` before block i (to inject faults). */
function slowSource(blocks: Buffer[], at: (i: number) => Promise<void>): Readable {
  return Readable.from((async function* () {
    for (let i = 0; i < blocks.length; i++) { await at(i); yield blocks[i]!; }
  })());
}

async function kill(h: ProcessHandle, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  h.proc.kill(signal);
  await h.exited;
}

describe('node: faults', function () {
  describe('rawx killed during a THREECOPIES upload', () => {
    let node: TestNode;
    let rawx: ProcessHandle[] = [];
    beforeEach(async () => {
      node = await startNode({ services: ['conscience', 'meta0', 'meta1', 'account', 'meta2', 'proxy'], config: { 'ns.chunk_size': CHUNK, 'rawx.count': 3 } });
      rawx = [];
      for (let i = 0; i < 3; i++) rawx.push(await node.runService('rawx', i));
    });
    afterEach(async function () { dumpLogsOnFailure(this, node); await node.stop(); });

    it('succeeds with two copies written when one rawx dies', async () => {
      const oio = node.client();
      await oio.containerCreate('c', { policy: 'THREECOPIES' });
      const blocks = Array.from({ length: 16 }, () => randomBytes(64 * 1024));
      const put = await oio.objectPut('c', 'o', slowSource(blocks, async (i) => { if (i === 6) await kill(rawx[1]!); }));
      const data = Buffer.concat(blocks);
      assert.equal(put.size, data.length);
      for (const pos of new Set(put.chunks.map((c) => c.pos))) {
        assert.ok(put.chunks.filter((c) => c.pos === pos).length >= 2, `metachunk ${pos} has at least 2 copies`);
      }
      assert.ok((await readAll((await oio.objectGet('c', 'o')).stream)).equals(data), 'reads back (failing over the dead rawx)');
    });

    it('fails and leaves nothing visible when two rawx die', async () => {
      const oio = node.client();
      await oio.containerCreate('c2', { policy: 'THREECOPIES' });
      const blocks = Array.from({ length: 16 }, () => randomBytes(64 * 1024));
      await assert.rejects(oio.objectPut('c2', 'o', slowSource(blocks, async (i) => { if (i === 6) { await kill(rawx[0]!); await kill(rawx[2]!); } })));
      await assert.rejects(oio.objectHead('c2', 'o'), { code: 'CONTENT_NOT_FOUND' });
      assert.equal((await oio.objectList('c2')).objects.length, 0);
    });

    it('puts of a buffer go on when a rawx hangs (SIGSTOP): sent again elsewhere, then placed elsewhere', async function () {
      this.timeout(120_000);
      const oio = node.client();
      await oio.containerCreate('c4', { policy: 'SINGLE' });
      rawx[1]!.proc.kill('SIGSTOP');
      try {
        const slow: number[] = [];
        const stored = new Map<string, Buffer>();
        for (let i = 0; i < 12; i++) {
          const data = randomBytes(1000 + i);
          const t0 = Date.now();
          const put = await oio.objectPut('c4', `o${i}`, data);
          if (Date.now() - t0 > 5000) slow.push(i);
          assert.ok(!put.chunks.some((c) => c.url.includes(':6201/')), `o${i} is not on the hung rawx`);
          stored.set(`o${i}`, data);
        }
        // At most the first put that met the hung rawx waited for its timeout; later ones avoid it.
        assert.ok(slow.length <= 1, `puts that waited: ${slow.join(',')}`);
        for (const [name, data] of stored) assert.ok((await readAll((await oio.objectGet('c4', name)).stream)).equals(data), name);
      } finally {
        rawx[1]!.proc.kill('SIGCONT');
      }
    });

    it('reads fail over to another replica when a rawx is stopped', async () => {
      const oio = node.client();
      await oio.containerCreate('c3', { policy: 'TWOCOPIES' });
      const data = randomBytes(3 * CHUNK + 5);
      const put = await oio.objectPut('c3', 'o', data);
      const firstHost = put.chunks[0]!.url.replace(/^http:\/\//, '').replace(/\/.*$/, '');
      const idx = rawx.findIndex((_, i) => firstHost.endsWith(`:${6200 + i}`));
      assert.ok(idx >= 0);
      await kill(rawx[idx]!);
      assert.ok((await readAll((await oio.objectGet('c3', 'o')).stream)).equals(data));
      const r = await oio.objectGet('c3', 'o', { start: CHUNK - 3, end: CHUNK + 3 });
      assert.ok((await readAll(r.stream)).equals(data.subarray(CHUNK - 3, CHUNK + 4)));
    });
  });

  describe('kill -9 of the node during an upload', () => {
    let node: TestNode;
    afterEach(async function () { dumpLogsOnFailure(this, node); await node?.stop(); });

    it('lists and serves no partial object after restart', async () => {
      node = await startNode({ config: { 'ns.chunk_size': CHUNK } });
      const oio = node.client();
      await oio.containerCreate('k', { policy: 'TWOCOPIES' });
      await oio.objectPut('k', 'before', Buffer.from('committed'));
      const blocks = Array.from({ length: 20 }, () => randomBytes(64 * 1024));
      const upload = oio.objectPut('k', 'partial', slowSource(blocks, async (i) => { if (i === 8) await node.kill('SIGKILL'); }));
      await assert.rejects(upload);
      await node.restart();
      await assert.rejects(oio.objectHead('k', 'partial'), { code: 'CONTENT_NOT_FOUND' });
      const list = await oio.objectList('k');
      assert.deepEqual(list.objects.map((o) => o.name), ['before']);
      assert.equal((await readAll((await oio.objectGet('k', 'before')).stream)).toString(), 'committed');
    });
  });

  describe('a full volume', () => {
    let node: TestNode;
    let mnt: string | undefined;
    afterEach(async function () {
      dumpLogsOnFailure(this, node);
      await node?.stop();
      if (mnt) { try { execFileSync('umount', [mnt]); } catch { /* already gone */ } }
    });

    it('scores 0 for puts, new chunks avoid it, its chunks stay readable', async function () {
      const base = tmpDir('oio-full-');
      mnt = path.join(base, 'small');
      fs.mkdirSync(mnt);
      try { execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt]); }
      catch (e) {
        if (process.env.CI) throw new Error(`cannot mount a tmpfs for the full-volume test: ${(e as Error).message}`);
        mnt = undefined;
        this.skip();
      }
      const vols = [path.join(base, 'v0'), path.join(base, 'v1'), mnt!];
      node = await startNode({ dataDir: path.join(base, 'data'), config: { 'ns.chunk_size': CHUNK, 'rawx.volumes': vols } });
      const oio = node.client();
      await oio.containerCreate('f', { policy: 'THREECOPIES' });
      const early = randomBytes(100_000);
      const put = await oio.objectPut('f', 'early', early);
      assert.ok(put.chunks.some((c) => c.url.includes(':6202/')), 'the small volume took a copy while it had room');
      // Fill the small file system to the brim.
      const filler = path.join(mnt!, 'filler');
      const fd = fs.openSync(filler, 'w');
      try { for (;;) fs.writeSync(fd, Buffer.alloc(64 * 1024)); } catch (e) { assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC'); }
      fs.closeSync(fd);
      let small;
      for (let i = 0; i < 100; i++) {
        small = (await oio.clusterList('rawx')).find((s) => s.addr.endsWith(':6202'));
        if (small && small.score === 0) break;
        await sleep(100);
      }
      assert.equal(small?.score, 0, 'put score of the full volume fell to 0');
      assert.ok((small?.scoreGet ?? 0) > 0, 'its get score stays above 0');
      // The proxy places from its cached bulletin (refreshed every ns.bulletin_refresh = 500 ms).
      await sleep(1200);
      await oio.containerCreate('g', { policy: 'SINGLE' });
      for (let i = 0; i < 20; i++) {
        const p = await oio.objectPut('g', `n${i}`, randomBytes(1000));
        assert.ok(!p.chunks.some((c) => c.url.includes(':6202/')), 'new chunks avoid the full volume');
      }
      await assert.rejects(oio.objectPut('f', 'three', randomBytes(10)), { code: 'POLICY_NOT_SATISFIABLE' });
      assert.ok((await readAll((await oio.objectGet('f', 'early')).stream)).equals(early), 'chunks on the full volume stay readable');
    });
  });
});
