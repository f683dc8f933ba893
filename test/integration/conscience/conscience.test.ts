/** Integration: a real ConscienceService on 127.0.0.1 (port 0) driven through ConscienceClient. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConscienceService } from '../../../appliance/services/conscience';
import { chooseReplicaSet } from '../../../appliance/services/meta1';
import { ConscienceClient } from '../../../appliance/client/remote/conscience';
import { LoadBalancer } from '../../../appliance/client/lb';
import { loadConfig } from '../../../appliance/common/config';
import { OioError } from '../../../appliance/common/errors';
import { rootLogger, setLogSink } from '../../../appliance/common/log';
import type { ServiceRegistration } from '../../../appliance/common/model';

function rawx(i: number, stats = { cpu: 90, io: 90, space: 90 }): ServiceRegistration {
  return {
    type: 'rawx', addr: `127.0.0.1:${6200 + i}`, id: `rawx-${i}`, loc: `room1.rack1.node1.vol${i}`,
    tags: { 'tag.up': true, 'tag.vol': `/srv/v${i}`, 'stat.cpu': stats.cpu, 'stat.io': stats.io, 'stat.space': stats.space },
  };
}

describe('conscience (integration)', function () {
  let dataDir: string;
  let svc: ConscienceService;
  let client: ConscienceClient;
  let logs: string[] = [];
  const abort = new AbortController();

  async function startService(): Promise<void> {
    svc = new ConscienceService({ host: '127.0.0.1', port: 0 });
    const config = loadConfig({ overrides: { namespace: 'ITEST', 'ns.score_variation_bound': 100, 'ns.bulletin_refresh': '100ms' } });
    await svc.start({ config, log: rootLogger, signal: abort.signal, dataDir, conscienceAddrs: [] });
    client = new ConscienceClient([svc.addr]);
  }

  before(async () => {
    setLogSink({ write: (l) => { logs.push(l); } });
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'oio-conscience-'));
    await startService();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') process.stdout.write(logs.join(''));
    logs = [];
  });

  after(async () => {
    await svc.stop();
    setLogSink({ write: (l) => process.stdout.write(l) });
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('binds a real port and serves the namespace info', async () => {
    assert.match(svc.addr, /^127\.0\.0\.1:\d+$/);
    assert.notEqual(svc.addr, '127.0.0.1:0');
    const info = await client.conscienceInfo();
    assert.equal(info.ns, 'ITEST');
    assert.equal(info.storagePolicies.THREECOPIES, 'NONE:DUPONETHREE');
    assert.equal(info.bulletinRefreshMs, 100);
  });

  it('registers services and lists them with scores in the bulletin', async () => {
    await client.conscienceRegister([1, 2, 3, 4].map((i) => rawx(i)).concat([{ type: 'meta2', addr: '127.0.0.1:6120', tags: { 'stat.cpu': 50, 'stat.io': 50, 'stat.space': 50 } }]));
    const list = await client.conscienceList('rawx');
    assert.equal(list.length, 4);
    for (const s of list) assert.equal(s.score, 90);
    const bulletin = await client.conscienceBulletin();
    assert.equal(bulletin.ns, 'ITEST');
    assert.equal(bulletin.services.length, 5);
    assert.equal(bulletin.services.find((s) => s.type === 'meta2')?.score, 50);
  });

  it('locks and unlocks a score', async () => {
    await client.conscienceLock('rawx', 'rawx-1', 3);
    await client.conscienceRegister([rawx(1)]);
    let s = (await client.conscienceList('rawx')).find((x) => x.id === 'rawx-1')!;
    assert.equal(s.score, 3);
    assert.equal(s.locked, true);
    const saved = JSON.parse(fs.readFileSync(path.join(dataDir, 'locks.json'), 'utf8')) as Array<{ id: string; score: number }>;
    assert.deepEqual(saved.map((l) => [l.id, l.score]), [['rawx-1', 3]]);
    await client.conscienceUnlock('rawx', 'rawx-1');
    await client.conscienceRegister([rawx(1)]);
    s = (await client.conscienceList('rawx')).find((x) => x.id === 'rawx-1')!;
    assert.equal(s.locked, false);
    assert.equal(s.score, 90);
  });

  it('answers SERVICE_NOT_FOUND for an unknown service', async () => {
    await assert.rejects(client.conscienceLock('rawx', 'nope'), (e: unknown) => e instanceof OioError && e.code === 'SERVICE_NOT_FOUND');
  });

  it('chooses services for a policy, a type and refuses what cannot be satisfied', async () => {
    const three = await client.lbChoose({ policy: 'THREECOPIES' });
    assert.equal(three.length, 3);
    assert.equal(new Set(three.map((s) => s.id)).size, 3);
    const one = await client.lbChoose({ type: 'meta2', count: 1 });
    assert.deepEqual(one.map((s) => s.addr), ['127.0.0.1:6120']);
    const avoided = await client.lbChoose({ policy: 'THREECOPIES', avoid: ['rawx-4'] });
    assert.deepEqual(avoided.map((s) => s.id).sort(), ['rawx-1', 'rawx-2', 'rawx-3']);
    await assert.rejects(client.lbChoose({ policy: 'THREECOPIES', avoid: ['rawx-1', 'rawx-2'] }),
      (e: unknown) => e instanceof OioError && e.code === 'POLICY_NOT_SATISFIABLE' && /needed 3/.test(e.message));
    await assert.rejects(client.lbChoose({ policy: 'NOPE' }), (e: unknown) => e instanceof OioError && e.code === 'BAD_REQUEST');
  });

  it('feeds a client-side LoadBalancer that refreshes in the background', async () => {
    const lb = new LoadBalancer(client);
    await lb.start();
    try {
      assert.equal(lb.get('rawx').length, 4);
      assert.equal(lb.choose({ policy: 'TWOCOPIES' }).services.length, 2);
      await client.conscienceRegister([rawx(5)]);
      const deadline = Date.now() + 3000;
      while (!lb.byId('rawx-5') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(lb.byId('rawx-5')?.addr, '127.0.0.1:6205');
    } finally {
      lb.stop();
    }
  });

  it('deregisters a service', async () => {
    await client.conscienceDeregister('rawx', 'rawx-5');
    assert.equal((await client.conscienceList('rawx')).some((s) => s.id === 'rawx-5'), false);
  });

  it('keeps locks across a restart', async () => {
    await client.conscienceLock('rawx', 'rawx-2', 11);
    await svc.stop();
    await startService();
    assert.equal((await client.conscienceList('rawx')).length, 0);
    await client.conscienceRegister([rawx(2)]);
    const s = (await client.conscienceList('rawx'))[0]!;
    assert.equal(s.score, 11);
    assert.equal(s.locked, true);
  });

  it('refuses to start with a bad score expression, naming the key', async () => {
    const bad = new ConscienceService({ host: '127.0.0.1', port: 0 });
    const config = loadConfig({ overrides: { 'ns.score_expr': { rawx: { put: 'root(3', get: '1' } } } });
    await assert.rejects(bad.start({ config, log: rootLogger, signal: abort.signal, dataDir, conscienceAddrs: [] }), /ns\.score_expr \(rawx\.put\)/);
  });

  it('after a start with a warm-up, waits for it before it lists or places', async () => {
    const warming = new ConscienceService({ host: '127.0.0.1', port: 0, warmupMs: 800 });
    const config = loadConfig({ overrides: { namespace: 'ITEST' } });
    const t0 = Date.now();
    await warming.start({ config, log: rootLogger, signal: abort.signal, dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'oio-conscience-')), conscienceAddrs: [] });
    try {
      const c = new ConscienceClient([warming.addr]);
      // Registrations are taken at once; the answers wait until the whole grid had its turn.
      await c.conscienceRegister([1, 2, 3].map((i) => rawx(i)));
      const list = await c.conscienceList('rawx');
      assert.ok(Date.now() - t0 >= 790, `answered ${Date.now() - t0} ms after start`);
      assert.equal(list.length, 3);
      const t1 = Date.now();
      await c.lbChoose({ type: 'rawx', count: 1 });
      assert.ok(Date.now() - t1 < 500, 'no wait once warm');
    } finally {
      await warming.stop();
    }
  });

  it('gives a directory base fewer replicas only when the grid has fewer nodes', async () => {
    const m2 = (host: string, up = true): ServiceRegistration => ({ type: 'meta2', addr: `${host}:6120`, loc: host, tags: { 'tag.up': up, 'stat.cpu': 50, 'stat.io': 50, 'stat.space': 50 } });
    const only = new ConscienceService({ host: '127.0.0.1', port: 0 });
    await only.start({ config: loadConfig({ overrides: { namespace: 'ITEST', 'ns.score_variation_bound': 100 } }), log: rootLogger, signal: abort.signal, dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'oio-conscience-')), conscienceAddrs: [] });
    try {
      const c = new ConscienceClient([only.addr]);
      await c.conscienceRegister([m2('127.9.0.1'), m2('127.9.0.2')]);
      // Two nodes in the grid: two replicas.
      assert.equal((await chooseReplicaSet(c, 'meta2', 3)).split(',').length, 2);
      // A third node, down: three nodes exist, two can take a base, so none is created.
      await c.conscienceRegister([m2('127.9.0.3', false)]);
      await assert.rejects(chooseReplicaSet(c, 'meta2', 3), (e: unknown) => e instanceof OioError && e.code === 'UNAVAILABLE' && /3 nodes have one, only 2/.test(e.message));
      await c.conscienceRegister([m2('127.9.0.3')]);
      assert.deepEqual((await chooseReplicaSet(c, 'meta2', 3)).split(',').sort(), ['127.9.0.1:6120', '127.9.0.2:6120', '127.9.0.3:6120']);
    } finally {
      await only.stop();
    }
  });
});
