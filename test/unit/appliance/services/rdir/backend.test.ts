/**
 * Unit tests of the rdir backend (no HTTP): push/delete/fetch/status/clear on a real SQLite
 * base, paging against a brute-force reference, and the validation of every field.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { cidOf, newChunkId, newContentId } from '../../../../../appliance/common';
import type { RdirEntry } from '../../../../../appliance/client/remote/rdir';
import { RdirBackend, MAX_BATCH } from '../../../../../appliance/services/rdir';
import { tmpDir } from '../../../../helpers/tmp';

function entry(extra: Partial<RdirEntry> = {}): RdirEntry {
  return {
    container_id: cidOf('acct', 'c1'), content_id: newContentId(), chunk_id: newChunkId(), pos: '0', size: 100,
    hash: randomBytes(16).toString('hex').toUpperCase(), mtime: 1_700_000_000_000, content_path: 'a/b.txt',
    content_version: 1_700_000_000_000_000, policy: 'SINGLE', chunk_method: 'plain/nb_copy=1', ...extra,
  };
}

const key = (e: Pick<RdirEntry, 'container_id' | 'content_id' | 'chunk_id'>) => `${e.container_id}/${e.content_id}/${e.chunk_id}`;

describe('rdir backend', () => {
  let dir: string;
  let b: RdirBackend;
  beforeEach(() => {
    dir = tmpDir('rdir-unit-');
    b = RdirBackend.open(path.join(dir, 'rdir'), path.join(dir, 'vol'), { durable: false });
  });
  afterEach(() => b.close());

  it('lists pushed chunks with every field as pushed', () => {
    const e = entry({ hash: 'abcdef0123456789abcdef0123456789' });
    assert.equal(b.push([e]), 1);
    const page = b.fetch();
    assert.equal(page.truncated, false);
    assert.deepEqual(page.chunks, [{ ...e, hash: e.hash.toUpperCase() }]);
  });

  it('replaces the row of a chunk id pushed again (even under another content)', () => {
    const e = entry();
    b.push([e]);
    const moved = { ...e, content_id: newContentId(), pos: '1', size: 7 };
    b.push([moved]);
    assert.deepEqual(b.fetch().chunks, [moved]);
  });

  it('forgets deleted chunk ids and ignores unknown ones', () => {
    const [e1, e2] = [entry(), entry()];
    b.push([e1, e2]);
    assert.equal(b.delete([{ chunk_id: e1.chunk_id }, { chunk_id: newChunkId() }]), 1);
    assert.deepEqual(b.fetch().chunks.map((c) => c.chunk_id), [e2.chunk_id]);
  });

  it('pages in (container, content, chunk) order with a marker, as a sorted reference', () => {
    const cids = [cidOf('a', 'x'), cidOf('a', 'y'), cidOf('b', 'z')];
    const all: RdirEntry[] = [];
    for (let i = 0; i < 257; i++) all.push(entry({ container_id: cids[i % 3]!, content_id: i % 5 === 0 ? 'SAME' : newContentId() }));
    b.push(all);
    const want = all.map(key).sort();
    const got: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    for (;;) {
      const p = b.fetch({ marker, limit: 50 });
      pages++;
      got.push(...p.chunks.map(key));
      if (!p.truncated) break;
      marker = p.next_marker;
    }
    assert.deepEqual(got, want);
    assert.equal(pages, 6);
  });

  it('fetches one container only', () => {
    const other = cidOf('acct', 'c2');
    b.push([entry(), entry({ container_id: other }), entry({ container_id: other })]);
    const p = b.fetch({ containerId: other });
    assert.equal(p.chunks.length, 2);
    assert.ok(p.chunks.every((c) => c.container_id === other));
  });

  it('counts chunks and bytes per volume and per container', () => {
    const other = cidOf('acct', 'c2');
    b.push([entry({ size: 10 }), entry({ size: 5 }), entry({ container_id: other, size: 1 })]);
    const s = b.status();
    assert.equal(s.volume, path.join(dir, 'vol'));
    assert.deepEqual(s.chunks, { total: 3, bytes: 16 });
    assert.deepEqual(s.containers, { [cidOf('acct', 'c1')]: { total: 2, bytes: 15 }, [other]: { total: 1, bytes: 1 } });
  });

  it('clears everything, or only the rows last written before a time (end of a rebuild)', () => {
    const [old, fresh, repushed] = [entry(), entry(), entry()];
    b.push([old, repushed], 1000);
    b.push([fresh, repushed], 2000);
    assert.equal(b.clear(2000), 1);
    assert.deepEqual(b.fetch().chunks.map((c) => c.chunk_id).sort(), [fresh.chunk_id, repushed.chunk_id].sort());
    assert.equal(b.clear(), 2);
    assert.equal(b.fetch().chunks.length, 0);
  });

  it('keeps its entries across a close and reopen', () => {
    const e = entry();
    b.push([e]);
    b.close();
    b = RdirBackend.open(path.join(dir, 'rdir'), path.join(dir, 'vol'), { durable: false });
    assert.deepEqual(b.fetch().chunks, [e]);
    assert.ok(fs.existsSync(path.join(dir, 'rdir', 'rdir.db')));
  });

  describe('refuses bad input with BAD_REQUEST naming the field, writing nothing', () => {
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['a lowercase container id', { container_id: cidOf('a', 'b').toLowerCase() }, /chunks\[1\]\.container_id/],
      ['a short chunk id', { chunk_id: 'ABC' }, /chunks\[1\]\.chunk_id/],
      ['a content id with a slash', { content_id: 'a/b' }, /chunks\[1\]\.content_id/],
      ['a negative size', { size: -1 }, /chunks\[1\]\.size/],
      ['a size as a string', { size: '10' }, /chunks\[1\]\.size/],
      ['a bad position', { pos: 'x' }, /chunks\[1\]\.pos/],
      ['a non-hex hash', { hash: 'zz' }, /chunks\[1\]\.hash/],
      ['a missing mtime', { mtime: undefined }, /chunks\[1\]\.mtime/],
    ];
    for (const [what, patch, msg] of cases) {
      it(what, () => {
        assert.throws(() => b.push([entry(), { ...entry(), ...patch }]), (e: { code?: string; message?: string }) => e.code === 'BAD_REQUEST' && msg.test(e.message ?? ''));
        assert.equal(b.fetch().chunks.length, 0);
      });
    }
    it('a delete without a chunk id', () => {
      assert.throws(() => b.delete([{}]), { code: 'BAD_REQUEST' });
    });
    it('a malformed marker or limit', () => {
      assert.throws(() => b.fetch({ marker: 'nope' }), { code: 'BAD_REQUEST' });
      assert.throws(() => b.fetch({ limit: 0 }), { code: 'BAD_REQUEST' });
      assert.throws(() => b.fetch({ limit: 10_001 }), { code: 'BAD_REQUEST' });
      assert.throws(() => b.fetch({ containerId: 'x' }), { code: 'BAD_REQUEST' });
    });
    it(`more than ${MAX_BATCH} entries is the route's to refuse; an empty batch writes nothing`, () => {
      assert.equal(b.push([]), 0);
      assert.equal(b.delete([]), 0);
    });
  });
});
