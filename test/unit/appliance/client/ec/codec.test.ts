/**
 * Unit tests of client/ec: both Reed-Solomon codecs (every erasure pattern of up to m shards
 * for small k/m, stripes large enough to go through the worker pool), the fragment layout
 * around cell and stripe boundaries, chunk method round trips.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  cellSize, codecFor, defaultCell, ecMethodFor, fragmentSize, nativeCodecError, parseEcMethod, preferredAlgo,
  stripeBytes, stripeCount, stripeDataBytes, CELL_TRAILER_BYTES, type EcAlgo, type EcParams,
} from '../../../../../appliance/client/ec';

/** Every subset of {0..n-1} of size 1..max. */
function subsets(n: number, max: number): number[][] {
  const out: number[][] = [];
  for (let mask = 1; mask < 1 << n; mask++) {
    const s: number[] = [];
    for (let i = 0; i < n; i++) if (mask & (1 << i)) s.push(i);
    if (s.length <= max) out.push(s);
  }
  return out;
}

const nativeMissing = nativeCodecError();

function codecSuite(algo: EcAlgo): void {
  describe(`codec ${algo}`, () => {
    before(function () {
      if (algo === 'ronomon_cauchy' && nativeMissing) {
        if (process.env.CI === 'true') throw new Error(`native codec missing under CI: ${nativeMissing}`);
        this.skip();
      }
    });

    for (const [k, m] of [[2, 1], [3, 2], [4, 2], [6, 3]] as const) {
      it(`rebuilds every pattern of up to ${m} lost shards of ${k}+${m}`, async () => {
        const codec = codecFor(algo, k, m);
        const cell = 64;
        const data = randomBytes(k * cell);
        const parity = Buffer.alloc(m * cell);
        await codec.encode(k, m, cell, data, parity);
        assert.ok(!parity.equals(Buffer.alloc(m * cell)), 'parity is not all zero');
        for (const lost of subsets(k + m, m)) {
          const d = Buffer.from(data);
          const p = Buffer.from(parity);
          for (const i of lost) (i < k ? d : p).fill(0xa5, (i < k ? i : i - k) * cell, (i < k ? i + 1 : i - k + 1) * cell);
          const present = Array.from({ length: k + m }, (_, i) => i).filter((i) => !lost.includes(i));
          await codec.reconstruct(k, m, cell, d, p, present, lost);
          assert.ok(d.equals(data), `data rebuilt after losing ${lost.join(',')}`);
          assert.ok(p.equals(parity), `parity rebuilt after losing ${lost.join(',')}`);
        }
      });
    }

    it('encodes and rebuilds a 14+4 stripe of 1 MiB (worker pool for the portable codec)', async () => {
      const k = 14;
      const m = 4;
      const cell = defaultCell(k);
      const codec = codecFor(algo, k, m);
      const data = randomBytes(k * cell);
      const parity = Buffer.alloc(m * cell);
      await codec.encode(k, m, cell, data, parity);
      const d = Buffer.from(data);
      const p = Buffer.from(parity);
      d.fill(0, 0, 2 * cell);
      d.fill(0, 9 * cell, 10 * cell);
      p.fill(0, 3 * cell, 4 * cell);
      const lost = [0, 1, 9, k + 3];
      await codec.reconstruct(k, m, cell, d, p, Array.from({ length: k + m }, (_, i) => i).filter((i) => !lost.includes(i)), lost);
      assert.ok(d.equals(data));
      assert.ok(p.equals(parity));
    });

    it('gives the same parity for buffers at odd offsets (unaligned) as for aligned ones', async () => {
      const k = 4;
      const m = 2;
      const cell = 4096;
      const codec = codecFor(algo, k, m);
      const data = Buffer.from(randomBytes(k * cell));
      const aligned = Buffer.alloc(m * cell);
      await codec.encode(k, m, cell, data, aligned);
      const odd = Buffer.alloc(k * cell + 1).subarray(1);
      data.copy(odd);
      const oddParity = Buffer.alloc(m * cell + 3).subarray(3);
      await codec.encode(k, m, cell, odd, oddParity);
      assert.ok(oddParity.equals(aligned));
      odd.fill(0, cell, 2 * cell);
      await codec.reconstruct(k, m, cell, odd, oddParity, [0, 2, 3, 4], [1]);
      assert.ok(odd.equals(data));
    });

    it('refuses to rebuild from fewer than k shards', async () => {
      const codec = codecFor(algo, 4, 2);
      await assert.rejects(codec.reconstruct(4, 2, 8, Buffer.alloc(32), Buffer.alloc(16), [0, 1, 2], [3, 4, 5]), /needed|present/);
    });
  });
}

describe('client/ec/codec', () => {
  codecSuite('js_rs_vand');
  codecSuite('ronomon_cauchy');

  it('both codecs are systematic (data shards unchanged) but record which one made the parity', async function () {
    if (nativeMissing) { if (process.env.CI === 'true') throw new Error(nativeMissing); this.skip(); }
    const k = 6;
    const m = 3;
    const cell = 1024;
    const data = randomBytes(k * cell);
    const pa = Buffer.alloc(m * cell);
    const pb = Buffer.alloc(m * cell);
    const d1 = Buffer.from(data);
    const d2 = Buffer.from(data);
    await codecFor('ronomon_cauchy', k, m).encode(k, m, cell, d1, pa);
    await codecFor('js_rs_vand', k, m).encode(k, m, cell, d2, pb);
    assert.ok(d1.equals(data) && d2.equals(data));
    // Different codes: parity bytes differ, which is why the chunk method names the algo.
    assert.ok(!pa.equals(pb));
    assert.equal(preferredAlgo(k, m), 'ronomon_cauchy');
    assert.equal(preferredAlgo(30, 3), 'js_rs_vand');
  });

  it('names the missing native codec when asked for an unknown algorithm', () => {
    assert.throws(() => codecFor('liberasurecode_rs_vand', 6, 3), (e: Error & { code?: string }) => e.code === 'NOT_IMPLEMENTED' && /liberasurecode_rs_vand/.test(e.message));
  });
});

describe('client/ec/layout', () => {
  const p: EcParams = { k: 6, m: 3, algo: 'js_rs_vand', cell: defaultCell(6) };
  const G = stripeBytes(p);

  for (const size of [0, 1, 7, 8, 48, 49, G - 1, G, G + 1, 3 * G, 3 * G + 1]) {
    it(`covers a metachunk of ${size} bytes with cells of multiples of 8`, () => {
      const n = stripeCount(p, size);
      let covered = 0;
      let frag = 0;
      for (let s = 0; s < n; s++) {
        const c = cellSize(p, size, s);
        assert.equal(c % 8, 0);
        assert.ok(c * p.k >= stripeDataBytes(p, size, s), 'k cells hold the stripe');
        assert.ok(c <= p.cell);
        covered += stripeDataBytes(p, size, s);
        frag += c + CELL_TRAILER_BYTES;
      }
      assert.equal(covered, size);
      assert.equal(fragmentSize(p, size), frag);
    });
  }

  it('round-trips a chunk method through ecMethodFor / parseEcMethod, keeping the distance', () => {
    const method = ecMethodFor('ec/k=6,m=3,distance=1', p);
    assert.match(method, /distance=1/);
    assert.deepEqual(parseEcMethod(method), p);
    assert.throws(() => parseEcMethod('ec/k=6,m=3,algo=nope,cell=8'), /algo/);
    assert.throws(() => parseEcMethod('plain/nb_copy=3'), /not ec/);
  });
});
