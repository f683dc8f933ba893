/** Unit tests of the XDR encoder and bounds-checked decoder (RFC 4506). */
import assert from 'node:assert/strict';
import { XdrError, XdrReader, XdrWriter } from '../../../../fs-bridge/nfs/xdr';

describe('fs-bridge/nfs xdr', () => {
  it('round-trips integers, hypers, booleans, strings and opaques', () => {
    const big = Buffer.alloc(100_000, 7);
    const w = new XdrWriter(8).uint32(0xffffffff).int32(-5).uint64(2n ** 60n + 3n).uint64(12345).bool(true).bool(false)
      .string('héllo').opaque(Buffer.from([1, 2, 3])).fixedOpaque(Buffer.from([9])).opaque(big).uint32(42);
    const r = new XdrReader(w.toBuffer());
    assert.equal(r.uint32(), 0xffffffff);
    assert.equal(r.int32(), -5);
    assert.equal(r.uint64(), 2n ** 60n + 3n);
    assert.equal(r.uint64Number(), 12345);
    assert.equal(r.bool(), true);
    assert.equal(r.bool(), false);
    assert.equal(r.string(), 'héllo');
    assert.deepEqual([...r.opaque()], [1, 2, 3]);
    assert.deepEqual([...r.fixedOpaque(1)], [9]);
    assert.ok(r.opaque().equals(big));
    assert.equal(r.uint32(), 42);
    assert.equal(r.remaining, 0);
  });

  it('pads opaque data with zeros to a multiple of 4 bytes', () => {
    const b = new XdrWriter().opaque(Buffer.from('abcde')).toBuffer();
    assert.equal(b.length, 4 + 8);
    assert.deepEqual([...b.subarray(9)], [0, 0, 0]);
  });

  it('keeps large payloads as separate chunks without copying', () => {
    const big = Buffer.alloc(70_000, 1);
    const w = new XdrWriter().uint32(1).opaque(big);
    assert.ok(w.chunks().some((c) => c === big));
    assert.equal(w.length, 4 + 4 + 70_000);
  });

  it('throws XdrError on truncated input instead of reading past the end', () => {
    assert.throws(() => new XdrReader(Buffer.alloc(3)).uint32(), XdrError);
    assert.throws(() => new XdrReader(Buffer.alloc(7)).uint64(), XdrError);
    const lying = new XdrWriter().uint32(1000).toBuffer(); // opaque says 1000 bytes, has none
    assert.throws(() => new XdrReader(lying).opaque(), XdrError);
  });

  it('refuses opaques and strings over their maximum length', () => {
    const w = new XdrWriter().string('x'.repeat(300)).toBuffer();
    assert.throws(() => new XdrReader(w).string(255), /exceeds 255/);
  });

  it('refuses a boolean other than 0 or 1 and hypers above 2^53 as numbers', () => {
    assert.throws(() => new XdrReader(new XdrWriter().uint32(2).toBuffer()).bool(), XdrError);
    assert.throws(() => new XdrReader(new XdrWriter().uint64(2n ** 60n).toBuffer()).uint64Number(), XdrError);
  });

  it('reads optional data', () => {
    const r = new XdrReader(new XdrWriter().bool(true).uint32(5).bool(false).toBuffer());
    assert.equal(r.optional((x) => x.uint32()), 5);
    assert.equal(r.optional((x) => x.uint32()), undefined);
  });
});
