/**
 * @module test/unit/agents/sampler/cpu
 * Idle CPU % from two /proc/stat snapshots.
 */
import assert from 'node:assert/strict';
import { cpuIdlePercent, parseProcStat, roundStat } from '../../../../agents/sampler';

const S0 = `cpu  10000 0 2000 80000 100 0 30 20 0 0
cpu0 5000 0 1000 40000 50 0 15 10 0 0
cpu1 5000 0 1000 40000 50 0 15 10 0 0
intr 123456
ctxt 98765
`;
// +1,000 jiffies: user +300, system +100, idle +550, iowait +50.
const S1 = `cpu  10300 0 2100 80550 150 0 30 20 0 0
cpu0 5150 0 1050 40275 75 0 15 10 0 0
cpu1 5150 0 1050 40275 75 0 15 10 0 0
`;

describe('agents/sampler cpu', () => {
  it('reads idle (idle + iowait) and total jiffies of the aggregate line', () => {
    assert.deepEqual(parseProcStat(S0), { idle: 80100, total: 92150 });
  });

  it('returns undefined without an aggregate cpu line', () => {
    assert.equal(parseProcStat('cpu0 1 2 3 4\nintr 1\n'), undefined);
  });

  it('computes idle % over the interval between two snapshots', () => {
    assert.equal(cpuIdlePercent(parseProcStat(S0)!, parseProcStat(S1)!), 60);
  });

  it('reports 100 when no jiffy elapsed and clamps to 0..100', () => {
    const s = parseProcStat(S0)!;
    assert.equal(cpuIdlePercent(s, s), 100);
    assert.equal(cpuIdlePercent({ idle: 0, total: 0 }, { idle: 50, total: 10 }), 100);
  });

  it('rounds stats to one decimal within 0..100', () => {
    assert.equal(roundStat(33.333), 33.3);
    assert.equal(roundStat(101), 100);
    assert.equal(roundStat(-3), 0);
    assert.equal(roundStat(Number.NaN), 0);
  });
});
