/**
 * @module test/unit/agents/sampler/io
 * /proc/diskstats parsing and the idle IO % computed from two snapshots.
 */
import assert from 'node:assert/strict';
import { ioIdlePercent, parseDiskstats, splitDev } from '../../../../agents/sampler';

// Two reads 1,000 ms apart: vda busy 250 ms, vda1 busy 250 ms, loop0 idle, sdb saturated.
const T0 = `
 254       0 vda 95012 21874 4913206 38172 251063 190530 9811648 449712 0 120000 496030 0 0 0 0 30012 8144
 254       1 vda1 94000 21874 4900000 38000 251000 190530 9811600 449700 0 119000 495000 0 0 0 0 0 0
   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
   8      16 sdb 10 0 80 5 10 0 80 5 0 5000 10 0 0 0 0 0 0
 253       0 dm-0 1 2 3 4 5 6 7 8 0 900 10
`;
const T1 = `
 254       0 vda 95100 21874 4913900 38200 251300 190600 9812000 449900 0 120250 496300 0 0 0 0 30020 8150
 254       1 vda1 94088 21874 4900694 38028 251237 190600 9811952 449888 0 119250 495270 0 0 0 0 0 0
   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
   8      16 sdb 10 0 80 5 10 0 80 5 3 6200 10 0 0 0 0 0 0
 253       0 dm-0 1 2 3 4 5 6 7 8 0 900 10
`;

describe('agents/sampler io', () => {
  it('parses every device line keyed by major:minor with its io_ticks field', () => {
    const s = parseDiskstats(T0);
    assert.equal(s.size, 5);
    assert.deepEqual(s.get('254:0'), { major: 254, minor: 0, name: 'vda', ioMs: 120000 });
    assert.deepEqual(s.get('254:1'), { major: 254, minor: 1, name: 'vda1', ioMs: 119000 });
    assert.equal(s.get('7:0')?.ioMs, 0);
    assert.equal(s.get('253:0')?.ioMs, 900, 'old 14-field format works too');
  });

  it('ignores blank and short lines', () => {
    assert.equal(parseDiskstats('\n  8 0 sda 1 2 3\n\n').size, 0);
  });

  it('computes idle % from the busy time between two snapshots', () => {
    const a = parseDiskstats(T0);
    const b = parseDiskstats(T1);
    const idle = (k: string) => ioIdlePercent(a.get(k)!.ioMs, b.get(k)!.ioMs, 1000);
    assert.equal(idle('254:0'), 75);
    assert.equal(idle('254:1'), 75);
    assert.equal(idle('7:0'), 100);
  });

  it('clamps to 0 when the device was busy longer than the window (merged ticks)', () => {
    const a = parseDiskstats(T0);
    const b = parseDiskstats(T1);
    assert.equal(ioIdlePercent(a.get('8:16')!.ioMs, b.get('8:16')!.ioMs, 1000), 0);
  });

  it('reports 100 for an empty window or a counter that went backwards', () => {
    assert.equal(ioIdlePercent(10, 20, 0), 100);
    assert.equal(ioIdlePercent(500, 100, 1000), 100);
  });

  it('decodes dev_t into major and minor, large minors included', () => {
    assert.deepEqual(splitDev(0xfe01n), { major: 254, minor: 1 });
    assert.deepEqual(splitDev(0x0810n), { major: 8, minor: 16 });
    assert.deepEqual(splitDev((259n << 8n) | 0x12n | (0x3n << 20n)), { major: 259, minor: 0x312 });
  });
});
