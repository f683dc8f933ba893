/**
 * @module test/integration/directory/meta0-meta1-account
 * The directory services (meta0, meta1, account) running for real on 127.0.0.1 in a temp
 * folder, driven through their client stubs: init and lookups, links through a conscience,
 * account usage ordering and idempotence, persistence across a restart.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cidOf, isCid, loadConfig, OioError, prefixOf, rootLogger, setLogLevel } from '../../../appliance/common';
import { AccountClient, ConscienceClient, Meta0Client, Meta1Client } from '../../../appliance/client/remote';
import { ConscienceService } from '../../../appliance/services/conscience';
import { Meta0Service } from '../../../appliance/services/meta0';
import { Meta1Service } from '../../../appliance/services/meta1';
import { AccountService } from '../../../appliance/services/account';
import type { Service, ServiceContext } from '../../../appliance/runtime/service';

function ctxFor(dataDir: string, conscienceAddrs: string[]): ServiceContext {
  fs.mkdirSync(dataDir, { recursive: true });
  return {
    config: loadConfig({ overrides: { access_log: false, 'ns.directory_replicas': 1 } }),
    log: rootLogger.child({ test: 'directory' }),
    signal: new AbortController().signal,
    dataDir,
    conscienceAddrs,
  };
}

const META2 = { type: 'meta2', addr: '127.0.0.1:6120', tags: { 'tag.up': true, 'stat.cpu': 90, 'stat.io': 90, 'stat.space': 90 } };

async function rejectsWithCode(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof OioError && e.code === code);
}

describe('directory services: meta0, meta1, account', function () {
  let tmp: string;
  let conscience: ConscienceService;
  let conscienceAddr: string;
  const running: Service[] = [];

  async function startService<S extends Service>(svc: S, sub: string): Promise<S> {
    await svc.start(ctxFor(path.join(tmp, sub), [conscienceAddr]));
    running.push(svc);
    return svc;
  }

  async function stopService(svc: Service): Promise<void> {
    await svc.stop();
    running.splice(running.indexOf(svc), 1);
  }

  before(async () => {
    setLogLevel('warn');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oio-dir-'));
    // The real conscience, with one meta2 registered (its address is only a name here).
    conscience = new ConscienceService({ host: '127.0.0.1', port: 0 });
    await conscience.start(ctxFor(path.join(tmp, 'conscience'), []));
    conscienceAddr = conscience.addr;
    await new ConscienceClient([conscienceAddr]).conscienceRegister([META2]);
  });

  after(async () => {
    for (const s of [...running].reverse()) await s.stop();
    await conscience.stop();
    setLogLevel('info');
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  describe('meta0', () => {
    it('answers SERVICE_NOT_FOUND before init and an empty list', async () => {
      const svc = await startService(new Meta0Service({ host: '127.0.0.1', port: 0 }), 'meta0-empty');
      const c = new Meta0Client(svc.addr);
      await rejectsWithCode(c.meta0Get('ABCD'), 'SERVICE_NOT_FOUND');
      assert.deepEqual(await c.meta0List(), {});
      await stopService(svc);
    });

    it('maps all 65,536 prefixes round-robin, keeps the map on a second init, replaces it with force, and persists', async () => {
      let svc = await startService(new Meta0Service({ host: '127.0.0.1', port: 0 }), 'meta0');
      assert.match(svc.addr, /^127\.0\.0\.1:\d+$/);
      assert.notEqual(svc.addr, '127.0.0.1:0');
      let c = new Meta0Client(svc.addr);
      const m1 = ['127.0.0.1:7001', '127.0.0.1:7002', '127.0.0.1:7003', '127.0.0.1:7004'];
      await c.meta0Init(m1);
      const all = await c.meta0List();
      assert.equal(Object.keys(all).length, 65_536);
      assert.deepEqual(all['0000'], ['127.0.0.1:7001', '127.0.0.1:7002', '127.0.0.1:7003']);
      assert.deepEqual(all['0001'], ['127.0.0.1:7002', '127.0.0.1:7003', '127.0.0.1:7004']);
      assert.deepEqual(all['0003'], ['127.0.0.1:7004', '127.0.0.1:7001', '127.0.0.1:7002']);
      // Round-robin: each meta1 holds the same share (3 replicas x 65,536 / 4).
      const share = new Map<string, number>();
      for (const list of Object.values(all)) for (const a of list) share.set(a, (share.get(a) ?? 0) + 1);
      for (const a of m1) assert.equal(share.get(a), 49_152);
      assert.deepEqual((await c.meta0Get('ffff')).meta1, all.FFFF);
      await rejectsWithCode(c.meta0Get('XYZ1'), 'BAD_REQUEST');

      await c.meta0Init(['127.0.0.1:8000']);
      assert.deepEqual((await c.meta0Get('0000')).meta1, all['0000'], 'second init without force keeps the map');
      await rejectsWithCode(c.meta0Init(['127.0.0.1:8000'], { replicas: 2 }), 'BAD_REQUEST');
      await c.meta0Init(['127.0.0.1:8000', '127.0.0.1:8001'], { replicas: 1, force: true });
      assert.deepEqual((await c.meta0Get('0000')).meta1, ['127.0.0.1:8000']);
      assert.deepEqual((await c.meta0Get('0001')).meta1, ['127.0.0.1:8001']);

      await stopService(svc);
      svc = await startService(new Meta0Service({ host: '127.0.0.1', port: 0 }), 'meta0');
      c = new Meta0Client(svc.addr);
      assert.deepEqual((await c.meta0Get('0001')).meta1, ['127.0.0.1:8001'], 'the map survives a restart');
      assert.equal(Object.keys(await c.meta0List()).length, 65_536);
    });
  });

  describe('meta1', () => {
    it('links a service chosen by the conscience, idempotently, and unlinks and destroys', async () => {
      const svc = await startService(new Meta1Service({ host: '127.0.0.1', port: 0 }), 'meta1');
      const c = new Meta1Client(svc.addr, 'req-test-1');
      const cid = cidOf('acct', 'bucket-1');
      await rejectsWithCode(c.meta1Show(cid), 'CONTAINER_NOT_FOUND');
      const ref = await c.meta1Link({ cid, account: 'acct', container: 'bucket-1', type: 'meta2' });
      assert.deepEqual(ref, { cid, account: 'acct', container: 'bucket-1', services: [{ type: 'meta2', addr: '127.0.0.1:6120', seq: 1 }] });
      // With the only meta2 locked to 0 no new choice can be made: the link is answered as is.
      await new ConscienceClient([conscienceAddr]).conscienceLock('meta2', '127.0.0.1:6120', 0);
      try {
        assert.deepEqual(await c.meta1Link({ cid, account: 'acct', container: 'bucket-1', type: 'meta2' }), ref, 'link is idempotent, no second choice');
        await rejectsWithCode(c.meta1Link({ cid: cidOf('acct', 'bucket-2'), account: 'acct', container: 'bucket-2', type: 'meta2' }), 'UNAVAILABLE');
      } finally {
        await new ConscienceClient([conscienceAddr]).conscienceUnlock('meta2', '127.0.0.1:6120');
        await new ConscienceClient([conscienceAddr]).conscienceRegister([META2]);
      }
      assert.deepEqual(await c.meta1Show(cid), ref);
      assert.ok(fs.existsSync(path.join(tmp, 'meta1', `${prefixOf(cid)}.meta1`)), 'one base per prefix');

      await rejectsWithCode(c.meta1Link({ cid, account: 'acct', container: 'bucket-1', type: 'rdir' }), 'POLICY_NOT_SATISFIABLE');
      assert.deepEqual(await c.meta1Show(cid), ref, 'a failed choice writes nothing');

      await c.meta1Unlink(cid, 'meta2');
      assert.deepEqual((await c.meta1Show(cid)).services, []);
      await c.meta1Destroy(cid);
      await rejectsWithCode(c.meta1Show(cid), 'CONTAINER_NOT_FOUND');
      await rejectsWithCode(c.meta1Destroy(cid), 'CONTAINER_NOT_FOUND');
    });

    it('validates cid, names and type', async () => {
      const svc = running.find((s) => s.type === 'meta1')!;
      const c = new Meta1Client(svc.addr);
      const cid = cidOf('acct', 'b');
      await rejectsWithCode(c.meta1Show('abc'), 'BAD_REQUEST');
      await rejectsWithCode(c.meta1Show(cid.toLowerCase()), 'BAD_REQUEST');
      await rejectsWithCode(c.meta1Link({ cid, account: '', container: 'b', type: 'meta2' }), 'INVALID_NAME');
      await rejectsWithCode(c.meta1Link({ cid, account: 'acct', container: 'other', type: 'meta2' }), 'BAD_REQUEST');
      await rejectsWithCode(c.meta1Link({ cid, account: 'acct', container: 'b', type: 'Bad Type' }), 'BAD_REQUEST');
    });

    it('keeps links across a restart, with a tiny LRU of open bases', async () => {
      let svc = running.find((s) => s.type === 'meta1')!;
      await stopService(svc);
      svc = await startService(new Meta1Service({ host: '127.0.0.1', port: 0, maxOpenBases: 2 }), 'meta1');
      let c = new Meta1Client(svc.addr);
      const names = Array.from({ length: 8 }, (_, i) => `lru-${i}`);
      for (const n of names) await c.meta1Link({ cid: cidOf('acct', n), account: 'acct', container: n, type: 'meta2' });
      for (const n of names) assert.equal((await c.meta1Show(cidOf('acct', n))).container, n);
      await stopService(svc);
      svc = await startService(new Meta1Service({ host: '127.0.0.1', port: 0 }), 'meta1');
      c = new Meta1Client(svc.addr);
      for (const n of names) {
        const ref = await c.meta1Show(cidOf('acct', n));
        assert.ok(isCid(ref.cid));
        assert.deepEqual(ref.services, [{ type: 'meta2', addr: '127.0.0.1:6120', seq: 1 }]);
      }
    });
  });

  describe('account', () => {
    let c: AccountClient;
    let svc: AccountService;

    before(async () => {
      svc = await startService(new AccountService({ host: '127.0.0.1', port: 0 }), 'account');
      c = new AccountClient(svc.addr);
    });

    it('creates idempotently, shows, lists and answers ACCOUNT_NOT_FOUND', async () => {
      await rejectsWithCode(c.accountShow('alice'), 'ACCOUNT_NOT_FOUND');
      await c.accountCreate('alice');
      const a = await c.accountShow('alice');
      await c.accountCreate('alice');
      assert.deepEqual(await c.accountShow('alice'), a);
      assert.deepEqual({ ...a, ctime: 0 }, { id: 'alice', ctime: 0, containers: 0, objects: 0, bytes: 0 });
      assert.ok(a.ctime > 0);
      await c.accountCreate('bob');
      assert.deepEqual(await c.accountList(), ['alice', 'bob']);
      await rejectsWithCode(c.accountCreate(''), 'INVALID_NAME');
      await rejectsWithCode(c.accountContainers('nobody'), 'ACCOUNT_NOT_FOUND');
    });

    it('applies updates with absolute values, ignores older ones, in any order', async () => {
      const updates = [
        { id: 'ord1', container: 'c', objects: 1, bytes: 10, mtime: 100 },
        { id: 'ord1', container: 'c', objects: 5, bytes: 50, mtime: 300 },
        { id: 'ord1', container: 'c', objects: 3, bytes: 30, mtime: 200 },
      ];
      for (const u of updates) await c.accountContainerUpdate(u);
      for (const u of [...updates].reverse()) await c.accountContainerUpdate({ ...u, id: 'ord2' });
      for (const u of [...updates, ...updates]) await c.accountContainerUpdate({ ...u, id: 'ord3' }); // replays
      for (const id of ['ord1', 'ord2', 'ord3']) {
        const s = await c.accountShow(id); // auto-created by the update
        assert.deepEqual({ ...s, ctime: 0 }, { id, ctime: 0, containers: 1, objects: 5, bytes: 50 }, id);
        // The creation time is the first update's, whatever the order.
        assert.deepEqual((await c.accountContainers(id)).containers, [{ name: 'c', objects: 5, bytes: 50, mtime: 300, ctime: 100 }]);
      }
    });

    it('removes a deleted container and does not let an older update bring it back', async () => {
      await c.accountContainerUpdate({ id: 'del', container: 'keep', objects: 2, bytes: 20, mtime: 100 });
      await c.accountContainerUpdate({ id: 'del', container: 'gone', objects: 1, bytes: 7, mtime: 100 });
      await c.accountContainerUpdate({ id: 'del', container: 'gone', objects: 0, bytes: 0, mtime: 200, deleted: true });
      await c.accountContainerUpdate({ id: 'del', container: 'gone', objects: 4, bytes: 9, mtime: 150 });
      assert.deepEqual((await c.accountContainers('del')).containers.map((x) => x.name), ['keep']);
      const s = await c.accountShow('del');
      assert.deepEqual([s.containers, s.objects, s.bytes], [1, 2, 20]);
      await c.accountContainerUpdate({ id: 'del', container: 'gone', objects: 1, bytes: 1, mtime: 300 });
      assert.deepEqual((await c.accountContainers('del')).containers.map((x) => x.name), ['gone', 'keep'], 'a newer create revives it');
      await rejectsWithCode(c.accountContainerUpdate({ id: 'del', container: 'x', objects: -1, bytes: 0, mtime: 1 }), 'BAD_REQUEST');
    });

    it('lists containers in byte order with prefix, marker, limit and next_marker', async () => {
      const names = ['b', 'a/2', 'a/1', 'é', 'Z', 'a/10', 'c'];
      for (const [i, n] of names.entries()) await c.accountContainerUpdate({ id: 'lst', container: n, objects: i, bytes: i, mtime: 1 });
      const sorted = [...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      const seen: string[] = [];
      let marker: string | undefined;
      for (;;) {
        const page = await c.accountContainers('lst', { limit: 3, marker });
        seen.push(...page.containers.map((x) => x.name));
        if (!page.truncated) { assert.equal(page.next_marker, undefined); break; }
        assert.equal(page.containers.length, 3);
        marker = page.next_marker;
      }
      assert.deepEqual(seen, sorted);
      assert.deepEqual(sorted, ['Z', 'a/1', 'a/10', 'a/2', 'b', 'c', 'é']);
      const pre = await c.accountContainers('lst', { prefix: 'a/', limit: 2 });
      assert.deepEqual(pre.containers.map((x) => x.name), ['a/1', 'a/10']);
      assert.equal(pre.truncated, true);
      const pre2 = await c.accountContainers('lst', { prefix: 'a/', marker: pre.next_marker });
      assert.deepEqual(pre2.containers.map((x) => x.name), ['a/2']);
      assert.equal(pre2.truncated, false);
      await rejectsWithCode(c.accountContainers('lst', { limit: 0 }), 'BAD_REQUEST');
    });

    it('keeps accounts and usage across a restart', async () => {
      const beforeShow = await c.accountShow('ord1');
      const beforeList = await c.accountList();
      await stopService(svc);
      svc = await startService(new AccountService({ host: '127.0.0.1', port: 0 }), 'account');
      c = new AccountClient(svc.addr);
      assert.deepEqual(await c.accountShow('ord1'), beforeShow);
      assert.deepEqual(await c.accountList(), beforeList);
      await c.accountContainerUpdate({ id: 'ord1', container: 'c', objects: 9, bytes: 9, mtime: 250 });
      assert.equal((await c.accountShow('ord1')).objects, 5, 'older than the stored mtime, still ignored after restart');
    });
  });
});
