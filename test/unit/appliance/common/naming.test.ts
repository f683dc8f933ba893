/** Unit tests of the ids: random hex from a pooled CSPRNG buffer, chunk and content ids. */
import assert from 'node:assert/strict';
import { isChunkId, newChunkId, newContentId, randomHex } from '../../../../appliance/common';

describe('common/naming ids', () => {
  it('gives hex of the asked length, never the same bytes twice across pool refills', () => {
    const seen = new Set<string>();
    // 3,000 x 32 bytes: the 4 KiB pool is refilled about 23 times
    for (let i = 0; i < 3000; i++) {
      const h = randomHex(32);
      assert.match(h, /^[0-9a-f]{64}$/);
      assert.ok(!seen.has(h), `duplicate id after ${i} calls`);
      seen.add(h);
    }
    assert.match(randomHex(5000), /^[0-9a-f]{10000}$/);
    assert.equal(randomHex(0), '');
  });

  it('makes chunk ids of 64 and content ids of 32 uppercase hex digits', () => {
    const c = newChunkId();
    assert.ok(isChunkId(c), c);
    assert.notEqual(newChunkId(), c);
    assert.match(newContentId(), /^[0-9A-F]{32}$/);
  });
});
