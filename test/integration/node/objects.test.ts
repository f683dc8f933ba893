/**
 * Integration: a real node (`oio node up` in a child process) stores and serves objects
 * through the client library with every replicated policy, across metachunk boundaries.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { dumpLogsOnFailure, startNode, TestNode } from '../../helpers/grid';
import { ObjectStorage } from '../../../appliance/client/object-storage';

const CHUNK = 256 * 1024;

async function readAll(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of s) parts.push(b as Buffer);
  return Buffer.concat(parts);
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex').toUpperCase();
const hostOf = (url: string) => url.replace(/^https?:\/\//, '').replace(/\/.*$/, '');

describe('node: objects through the client library', function () {
  let node: TestNode;
  let oio: ObjectStorage;

  before(async () => {
    node = await startNode({ config: { 'ns.chunk_size': CHUNK } });
    oio = node.client('acct-objects');
  });
  afterEach(function () { dumpLogsOnFailure(this, node); });
  after(async () => { await node?.stop(); });

  for (const policy of ['SINGLE', 'TWOCOPIES', 'THREECOPIES']) {
    describe(`policy ${policy}`, () => {
      const copies = { SINGLE: 1, TWOCOPIES: 2, THREECOPIES: 3 }[policy]!;
      const container = `c-${policy.toLowerCase()}`;
      before(async () => { await oio.containerCreate(container, { policy }); });

      for (const size of [0, 1, 1024 * 1024, 3 * CHUNK + 1]) {
        it(`puts, gets and deletes ${size} bytes with ${copies} copies on distinct volumes`, async () => {
          const data = randomBytes(size);
          const name = `obj-${size}`;
          const put = await oio.objectPut(container, name, Readable.from([data]));
          assert.equal(put.size, size);
          assert.equal(put.hash, md5(data));
          assert.equal(put.policy, policy);
          const metachunks = Math.max(1, Math.ceil(size / CHUNK));
          assert.equal(put.chunks.length, metachunks * copies);
          for (let pos = 0; pos < metachunks; pos++) {
            const replicas = put.chunks.filter((c) => c.pos === String(pos));
            assert.equal(replicas.length, copies, `metachunk ${pos}`);
            assert.equal(new Set(replicas.map((c) => hostOf(c.url))).size, copies, 'copies on distinct rawx');
          }
          const got = await oio.objectGet(container, name);
          assert.ok((await readAll(got.stream)).equals(data));
          const head = await oio.objectHead(container, name);
          assert.equal(head.size, size);
          await oio.objectDelete(container, name);
          await assert.rejects(oio.objectHead(container, name), { code: 'CONTENT_NOT_FOUND' });
        });
      }
    });
  }

  it('reads byte ranges across metachunk boundaries', async () => {
    await oio.containerCreate('ranges', { policy: 'TWOCOPIES' });
    const data = randomBytes(3 * CHUNK + 17);
    await oio.objectPut('ranges', 'r', data);
    for (const [start, end] of [[0, 0], [CHUNK - 1, CHUNK], [CHUNK - 5, 2 * CHUNK + 5], [data.length - 1, data.length - 1], [10, data.length - 1]] as const) {
      const r = await oio.objectGet('ranges', 'r', { start, end });
      assert.ok((await readAll(r.stream)).equals(data.subarray(start, end + 1)), `range ${start}-${end}`);
    }
    await assert.rejects(oio.objectGet('ranges', 'r', { start: data.length + 1 }), { code: 'BAD_REQUEST' });
  });

  it('uploads a stream of unknown size (chunked, prepared metachunk by metachunk)', async () => {
    await oio.containerCreate('streamed');
    const parts = Array.from({ length: 9 }, () => randomBytes(100_000));
    const put = await oio.objectPut('streamed', 's', Readable.from(parts));
    const all = Buffer.concat(parts);
    assert.equal(put.size, all.length);
    assert.equal(put.policy, 'THREECOPIES', 'namespace default policy');
    const got = await oio.objectGet('streamed', 's');
    assert.ok((await readAll(got.stream)).equals(all));
  });

  it('lists with prefix, delimiter, marker and limit', async () => {
    await oio.containerCreate('listing', { policy: 'SINGLE' });
    for (const n of ['a/1', 'a/2', 'a/b/3', 'b', 'c/4']) await oio.objectPut('listing', n, Buffer.from(n));
    const top = await oio.objectList('listing', { delimiter: '/' });
    assert.deepEqual(top.objects.map((o) => o.name), ['b']);
    assert.deepEqual(top.prefixes, ['a/', 'c/']);
    const a = await oio.objectList('listing', { prefix: 'a/', delimiter: '/' });
    assert.deepEqual(a.objects.map((o) => o.name), ['a/1', 'a/2']);
    assert.deepEqual(a.prefixes, ['a/b/']);
    const page = await oio.objectList('listing', { limit: 2 });
    assert.deepEqual(page.objects.map((o) => o.name), ['a/1', 'a/2']);
    assert.equal(page.truncated, true);
    const next = await oio.objectList('listing', { marker: page.next_marker, limit: 10 });
    assert.deepEqual(next.objects.map((o) => o.name), ['a/b/3', 'b', 'c/4']);
  });

  it('links a new name to the same chunks and keeps them until the last name goes', async () => {
    await oio.containerCreate('links', { policy: 'SINGLE' });
    const data = randomBytes(5000);
    const orig = await oio.objectPut('links', 'orig', data);
    const linked = await oio.objectLink('links', 'orig', 'copy');
    assert.deepEqual(linked.chunks.map((c) => c.url), orig.chunks.map((c) => c.url));
    await oio.objectDelete('links', 'orig');
    await new Promise((r) => setTimeout(r, 500)); // let the event queue run
    assert.ok((await readAll((await oio.objectGet('links', 'copy')).stream)).equals(data));
  });

  it('keeps versions when the container has versioning', async () => {
    await oio.containerCreate('versioned', { policy: 'SINGLE', maxVersions: -1 });
    const v1 = await oio.objectPut('versioned', 'v', Buffer.from('one'));
    await oio.objectPut('versioned', 'v', Buffer.from('two'));
    assert.equal((await readAll((await oio.objectGet('versioned', 'v')).stream)).toString(), 'two');
    assert.equal((await readAll((await oio.objectGet('versioned', 'v', { version: v1.version })).stream)).toString(), 'one');
    await oio.objectDelete('versioned', 'v');
    await assert.rejects(oio.objectHead('versioned', 'v'), { code: 'CONTENT_NOT_FOUND' });
    const all = await oio.objectList('versioned', { versions: true });
    assert.equal(all.objects.length, 3, 'two versions and a delete marker');
  });

  it('keeps account usage up to date through meta2 events', async () => {
    const acct = node.client('acct-usage');
    await acct.containerCreate('u', { policy: 'SINGLE' });
    await acct.objectPut('u', 'x', randomBytes(1000));
    await acct.objectPut('u', 'y', randomBytes(24));
    let info = await acct.accountShow();
    for (let i = 0; i < 50 && info.bytes !== 1024; i++) { await new Promise((r) => setTimeout(r, 100)); info = await acct.accountShow(); }
    assert.equal(info.objects, 2);
    assert.equal(info.bytes, 1024);
    const list = await acct.containerList();
    assert.deepEqual(list.containers.map((c) => c.name), ['u']);
  });

  it('refuses bad names and unknown containers or objects with clear codes', async () => {
    await assert.rejects(oio.containerCreate(''), { code: 'INVALID_NAME' });
    await assert.rejects(oio.containerCreate('x'.repeat(1025)), { code: 'INVALID_NAME' });
    await assert.rejects(oio.containerCreate('bad\0name'), { code: 'INVALID_NAME' });
    await oio.containerCreate('names', { policy: 'SINGLE' });
    await assert.rejects(oio.objectPut('names', 'a\0b', Buffer.from('x')), { code: 'INVALID_NAME' });
    await assert.rejects(oio.objectPut('names', 'é'.repeat(513), Buffer.from('x')), { code: 'INVALID_NAME' });
    await assert.rejects(oio.objectHead('no-such-container', 'x'), { code: 'CONTAINER_NOT_FOUND' });
    await assert.rejects(oio.objectHead('names', 'no-such-object'), { code: 'CONTENT_NOT_FOUND' });
    await assert.rejects(oio.containerCreate('names'), { code: 'CONTAINER_EXISTS' });
    await assert.rejects(oio.containerCreate('p', { policy: 'NOPE' }), { code: 'BAD_REQUEST' });
    await oio.objectPut('names', 'keep', Buffer.from('x'));
    await assert.rejects(oio.containerDelete('names'), { code: 'CONTAINER_NOT_EMPTY' });
  });

  it('asks the proxy for the placements of small uploads 16 at a time, each used once; a new container policy applies at once', async () => {
    const prepares = () => fs.readFileSync(path.join(node.dataDir, 'node.log'), 'utf8').split('\n')
      .filter((l) => l.includes('"svc":"proxy"') && l.includes('"route":"/v1/content/prepare"')).length;
    await oio.containerCreate('pooled', { policy: 'THREECOPIES' });
    const before = prepares();
    const puts = [];
    for (let i = 0; i < 40; i++) puts.push(await oio.objectPut('pooled', `small-${i}`, Buffer.from(`object ${i}`)));
    // 40 uploads: 3 batches of 16 (more only if a batch outlived its 500 ms)
    const asked = prepares() - before;
    assert.ok(asked >= 3 && asked <= 10, `${asked} prepare requests for 40 uploads`);
    const urls = puts.flatMap((p) => p.chunks.map((c) => c.url));
    assert.equal(new Set(urls).size, 120, 'every chunk has its own id');
    for (const p of puts) {
      assert.equal(p.chunks.length, 3);
      assert.equal(new Set(p.chunks.map((c) => hostOf(c.url))).size, 3, 'copies on distinct rawx');
      assert.ok(p.chunks.every((c) => c.pos === '0'));
    }
    for (let i = 0; i < 40; i += 13) assert.equal((await readAll((await oio.objectGet('pooled', `small-${i}`)).stream)).toString(), `object ${i}`);
    await oio.containerSet('pooled', { policy: 'SINGLE' });
    const single = await oio.objectPut('pooled', 'after-set', Buffer.from('x'));
    assert.equal(single.policy, 'SINGLE');
    assert.equal(single.chunks.length, 1);
    // larger than a metachunk: placed by its own request
    const big = await oio.objectPut('pooled', 'big', randomBytes(2 * CHUNK + 5));
    assert.equal(big.chunks.length, 3);
  });

  it('shares placements and policy caches among the clients forAccount makes (one per S3 request)', async () => {
    const calls = (route: string) => fs.readFileSync(path.join(node.dataDir, 'node.log'), 'utf8').split('\n')
      .filter((l) => l.includes('"svc":"proxy"') && l.includes(`"route":"${route}"`)).length;
    await oio.containerCreate('shared', { policy: 'THREECOPIES' });
    const before = { prepare: calls('/v1/content/prepare'), show: calls('/v1/container/show'), info: calls('/v1/conscience/info') };
    for (let i = 0; i < 40; i++) {
      const c = await oio.forAccount(oio.account, `req-${i}`).objectPut('shared', `small-${i}`, Buffer.from(`object ${i}`));
      assert.equal(c.chunks.length, 3);
    }
    // A client of its own for each upload: without shared caches, 40 of each.
    const asked = calls('/v1/content/prepare') - before.prepare;
    assert.ok(asked >= 3 && asked <= 10, `${asked} prepare requests for 40 uploads`);
    assert.ok(calls('/v1/container/show') - before.show <= 10, 'container policy cached');
    assert.ok(calls('/v1/conscience/info') - before.info <= 10, 'namespace info cached');
    // A policy set through one of them applies at once to the next upload of another.
    await oio.forAccount(oio.account).containerSet('shared', { policy: 'SINGLE' });
    const single = await oio.forAccount(oio.account).objectPut('shared', 'after-set', Buffer.from('x'));
    assert.equal(single.policy, 'SINGLE');
    assert.equal(single.chunks.length, 1);
  });

  it('stores the properties known only at the end of the source with the content, in the same commit', async () => {
    await oio.containerCreate('endprops', { policy: 'SINGLE' });
    const data = randomBytes(3 * CHUNK + 17);
    for (const [name, source] of [['small', Buffer.from('tiny')], ['big', data]] as const) {
      let hash: ReturnType<typeof createHash> | undefined = createHash('sha1');
      const digest = hash;
      const src = Readable.from([source.subarray(0, 5), source.subarray(5)]).on('data', (b: Buffer) => hash?.update(b));
      const put = await oio.objectPut('endprops', name, src, {
        properties: { color: 'blue' },
        endProperties: () => { assert.ok(src.readableEnded, 'called after the end'); hash = undefined; return { sha1: digest.digest('hex') }; },
      });
      const want = createHash('sha1').update(source).digest('hex');
      assert.deepEqual(put.properties, { color: 'blue', sha1: want });
      assert.equal((await oio.objectHead('endprops', name)).properties.sha1, want);
    }
  });

  it('deletes an empty container', async () => {
    await oio.containerCreate('gone');
    await oio.containerDelete('gone');
    await assert.rejects(oio.containerShow('gone'), { code: 'CONTAINER_NOT_FOUND' });
    await oio.containerCreate('gone');
  });
});
