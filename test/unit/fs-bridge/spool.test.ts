/** Unit tests of the bridge's spool: small files in memory, larger ones (or over budget) in a file. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { Spool, type SpoolBudget } from '../../../fs-bridge/core/spool';
import { tmpDir } from '../../helpers/tmp';

describe('fs-bridge/core spool', () => {
  let dir: string;
  let n = 0;
  const opts = (budget: SpoolBudget, memMax = 1024 * 1024) => ({ dir, name: `s${n++}`, budget, memMax });
  const readRange = async (s: Spool, pos: number, len: number) => {
    const buf = Buffer.alloc(len);
    const got = await s.read(buf, len, pos);
    return buf.subarray(0, got);
  };

  beforeEach(() => { dir = tmpDir('spool-'); });

  it('keeps a small file in memory: writes anywhere, gaps read as zeros, no file made, memory given back', async () => {
    const budget = { used: 0, max: 64 * 1024 * 1024 };
    const s = Spool.empty(opts(budget));
    await s.write(Buffer.from('hello'), 0);
    await s.write(Buffer.from('world'), 10);
    await s.write(Buffer.from('HE'), 0);
    assert.equal(s.inMemory, true);
    assert.deepEqual(fs.readdirSync(dir), []);
    assert.ok(budget.used >= 15);
    assert.deepEqual(await s.readAll(15), Buffer.concat([Buffer.from('HEllo'), Buffer.alloc(5), Buffer.from('world')]));
    assert.deepEqual(await readRange(s, 12, 100), Buffer.from('rld'));
    assert.equal((await readRange(s, 15, 10)).length, 0);
    await s.close();
    assert.equal(budget.used, 0);
  });

  it('gives a copy for the upload: a write after it does not change the bytes sent', async () => {
    const s = Spool.empty(opts({ used: 0, max: 1 << 20 }));
    await s.write(Buffer.from('abcdef'), 0);
    const sent = await s.readAll(6);
    await s.write(Buffer.from('XY'), 2);
    assert.equal(sent.toString(), 'abcdef');
    assert.equal((await s.readAll(6)).toString(), 'abXYef');
    await s.close();
  });

  it('moves to a file when the file grows past the memory limit, and deletes it on close', async () => {
    const budget = { used: 0, max: 1 << 30 };
    const s = Spool.empty(opts(budget, 64 * 1024));
    const a = randomBytes(60 * 1024);
    const b = randomBytes(10 * 1024);
    await s.write(a, 0);
    assert.equal(s.inMemory, true);
    await s.write(b, 60 * 1024);
    assert.equal(s.inMemory, false);
    assert.equal(budget.used, 0);
    const p = await s.toFile();
    assert.deepEqual(fs.readFileSync(p), Buffer.concat([a, b]));
    assert.deepEqual(await s.readAll(70 * 1024), Buffer.concat([a, b]));
    await s.close();
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it('loses no write when concurrent writes (an sftp upload\'s) cross the memory limit', async () => {
    const s = Spool.empty(opts({ used: 0, max: 1 << 30 }, 1 << 20));
    const whole = randomBytes(200 * 32 * 1024 + 123);
    const parts = Array.from({ length: Math.ceil(whole.length / 32768) }, (_, i) => i);
    // out of order, all at once, as a client with many writes in flight sends them
    parts.reverse();
    await Promise.all(parts.map((i) => s.write(whole.subarray(i * 32768, (i + 1) * 32768), i * 32768)));
    assert.equal(s.inMemory, false);
    assert.deepEqual(await s.readAll(whole.length), whole);
    await s.close();
  });

  it('loses no rewrite of the first bytes made while the spool moves to its file', async () => {
    for (let round = 0; round < 5; round++) {
      const s = Spool.empty(opts({ used: 0, max: 1 << 30 }, 1 << 20));
      const model = randomBytes((1 << 20) + 4096);
      await s.write(model.subarray(0, 1 << 20), 0);
      const writes: Array<Promise<void>> = [s.write(model.subarray(1 << 20), 1 << 20)];
      // rewrites of the first MiB, one per tick, until the move is over
      for (let i = 0; s.inMemory && i < 10_000; i++) {
        const data = randomBytes(512);
        const pos = (i * 4096) % (1 << 20);
        data.copy(model, pos);
        writes.push(s.write(data, pos));
        await new Promise((r) => setImmediate(r));
      }
      await Promise.all(writes);
      assert.deepEqual(await s.readAll(model.length), model, `round ${round}`);
      await s.close();
    }
  });

  it('applies overlapping writes and truncates in the order they were made, in memory and in a file', async () => {
    // A file write runs on libuv's thread pool: two pwrites in flight at once may land in either
    // order, so a later write over the same bytes could be undone by an earlier one.
    for (const memMax of [1 << 20, 0]) {
      for (let round = 0; round < 3; round++) {
        const s = Spool.empty(opts({ used: 0, max: 1 << 30 }, memMax));
        const model = Buffer.alloc(256 * 1024);
        let size = 0;
        const ops: Array<Promise<void>> = [];
        for (let i = 0; i < 400; i++) {
          if (i % 50 === 49) {
            size = (i * 997) % model.length;
            model.fill(0, size);
            ops.push(s.truncate(size));
            continue;
          }
          const len = 4096 + ((i * 7919) % (64 * 1024));
          const pos = (i * 104_729) % (model.length - len);
          const data = randomBytes(len);
          data.copy(model, pos);
          size = Math.max(size, pos + len);
          ops.push(s.write(data, pos));
        }
        await Promise.all(ops);
        assert.deepEqual(await s.readAll(size), model.subarray(0, size), `memMax ${memMax} round ${round}`);
        await s.close();
      }
    }
  });

  it('uses a file once the bridge budget is spent', async () => {
    const budget = { used: 0, max: 16 * 1024 };
    const first = Spool.empty(opts(budget));
    await first.write(randomBytes(16 * 1024), 0);
    assert.equal(first.inMemory, true);
    const second = Spool.empty(opts(budget));
    await second.write(Buffer.from('x'), 0);
    assert.equal(second.inMemory, false);
    assert.equal(fs.readdirSync(dir).length, 1);
    await first.close();
    await second.close();
    assert.equal(budget.used, 0);
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it('truncates: a shrunk then regrown file reads zeros, in memory and in a file', async () => {
    for (const memMax of [1 << 20, 0]) {
      const s = Spool.empty(opts({ used: 0, max: 1 << 30 }, memMax));
      await s.write(Buffer.from('0123456789'), 0);
      await s.truncate(4);
      await s.truncate(8);
      assert.deepEqual(await s.readAll(8), Buffer.concat([Buffer.from('0123'), Buffer.alloc(4)]), `memMax ${memMax}`);
      await s.write(Buffer.from('Z'), 9);
      assert.deepEqual(await s.readAll(10), Buffer.concat([Buffer.from('0123'), Buffer.alloc(5), Buffer.from('Z')]), `memMax ${memMax}`);
      await s.close();
    }
  });

  it('is filled from a stream: a small body in memory, a large one in a file', async () => {
    const budget = { used: 0, max: 1 << 30 };
    const small = randomBytes(3000);
    const s1 = await Spool.from(opts(budget, 4096), Readable.from([small.subarray(0, 1000), small.subarray(1000)]), small.length);
    assert.equal(s1.inMemory, true);
    assert.deepEqual(await s1.readAll(3000), small);
    const large = randomBytes(100 * 1024);
    const s2 = await Spool.from(opts(budget, 4096), Readable.from([large.subarray(0, 50000), large.subarray(50000)]), large.length);
    assert.equal(s2.inMemory, false);
    assert.deepEqual(await s2.readAll(large.length), large);
    await s1.close();
    await s2.close();
    assert.equal(budget.used, 0);
  });

  for (const memMax of [4096, 1 << 20]) {
    it(`matches a plain buffer over 600 random writes, truncates and reads (${memMax === 4096 ? 'crossing into a file' : 'all in memory'})`, async () => {
      let inMemoryOps = 0;
      const s = Spool.empty(opts({ used: 0, max: 1 << 30 }, memMax));
      let model = Buffer.alloc(0);
      let seed = 7;
      const rnd = (k: number) => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return (seed >>> 0) % k; };
      for (let i = 0; i < 600; i++) {
        if (s.inMemory) inMemoryOps++;
        const op = rnd(10);
        if (op < 6) {
          const pos = rnd(model.length + 4096);
          const data = randomBytes(1 + rnd(4096));
          await s.write(data, pos);
          const end = pos + data.length;
          if (end > model.length) model = Buffer.concat([model, Buffer.alloc(end - model.length)]);
          data.copy(model, pos);
        } else if (op < 7) {
          const size = (model.length >> 1) + rnd((model.length >> 1) + 1024);
          await s.truncate(size);
          model = size <= model.length ? model.subarray(0, size) : Buffer.concat([model, Buffer.alloc(size - model.length)]);
        } else {
          const pos = rnd(model.length + 10);
          const len = rnd(4096);
          assert.deepEqual(await readRange(s, pos, len), model.subarray(Math.min(pos, model.length), Math.min(model.length, pos + len)), `read ${pos}+${len} at op ${i}`);
        }
      }
      if (memMax === 4096) assert.equal(s.inMemory, false, 'the file grew past 4 KiB: moved to a file');
      else assert.equal(inMemoryOps, 600, 'every operation in memory');
      assert.deepEqual(await s.readAll(model.length), model);
      await s.close();
    });
  }
});
