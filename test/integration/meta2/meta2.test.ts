/**
 * Integration test of the real Meta2Service on 127.0.0.1 (port 0) through the remote stub.
 * Its event targets (rawx chunk DELETE, account container/update) are one small recording
 * HTTP server started here: a test double for this unit of work only.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { AddressInfo } from 'node:net';
import { cidOf, loadConfig, rootLogger, setLogLevel, sleep } from '../../../appliance/common';
import type { ContentInfo } from '../../../appliance/common/model';
import { Meta2Client } from '../../../appliance/client/remote/meta2';
import { Meta2Service, Meta2ServiceOptions } from '../../../appliance/services/meta2';

interface Recorded { method: string; path: string; body: Record<string, unknown> }

/** Records DELETE /<chunk> and POST /v1/account/container/update; `failing` answers 503. */
class Recorder {
  calls: Recorded[] = [];
  failing = false;
  private server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => {
      if (this.failing) { res.writeHead(503); res.end(); return; }
      const text = Buffer.concat(parts).toString('utf8');
      this.calls.push({ method: req.method ?? '', path: req.url ?? '', body: text ? JSON.parse(text) as Record<string, unknown> : {} });
      res.writeHead(req.url?.includes('MISSING') ? 404 : 204);
      res.end();
    });
  });
  addr = '';

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.addr = `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  deletes(): string[] { return this.calls.filter((c) => c.method === 'DELETE').map((c) => c.path); }
  usages(container?: string): Array<Record<string, unknown>> {
    return this.calls.filter((c) => c.method === 'POST' && c.path === '/v1/account/container/update' && (!container || c.body.container === container)).map((c) => c.body);
  }
}

async function until(what: string, f: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timeout waiting for ${what}`);
    await sleep(20);
  }
}

describe('meta2 service', function () {
  this.timeout(30_000);
  let dir: string;
  let rec: Recorder;
  let svc: Meta2Service;
  let client: Meta2Client;
  let n = 0;

  async function startMeta2(opts: Meta2ServiceOptions): Promise<void> {
    svc = new Meta2Service({ host: '127.0.0.1', port: 0, eventIntervalMs: 30, durable: false, ...opts });
    const config = loadConfig({ overrides: { 'meta2.port': 0, access_log: false, 'ns.max_versions': 1 } });
    await svc.start({ config, log: rootLogger, signal: new AbortController().signal, dataDir: dir, conscienceAddrs: [] });
    client = new Meta2Client(svc.addr, 'test-req');
  }

  function content(name: string, size: number, urls: string[]): ContentInfo {
    return {
      id: '', name, version: 0, size, hash: '', mime: 'application/octet-stream', policy: 'SINGLE', chunkMethod: 'plain/nb_copy=1',
      ctime: 0, mtime: 0, deleted: false, properties: {}, chunks: urls.map((url, i) => ({ url, pos: String(i), size, hash: '00' })),
    };
  }

  async function newContainer(system = {}): Promise<{ cid: string; name: string }> {
    const name = `it-${process.pid}-${++n}`;
    const cid = cidOf('acct', name);
    await client.containerCreate({ cid, account: 'acct', container: name, system });
    return { cid, name };
  }

  before(() => setLogLevel('error'));

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meta2-it-'));
    rec = new Recorder();
    await rec.start();
    await startMeta2({ accountAddr: rec.addr });
  });

  afterEach(async () => {
    await svc.stop();
    await rec.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('creates, shows and lists containers and contents over HTTP', async () => {
    const { cid, name } = await newContainer();
    await assert.rejects(client.containerCreate({ cid, account: 'acct', container: name }), { code: 'CONTAINER_EXISTS' });
    await assert.rejects(client.containerShow(cidOf('acct', 'missing')), { code: 'CONTAINER_NOT_FOUND' });
    for (const nm of ['a/1', 'a/2', 'b', 'é/x', '\u{1F600}']) await client.contentCreate(cid, content(nm, 3, []));
    const l = await client.contentList(cid, { delimiter: '/' });
    assert.deepEqual(l.objects.map((o) => o.name), ['b', '\u{1F600}']);
    assert.deepEqual(l.prefixes, ['a/', 'é/']);
    const p = await client.contentList(cid, { limit: 2 });
    assert.equal(p.truncated, true);
    assert.equal(p.next_marker, 'a/2');
    const s = await client.containerShow(cid);
    assert.equal(s.objects, 5);
    assert.equal(s.bytes, 15);
    await assert.rejects(client.contentShow(cid, 'nope'), { code: 'CONTENT_NOT_FOUND' });
    const linked = await client.contentLink(cid, 'b', 'c');
    assert.equal((await client.contentShow(cid, 'c')).id, linked.id);
    const props = await client.contentProperties(cid, 'c', { set: { k: 'v' } });
    assert.deepEqual(props.properties, { k: 'v' });
    await assert.rejects(client.containerDelete(cid), { code: 'CONTAINER_NOT_EMPTY' });
  });

  it('supports versions and delete markers over HTTP', async () => {
    const { cid } = await newContainer({ max_versions: -1 });
    const v1 = await client.contentCreate(cid, content('o', 1, []));
    const d = await client.contentDelete(cid, 'o');
    assert.ok(d.marker?.deleted);
    await assert.rejects(client.contentShow(cid, 'o'), { code: 'CONTENT_NOT_FOUND' });
    assert.equal((await client.contentShow(cid, 'o', v1.version)).version, v1.version);
    const all = await client.contentList(cid, { versions: true });
    assert.equal(all.objects.length, 2);
  });

  it('sends chunk deletes and usage updates to rawx and account', async () => {
    const { cid, name } = await newContainer();
    await client.contentCreate(cid, content('o', 10, [`http://${rec.addr}/AAA1`, `http://${rec.addr}/MISSING1`]));
    await client.contentCreate(cid, content('o', 20, [`http://${rec.addr}/BBB1`]));
    await until('chunk deletes', () => rec.deletes().length === 2);
    assert.deepEqual(rec.deletes().sort(), ['/AAA1', '/MISSING1']);
    await until('usage 1/20', () => rec.usages(name).some((u) => u.objects === 1 && u.bytes === 20));
    const u = rec.usages(name).at(-1)!;
    assert.equal(u.id, 'acct');
    assert.equal(typeof u.mtime, 'number');
    await until('queue empty', () => svc.backend.pendingEvents(cid) === 0);
  });

  it('keeps unsent events across a restart and sends them once the targets answer', async () => {
    const { cid, name } = await newContainer();
    await until('creation usage', () => rec.usages(name).length > 0);
    rec.failing = true;
    await client.contentCreate(cid, content('o', 10, [`http://${rec.addr}/OLD1`]));
    await client.contentDelete(cid, 'o');
    await sleep(150);
    assert.ok(svc.backend.pendingEvents(cid) >= 2);
    await svc.stop();
    rec.failing = false;
    rec.calls = [];
    // Second life: the account found through resolveAccount.
    await startMeta2({ resolveAccount: () => Promise.resolve([rec.addr]) });
    await until('chunk delete after restart', () => rec.deletes().includes('/OLD1'), 10_000);
    await until('usage after restart', () => rec.usages(name).some((x) => x.objects === 0 && x.bytes === 0), 10_000);
  });

  it('deletes a container, emitting usage with deleted: true, even across a restart', async () => {
    const { cid, name } = await newContainer();
    await client.contentCreate(cid, content('o', 10, [`http://${rec.addr}/CCC1`]));
    rec.failing = true;
    await client.containerDelete(cid, true);
    await assert.rejects(client.containerShow(cid), { code: 'CONTAINER_NOT_FOUND' });
    await svc.stop();
    rec.failing = false;
    await startMeta2({ accountAddr: rec.addr });
    await until('deleted usage', () => rec.usages(name).some((x) => x.deleted === true), 10_000);
    await until('forced chunk delete', () => rec.deletes().includes('/CCC1'), 10_000);
  });
});
