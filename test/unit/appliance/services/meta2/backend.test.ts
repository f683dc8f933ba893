/**
 * Unit tests of meta2's backend (no HTTP): containers, contents, versions and delete markers,
 * max_versions purge, links and reference-counted chunk deletes, quota, properties, names,
 * listings against a brute-force reference, and listing speed on one million contents.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cidOf } from '../../../../../appliance/common';
import type { ContentInfo } from '../../../../../appliance/common/model';
import { compareBytes, Meta2Backend, nextPrefix, CHUNK_DELETE, CONTAINER_USAGE } from '../../../../../appliance/services/meta2';

const ACCOUNT = 'acct';

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'meta2-unit-'));
}

function content(name: string, size = 10, chunks: string[] = [], extra: Partial<ContentInfo> = {}): Partial<ContentInfo> {
  return {
    name, version: 0, size, hash: 'ABCD', mime: 'text/plain', policy: 'SINGLE', chunkMethod: 'plain/nb_copy=1',
    chunks: chunks.map((url, i) => ({ url, pos: String(i), size, hash: 'AB' })), properties: {}, ...extra,
  };
}

/** The chunk URLs queued for deletion in a container base. */
function queuedDeletes(b: Meta2Backend, cid: string): string[] {
  return b.openBase(cid).all<{ payload: string }>(`SELECT payload FROM events WHERE type = ? ORDER BY id`, [CHUNK_DELETE])
    .map((r) => (JSON.parse(r.payload) as { url: string }).url);
}

function lastUsage(b: Meta2Backend, cid: string): Record<string, unknown> | undefined {
  const r = b.openBase(cid).get<{ payload: string }>(`SELECT payload FROM events WHERE type = ? ORDER BY id DESC LIMIT 1`, [CONTAINER_USAGE]);
  return r ? JSON.parse(r.payload) as Record<string, unknown> : undefined;
}

describe('meta2 backend', () => {
  let dir: string;
  let b: Meta2Backend;
  let n = 0;
  let cid: string;

  function newContainer(system: Record<string, number | string> = {}): string {
    const name = `c${++n}`;
    const c = cidOf(ACCOUNT, name);
    b.containerCreate({ cid: c, account: ACCOUNT, container: name, system });
    return c;
  }

  beforeEach(() => {
    n = 0;
    dir = tmpDir();
    b = new Meta2Backend({ dataDir: dir, defaultMaxVersions: 1, durable: false, maxOpenBases: 4 });
    cid = newContainer();
  });

  afterEach(() => {
    b.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('containers', () => {
    it('creates a base at <dataDir>/<CID[0:3]>/<CID>.meta2 and shows it', () => {
      assert.ok(fs.existsSync(path.join(dir, cid.slice(0, 3), `${cid}.meta2`)));
      const s = b.containerShow(cid);
      assert.equal(s.account, ACCOUNT);
      assert.equal(s.container, 'c1');
      assert.equal(s.objects, 0);
      assert.equal(s.bytes, 0);
    });

    it('refuses to create a container twice with CONTAINER_EXISTS', () => {
      assert.throws(() => b.containerCreate({ cid, account: ACCOUNT, container: 'c1' }), { code: 'CONTAINER_EXISTS' });
    });

    it('answers CONTAINER_NOT_FOUND for a missing base', () => {
      const missing = cidOf(ACCOUNT, 'nope');
      assert.throws(() => b.containerShow(missing), { code: 'CONTAINER_NOT_FOUND' });
      assert.throws(() => b.contentList(missing), { code: 'CONTAINER_NOT_FOUND' });
      assert.throws(() => b.contentCreate(missing, content('x')), { code: 'CONTAINER_NOT_FOUND' });
    });

    it('refuses a cid that does not match account and container', () => {
      assert.throws(() => b.containerCreate({ cid: cidOf('a', 'b'), account: 'a', container: 'c' }), { code: 'BAD_REQUEST' });
    });

    it('sets properties and system values, and resets them with null', () => {
      b.containerSet({ cid, properties: { a: '1', b: '2' }, system: { max_versions: 3, quota: 100 } });
      b.containerSet({ cid, properties: { c: '3' }, clear: true, system: { quota: null } });
      const s = b.containerShow(cid);
      assert.deepEqual(s.properties, { c: '3' });
      assert.deepEqual(s.system, { max_versions: 3 });
    });

    it('keeps working past the LRU size (handles are closed and reopened)', () => {
      const cids = Array.from({ length: 10 }, () => newContainer());
      for (const c of cids) b.contentCreate(c, content('o'));
      assert.ok(b.openCount <= 4);
      for (const c of cids) assert.equal(b.containerShow(c).objects, 1);
    });

    it('refuses to delete a non-empty container, then deletes with force and queues its chunks', () => {
      b.contentCreate(cid, content('o', 5, ['http://h:1/C1']));
      assert.throws(() => b.containerDelete(cid), { code: 'CONTAINER_NOT_EMPTY' });
      b.containerDelete(cid, true);
      assert.ok(!fs.existsSync(b.pathOf(cid)));
      assert.throws(() => b.containerShow(cid), { code: 'CONTAINER_NOT_FOUND' });
      const rows = b.dueEvents('_events', Date.now(), 100).map((r) => ({ type: r.type, p: JSON.parse(r.payload) as Record<string, unknown> }));
      assert.deepEqual(rows.filter((r) => r.type === CHUNK_DELETE).map((r) => r.p.url), ['http://h:1/C1']);
      const usage = rows.find((r) => r.type === CONTAINER_USAGE);
      assert.equal(usage?.p.deleted, true);
      assert.equal(usage?.p.container, 'c1');
    });

    it('lets a deleted container be created again', () => {
      b.containerDelete(cid);
      b.containerCreate({ cid, account: ACCOUNT, container: 'c1' });
      assert.equal(b.containerShow(cid).objects, 0);
    });
  });

  describe('contents', () => {
    it('assigns a version in microseconds and an id, and shows the stored content', () => {
      const before = Date.now() * 1000;
      const c = b.contentCreate(cid, content('a/b.txt', 42, ['http://h:1/X1'], { properties: { k: 'v' } }));
      assert.ok(c.version >= before);
      assert.match(c.id, /^[0-9A-F]{32}$/);
      const s = b.contentShow(cid, 'a/b.txt');
      assert.deepEqual(s, c);
      assert.equal(s.chunks[0]?.url, 'http://h:1/X1');
      assert.deepEqual(b.containerShow(cid), { ...b.containerShow(cid), objects: 1, bytes: 42 });
      assert.equal(lastUsage(b, cid)?.bytes, 42);
    });

    it('stores conditionally on the latest live version (none, or that one), checked in the write', () => {
      const first = b.contentCreate(cid, content('cond'), Date.now(), null);
      assert.throws(() => b.contentCreate(cid, content('cond'), Date.now(), null), { code: 'PRECONDITION_FAILED' });
      const second = b.contentCreate(cid, content('cond', 20), Date.now(), first.version);
      // The version the writer saw is no longer the latest: refused, nothing stored.
      assert.throws(() => b.contentCreate(cid, content('cond', 30), Date.now(), first.version), { code: 'PRECONDITION_FAILED' });
      assert.equal(b.contentShow(cid, 'cond').version, second.version);
      assert.equal(b.contentShow(cid, 'cond').size, 20);
      // Deleted (no live version): "none" holds again.
      b.contentDelete(cid, 'cond');
      assert.throws(() => b.contentCreate(cid, content('cond'), Date.now(), second.version), { code: 'PRECONDITION_FAILED' });
      assert.equal(b.contentCreate(cid, content('cond', 5), Date.now(), null).size, 5);
    });

    it('answers CONTENT_NOT_FOUND for a missing content', () => {
      assert.throws(() => b.contentShow(cid, 'nope'), { code: 'CONTENT_NOT_FOUND' });
      assert.throws(() => b.contentDelete(cid, 'nope'), { code: 'CONTENT_NOT_FOUND' });
    });

    it('refuses invalid names with INVALID_NAME', () => {
      assert.throws(() => b.contentCreate(cid, content('')), { code: 'INVALID_NAME' });
      assert.throws(() => b.contentCreate(cid, content('a\0b')), { code: 'INVALID_NAME' });
      assert.throws(() => b.contentCreate(cid, content('x'.repeat(1025))), { code: 'INVALID_NAME' });
      assert.throws(() => b.contentCreate(cid, content('bad\uD800')), { code: 'INVALID_NAME' });
      assert.throws(() => b.containerCreate({ cid: cidOf(ACCOUNT, ''), account: ACCOUNT, container: '' }), { code: 'INVALID_NAME' });
    });

    it('refuses a duplicate explicit version with CONTENT_EXISTS', () => {
      b.containerSet({ cid, system: { max_versions: -1 } });
      b.contentCreate(cid, content('v', 1, [], { version: 1000 }));
      assert.throws(() => b.contentCreate(cid, content('v', 1, [], { version: 1000 })), { code: 'CONTENT_EXISTS' });
    });

    it('replaces the previous version when versioning is off and queues its chunks', () => {
      b.contentCreate(cid, content('o', 10, ['http://h:1/A']));
      const v2 = b.contentCreate(cid, content('o', 20, ['http://h:1/B']));
      const all = b.contentList(cid, { versions: true }).objects;
      assert.deepEqual(all.map((c) => c.version), [v2.version]);
      assert.deepEqual(queuedDeletes(b, cid), ['http://h:1/A']);
      const s = b.containerShow(cid);
      assert.equal(s.objects, 1);
      assert.equal(s.bytes, 20);
    });

    it('makes the upload committed last the current one when asked (newest), whatever its version', () => {
      // Two overlapping uploads: "late" began first (lower version) but commits last.
      const early = b.contentCreate(cid, content('race', 10, ['http://h:1/E'], { version: 2000 }), Date.now(), undefined, true);
      const late = b.contentCreate(cid, content('race', 20, ['http://h:1/L'], { version: 1000 }), Date.now(), undefined, true);
      assert.ok(late.version > early.version);
      assert.equal(b.contentShow(cid, 'race').size, 20);
      assert.deepEqual(queuedDeletes(b, cid), ['http://h:1/E']);
      // Versioned: both kept, in commit order.
      const c2 = newContainer({ max_versions: -1 });
      const v1 = b.contentCreate(c2, content('race', 1, [], { version: 5000 }), Date.now(), undefined, true);
      const v2 = b.contentCreate(c2, content('race', 2, [], { version: 4000 }), Date.now(), undefined, true);
      assert.deepEqual(b.contentList(c2, { versions: true }).objects.map((c) => [c.version, c.size]), [[v2.version, 2], [v1.version, 1]]);
      // Without newest, an explicit older version stays older (and, versioning off, is purged at once).
      b.contentCreate(cid, content('race', 30, [], { version: 1500 }));
      assert.equal(b.contentShow(cid, 'race').size, 20);
    });

    it('removes the object on delete when versioning is off', () => {
      b.contentCreate(cid, content('o', 10, ['http://h:1/A']));
      const r = b.contentDelete(cid, 'o');
      assert.equal(r.marker, undefined);
      assert.equal(r.deleted?.name, 'o');
      assert.equal(b.contentList(cid, { versions: true }).objects.length, 0);
      assert.deepEqual(queuedDeletes(b, cid), ['http://h:1/A']);
      assert.equal(b.containerShow(cid).objects, 0);
    });

    it('creates a delete marker when versioning is on, hides the object, keeps old versions', () => {
      const c2 = newContainer({ max_versions: -1 });
      const v1 = b.contentCreate(c2, content('o', 10, ['http://h:1/A']));
      const r = b.contentDelete(c2, 'o');
      assert.equal(r.deleted?.version, v1.version);
      assert.ok(r.marker?.deleted);
      assert.throws(() => b.contentShow(c2, 'o'), { code: 'CONTENT_NOT_FOUND' });
      assert.equal(b.contentShow(c2, 'o', v1.version).size, 10);
      assert.equal(b.contentShow(c2, 'o', r.marker!.version).deleted, true);
      assert.deepEqual(b.contentList(c2).objects, []);
      assert.deepEqual(b.contentList(c2, { versions: true }).objects.map((c) => c.deleted), [true, false]);
      assert.deepEqual(queuedDeletes(b, c2), []);
      assert.equal(b.containerShow(c2).objects, 1);
    });

    it('stacks delete markers, and adds one where there is no object, when asked (marker)', () => {
      const c2 = newContainer({ max_versions: -1 });
      b.contentCreate(c2, content('o', 10));
      const first = b.contentDelete(c2, 'o', undefined, Date.now(), true);
      assert.equal(first.deleted?.size, 10);
      // Without the flag, a name whose latest version is a marker has nothing to delete.
      assert.throws(() => b.contentDelete(c2, 'o'), { code: 'CONTENT_NOT_FOUND' });
      const second = b.contentDelete(c2, 'o', undefined, Date.now(), true);
      assert.equal(second.deleted, undefined);
      assert.ok(second.marker!.version > first.marker!.version);
      b.contentDelete(c2, 'none', undefined, Date.now(), true);
      assert.deepEqual(b.contentList(c2, { versions: true }).objects.map((c) => [c.name, c.deleted]), [['none', true], ['o', true], ['o', true], ['o', false]]);
      // Versioning off: no marker, the object goes (or is not found).
      assert.throws(() => b.contentDelete(cid, 'none', undefined, Date.now(), true), { code: 'CONTENT_NOT_FOUND' });
    });

    it('removes one version (or a marker) on delete with a version', () => {
      const c2 = newContainer({ max_versions: -1 });
      const v1 = b.contentCreate(c2, content('o', 10, ['http://h:1/A']));
      const r = b.contentDelete(c2, 'o');
      b.contentDelete(c2, 'o', r.marker!.version);
      assert.equal(b.contentShow(c2, 'o').version, v1.version);
      b.contentDelete(c2, 'o', v1.version);
      assert.throws(() => b.contentShow(c2, 'o'), { code: 'CONTENT_NOT_FOUND' });
      assert.deepEqual(queuedDeletes(b, c2), ['http://h:1/A']);
    });

    it('uses the namespace default max_versions when the container has none', () => {
      const b2 = new Meta2Backend({ dataDir: path.join(dir, 'ns3'), defaultMaxVersions: 3, durable: false });
      try {
        b2.containerCreate({ cid, account: ACCOUNT, container: 'c1' });
        for (let i = 0; i < 5; i++) b2.contentCreate(cid, content('o', 1, [`http://h:1/V${i}`]));
        assert.equal(b2.contentList(cid, { versions: true }).objects.length, 3);
      } finally { b2.close(); }
    });

    it('keeps the N newest versions and purges older ones with their chunks', () => {
      const c2 = newContainer({ max_versions: 2 });
      const vs = [0, 1, 2, 3].map((i) => b.contentCreate(c2, content('o', 10 + i, [`http://h:1/V${i}`])));
      const kept = b.contentList(c2, { versions: true }).objects.map((c) => c.version);
      assert.deepEqual(kept, [vs[3]!.version, vs[2]!.version]);
      assert.deepEqual(queuedDeletes(b, c2), ['http://h:1/V0', 'http://h:1/V1']);
      const s = b.containerShow(c2);
      assert.equal(s.objects, 2);
      assert.equal(s.bytes, 25);
    });

    it('links a content under a new name with the same chunks and a new id', () => {
      const src = b.contentCreate(cid, content('src', 10, ['http://h:1/S0', 'http://h:1/S1'], { properties: { mode: '644' } }));
      const dst = b.contentLink(cid, 'src', 'dst');
      assert.equal(dst.name, 'dst');
      assert.notEqual(dst.id, src.id);
      assert.deepEqual(dst.chunks, src.chunks);
      assert.deepEqual(dst.properties, { mode: '644' });
      assert.deepEqual(b.contentShow(cid, 'dst').chunks, src.chunks);
    });

    it('deletes a chunk only when no content references its url any more', () => {
      b.contentCreate(cid, content('src', 10, ['http://h:1/S0']));
      b.contentLink(cid, 'src', 'dst');
      b.contentDelete(cid, 'src');
      assert.deepEqual(queuedDeletes(b, cid), []);
      b.contentDelete(cid, 'dst');
      assert.deepEqual(queuedDeletes(b, cid), ['http://h:1/S0']);
    });

    it('refuses a write over the quota with QUOTA_EXCEEDED and keeps nothing of it', () => {
      const c2 = newContainer({ quota: 100 });
      b.contentCreate(c2, content('a', 60));
      assert.throws(() => b.contentCreate(c2, content('b', 50)), { code: 'QUOTA_EXCEEDED' });
      assert.throws(() => b.contentShow(c2, 'b'), { code: 'CONTENT_NOT_FOUND' });
      assert.equal(b.containerShow(c2).bytes, 60);
      // replacing a version frees its bytes (versioning off): 60 -> 90 fits
      b.contentCreate(c2, content('a', 90));
      assert.equal(b.containerShow(c2).bytes, 90);
    });

    it('sets and deletes content properties', () => {
      b.contentCreate(cid, content('p', 1, [], { properties: { a: '1', b: '2' } }));
      const r = b.contentProperties(cid, 'p', { set: { c: '3', a: 'x' }, del: ['b'] });
      assert.deepEqual(r.properties, { a: 'x', c: '3' });
      assert.deepEqual(b.contentShow(cid, 'p').properties, { a: 'x', c: '3' });
    });

    it('records every write as a numbered operation of the base', () => {
      const base = b.openBase(cid);
      const before = base.lastSeq;
      b.contentCreate(cid, content('op'));
      assert.equal(base.lastSeq, before + 1);
    });
  });

  describe('nextPrefix', () => {
    it('gives the smallest string above every string with the prefix', () => {
      assert.equal(nextPrefix('a/'), 'a0');
      assert.equal(nextPrefix('a\u{10FFFF}'), 'b');
      assert.equal(nextPrefix('\u{10FFFF}'), undefined);
      assert.equal(nextPrefix('\uD7FF'), '\uE000');
      for (const s of ['a/\u{10FFFF}\u{10FFFF}', 'a/\uFFFF', 'a/\u{1F600}x']) assert.ok(compareBytes(s, nextPrefix('a/')!) < 0);
    });
  });

  describe('listing', () => {
    /** Brute-force reference: every page, from the full sorted list of visible entries. */
    function reference(names: Array<{ name: string; deleted: boolean }>, prefix: string, delimiter: string, marker: string, limit: number) {
      const entries = new Map<string, boolean>(); // key -> isPrefix
      for (const { name, deleted } of names) {
        if (deleted || !name.startsWith(prefix)) continue;
        const i = delimiter ? name.indexOf(delimiter, prefix.length) : -1;
        if (i >= 0) entries.set(name.slice(0, i + delimiter.length), true);
        else entries.set(name, false);
      }
      const sorted = [...entries.entries()].filter(([k]) => compareBytes(k, marker) > 0).sort(([a], [b2]) => compareBytes(a, b2));
      const page = sorted.slice(0, limit);
      return {
        objects: page.filter(([, p]) => !p).map(([k]) => k),
        prefixes: page.filter(([, p]) => p).map(([k]) => k),
        truncated: sorted.length > limit,
        next_marker: sorted.length > limit ? page[page.length - 1]![0] : undefined,
      };
    }

    function rng(seed: number): () => number {
      let s = seed >>> 0;
      return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
    }

    it('matches a brute-force reference on random names including unicode', () => {
      const c2 = newContainer({ max_versions: -1 });
      const rand = rng(42);
      const alphabet = ['a', 'b', '/', '-', 'z', 'é', '\uFFFD', '\uFF01', '\u{1F600}', '\u{10FFFF}', '0', '.', '~'];
      const pick = () => alphabet[Math.floor(rand() * alphabet.length)]!;
      const latest = new Map<string, boolean>();
      for (let i = 0; i < 600; i++) {
        const len = 1 + Math.floor(rand() * 6);
        let name = '';
        for (let j = 0; j < len; j++) name += pick();
        b.contentCreate(c2, content(name, 1));
        latest.set(name, false);
        if (rand() < 0.15) { b.contentDelete(c2, name); latest.set(name, true); }
      }
      const names = [...latest.entries()].map(([name, deleted]) => ({ name, deleted }));
      let checks = 0;
      for (const prefix of ['', 'a', 'a/', 'é', '\u{1F600}', 'b/\uFFFD', '\u{10FFFF}']) {
        for (const delimiter of ['', '/', '-', '\u{1F600}']) {
          for (const limit of [1, 3, 7, 1000]) {
            const startMarkers = ['', 'a', 'a/', 'b/z', '\uFFFD', '\u{1F600}', 'é/'];
            for (const start of startMarkers) {
              // Page through, comparing each page with the reference.
              let marker = start;
              for (let guard = 0; guard < 1000; guard++) {
                const got = b.contentList(c2, { prefix, delimiter, marker, limit });
                const want = reference(names, prefix, delimiter, marker, limit);
                assert.deepEqual({ objects: got.objects.map((o) => o.name), prefixes: got.prefixes, truncated: got.truncated, next_marker: got.next_marker }, want,
                  `prefix=${JSON.stringify(prefix)} delimiter=${JSON.stringify(delimiter)} marker=${JSON.stringify(marker)} limit=${limit}`);
                checks++;
                if (!got.truncated) break;
                marker = got.next_marker!;
              }
            }
          }
        }
      }
      assert.ok(checks > 500);
    });

    it('lists every version newest first and pages inside a name with version_marker', () => {
      const c2 = newContainer({ max_versions: -1 });
      const v = [1, 2, 3].map(() => b.contentCreate(c2, content('k', 1)).version);
      const m = b.contentDelete(c2, 'k').marker!.version;
      b.contentCreate(c2, content('l', 1));
      const p1 = b.contentList(c2, { versions: true, limit: 2 });
      assert.deepEqual(p1.objects.map((o) => [o.name, o.version]), [['k', m], ['k', v[2]]]);
      assert.equal(p1.truncated, true);
      const p2 = b.contentList(c2, { versions: true, limit: 2, marker: p1.next_marker, version_marker: p1.next_version_marker });
      assert.deepEqual(p2.objects.map((o) => [o.name, o.version]), [['k', v[1]], ['k', v[0]]]);
      const p3 = b.contentList(c2, { versions: true, limit: 2, marker: p2.next_marker, version_marker: p2.next_version_marker });
      assert.deepEqual(p3.objects.map((o) => o.name), ['l']);
      assert.equal(p3.truncated, false);
    });

    it('lists the latest version of names with many versions and hidden names', () => {
      const c2 = newContainer({ max_versions: -1 });
      for (let i = 0; i < 40; i++) b.contentCreate(c2, content('many', i));
      for (let i = 0; i < 40; i++) b.contentCreate(c2, content('gone', i));
      b.contentDelete(c2, 'gone');
      b.contentCreate(c2, content('next', 7));
      const l = b.contentList(c2);
      assert.deepEqual(l.objects.map((o) => [o.name, o.size]), [['many', 39], ['next', 7]]);
      assert.equal(b.contentList(c2, { versions: true }).objects.length, 82);
    });

    it('includes chunks only when asked', () => {
      b.contentCreate(cid, content('c', 1, ['http://h:1/C']));
      assert.deepEqual(b.contentList(cid).objects[0]?.chunks, []);
      assert.equal(b.contentList(cid, { chunks: true }).objects[0]?.chunks.length, 1);
    });

    it('lists a page of 1000 from the middle of 1,000,000 contents in well under a second', function () {
      this.timeout(120_000);
      const c2 = newContainer({ max_versions: -1 });
      const base = b.openBase(c2);
      const t0 = Date.now();
      // Setup: one write, one statement (recorded as one operation): d0/../d9/ each holding
      // 10,000 folders f00000/.. of 10 objects: 100,000 objects per top folder.
      base.write((tx) => {
        tx.run(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999999)
                INSERT INTO contents (name, version, id, size, hash, mime, policy, chunk_method, ctime, mtime, deleted)
                SELECT printf('d%d/f%05d/o%02d', i / 100000, (i / 10) % 10000, i % 10), 1, printf('%032X', i), 1, '', '', '', '', 0, 0, 0 FROM n`);
      }, 0);
      console.log(`      setup: 1,000,000 contents inserted in ${Date.now() - t0} ms`);
      const time = (label: string, f: () => ReturnType<Meta2Backend['contentList']>) => {
        const s = process.hrtime.bigint();
        const r = f();
        const ms = Number(process.hrtime.bigint() - s) / 1e6;
        console.log(`      ${label}: ${ms.toFixed(1)} ms (${r.objects.length} objects, ${r.prefixes.length} prefixes)`);
        assert.ok(ms < 1000, `${label} took ${ms} ms`);
        return r;
      };
      const r1 = time('prefix d5/ + delimiter / from the middle', () => b.contentList(c2, { prefix: 'd5/', delimiter: '/', marker: 'd5/f05000/', limit: 1000 }));
      assert.equal(r1.prefixes.length, 1000);
      assert.equal(r1.prefixes[0], 'd5/f05001/');
      assert.equal(r1.next_marker, 'd5/f06000/');
      const r2 = time('prefix d5/f05 without delimiter from the middle', () => b.contentList(c2, { prefix: 'd5/f05', marker: 'd5/f05500/o00', limit: 1000 }));
      assert.equal(r2.objects.length, 1000);
      assert.equal(r2.objects[0]?.name, 'd5/f05500/o01');
      const r3 = time('root with delimiter (10 prefixes of 100,000 objects each)', () => b.contentList(c2, { delimiter: '/' }));
      assert.deepEqual(r3.prefixes, Array.from({ length: 10 }, (_, i) => `d${i}/`));
      const r4 = time('prefix d5/ + delimiter f (one prefix of 100,000)', () => b.contentList(c2, { prefix: 'd5/', delimiter: 'f', limit: 1000 }));
      assert.deepEqual(r4.prefixes, ['d5/f']);
    });
  });
});
