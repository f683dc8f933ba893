/**
 * Unit tests of the per-disk unit plan of the appliance (agents/appliance/main.ts): which
 * oio-rawx@ / oio-rdir@ instances a disk pass enables, disables, and when it restarts them.
 */
import assert from 'node:assert/strict';
import { diskUnitPlan, diskUnits } from '../../../../agents/appliance/main';

const disk = (label: string) => ({ label, formattedAt: 'x', device: '/dev/x' });
const v = (label: string) => `/srv/oio/${label}`;

describe('appliance: per-disk units', () => {
  it('names one rdir and one rawx instance per disk label', () => {
    assert.deepEqual(diskUnits('oio-1a2b3c4d'), ['oio-rdir@oio-1a2b3c4d.service', 'oio-rawx@oio-1a2b3c4d.service']);
  });

  it('starts the units of every served disk on the first pass', () => {
    const p = diskUnitPlan({ volumes: [v('oio-a'), v('oio-b')], disks: [disk('oio-a'), disk('oio-b')] }, []);
    assert.deepEqual(p.enable, [...diskUnits('oio-a'), ...diskUnits('oio-b')]);
    assert.deepEqual(p.disable, []);
    assert.equal(p.restart, false);
  });

  it('adds a hot-plugged disk without restarting the others (indexes unchanged)', () => {
    const p = diskUnitPlan({ volumes: [v('oio-a'), v('oio-b'), v('oio-c')], disks: ['oio-a', 'oio-b', 'oio-c'].map(disk) }, [v('oio-a'), v('oio-b')]);
    assert.equal(p.restart, false);
    assert.deepEqual(p.enable.length, 6);
  });

  it('stops a gone disk\'s units and restarts the others when their index moved', () => {
    const p = diskUnitPlan({ volumes: [v('oio-b')], disks: ['oio-a', 'oio-b'].map(disk) }, [v('oio-a'), v('oio-b')]);
    assert.deepEqual(p.disable, diskUnits('oio-a'));
    assert.deepEqual(p.enable, diskUnits('oio-b'));
    assert.equal(p.restart, true);
  });

  it('does not restart when the last disk went', () => {
    const p = diskUnitPlan({ volumes: [v('oio-a')], disks: ['oio-a', 'oio-b'].map(disk) }, [v('oio-a'), v('oio-b')]);
    assert.deepEqual(p.disable, diskUnits('oio-b'));
    assert.equal(p.restart, false);
  });
});
