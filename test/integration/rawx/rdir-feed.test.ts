/**
 * Integration: the queue a rawx feeds its volume's rdir through (services/rawx/rdir-feed.ts),
 * with a real rawx and a real rdir in this process on 127.0.0.1: PUT and DELETE reach the rdir,
 * rows wait while the rdir is down and survive a rawx restart (the queue is on the volume),
 * a row the rdir refuses is dropped without blocking the others, and a PUT answers while the
 * rdir is down.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { rawxDelete, rawxPut, rawxStat, RdirClient } from '../../../appliance/client/remote';
import { ChunkPutMeta, cidOf, loadConfig, newChunkId, newContentId, rootLogger, setLogLevel } from '../../../appliance/common';
import { RawxService, RDIR_QUEUE_FILE } from '../../../appliance/services/rawx';
import { RdirService } from '../../../appliance/services/rdir';
import { tmpDir } from '../../helpers/tmp';

setLogLevel('error');

const meta = (): ChunkPutMeta => ({
  containerId: cidOf('acct', 'feed'), contentPath: 'x/y', contentVersion: 1, contentId: newContentId(), chunkPos: '0', contentPolicy: 'SINGLE', contentChunkMethod: 'plain/nb_copy=1',
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); });
  });
}

describe('rawx: feeding the rdir of its volume', function () {
  this.timeout(30_000);
  let root: string;
  let vol: string;
  let rdir: RdirService;
  let rawx: RawxService;
  const config = loadConfig({ env: {}, overrides: { access_log: false } });
  const ctx = (sub: string) => {
    const dataDir = path.join(root, sub);
    fs.mkdirSync(dataDir, { recursive: true });
    return { config, log: rootLogger, signal: new AbortController().signal, dataDir, conscienceAddrs: [] };
  };
  let rdirPort = 0;

  beforeEach(async () => {
    root = tmpDir('rdir-feed-');
    vol = path.join(root, 'vol');
    rdirPort = await freePort();
    rdir = new RdirService({ host: '127.0.0.1', port: rdirPort, volume: vol });
    await rdir.start(ctx('rdir'));
    rawx = new RawxService({ host: '127.0.0.1', port: 0, volume: vol, rdir: rdir.addr, fsync: false });
    await rawx.start();
  });
  afterEach(async () => { await rawx.stop(); await rdir.stop(); });

  const ids = async () => (await new RdirClient(rdir.addr).rdirFetchAll()).map((e) => e.chunk_id).sort();

  it('a stored chunk is pushed with its metadata; a deleted one is forgotten', async () => {
    const id = newChunkId();
    const m = meta();
    const data = randomBytes(1234);
    await rawxPut(`http://${rawx.addr}/${id}`, data, m);
    await rawx.feed!.flush();
    const [e] = await new RdirClient(rdir.addr).rdirFetchAll();
    assert.equal(e?.chunk_id, id);
    assert.equal(e?.content_id, m.contentId);
    assert.equal(e?.size, 1234);
    assert.equal(e?.content_path, 'x/y');
    await rawxDelete(`http://${rawx.addr}/${id}`);
    await rawx.feed!.flush();
    assert.deepEqual(await ids(), []);
  });

  it('answers PUTs while the rdir is down; the rows wait, survive a rawx restart, and are delivered', async () => {
    await rdir.stop();
    const put = [newChunkId(), newChunkId(), newChunkId()];
    for (const id of put) await rawxPut(`http://${rawx.addr}/${id}`, randomBytes(100), meta());
    await rawxDelete(`http://${rawx.addr}/${put[0]}`);
    assert.equal((await rawxStat(rawx.addr)).rdirPending, 4);
    await rawx.stop();
    assert.ok(fs.existsSync(path.join(vol, RDIR_QUEUE_FILE)));
    rawx = new RawxService({ host: '127.0.0.1', port: 0, volume: vol, rdir: `127.0.0.1:${rdirPort}`, fsync: false });
    await rawx.start();
    assert.equal(rawx.feed!.pending, 4, 'the queue outlived the process');
    await rdir.start(ctx('rdir'));
    const deadline = Date.now() + 15_000;
    while (rawx.feed!.pending > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(rawx.feed!.pending, 0, 'delivered by the retry loop, without a flush');
    assert.deepEqual(await ids(), [put[1]!, put[2]!].sort());
  });

  it('drops a row the rdir refuses and delivers the others', async () => {
    await rdir.stop();
    const good = newChunkId();
    await rawxPut(`http://${rawx.addr}/${good}`, randomBytes(10), meta());
    // A chunk whose metadata the rdir refuses (a content id with a slash), stored meanwhile.
    const bad = newChunkId();
    await rawxPut(`http://${rawx.addr}/${bad}`, randomBytes(10), { ...meta(), contentId: 'not/valid' });
    const good2 = newChunkId();
    await rawxPut(`http://${rawx.addr}/${good2}`, randomBytes(10), meta());
    await rdir.start(ctx('rdir'));
    await rawx.feed!.flush();
    assert.deepEqual(await ids(), [good, good2].sort());
    const st = await rawxStat(rawx.addr);
    assert.equal(st.rdirDropped, 1);
    assert.equal(st.rdirPending, 0);
  });

  it('queues a delete of a chunk the rawx does not have (404), so the rdir forgets it too', async () => {
    const ghost = newChunkId();
    await new RdirClient(rdir.addr).rdirPush([{
      container_id: cidOf('acct', 'feed'), content_id: 'C1', chunk_id: ghost, pos: '0', size: 1, hash: '', mtime: 1,
      content_path: 'g', content_version: 1, policy: 'SINGLE', chunk_method: 'plain/nb_copy=1',
    }]);
    await assert.rejects(rawxDelete(`http://${rawx.addr}/${ghost}`), { code: 'CHUNK_NOT_FOUND' });
    await rawx.feed!.flush();
    assert.deepEqual(await ids(), []);
  });
});
