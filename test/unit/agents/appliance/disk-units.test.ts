/**
 * Unit tests of the per-disk unit plan of the appliance (agents/appliance/main.ts): which
 * oio-volume@ instances (oio-rawx@ / oio-rdir@ on an older root file system) a disk pass
 * enables, disables, and when it restarts them.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { diskUnitPlan, diskUnits } from '../../../../agents/appliance/main';

const disk = (label: string) => ({ label, formattedAt: 'x', device: '/dev/x' });
const v = (label: string) => `/srv/oio/${label}`;

describe('appliance: per-disk units', () => {
  it('names one instance per disk label (its rawx and rdir in one process)', () => {
    assert.deepEqual(diskUnits('oio-1a2b3c4d', 'volume'), ['oio-volume@oio-1a2b3c4d.service']);
  });

  it('names the rdir and rawx instances on a root file system from before oio-volume@', () => {
    assert.deepEqual(diskUnits('oio-1a2b3c4d', 'pair'), ['oio-rdir@oio-1a2b3c4d.service', 'oio-rawx@oio-1a2b3c4d.service']);
    const p = diskUnitPlan({ volumes: [v('oio-b')], disks: ['oio-a', 'oio-b'].map(disk) }, [v('oio-a'), v('oio-b')], 'pair');
    assert.deepEqual(p.disable, ['oio-rdir@oio-a.service', 'oio-rawx@oio-a.service']);
    assert.deepEqual(p.enable, ['oio-rdir@oio-b.service', 'oio-rawx@oio-b.service']);
  });

  it('reads the layout from the unit files present', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'units-'));
    const layout = () => execFileSync(process.execPath, ['-e', `console.log(require(${JSON.stringify(require.resolve('../../../../agents/appliance/main'))}).diskUnitLayout())`], { env: { ...process.env, OIO_APPLIANCE_UNIT_DIR: dir }, encoding: 'utf8' }).trim();
    assert.equal(layout(), 'volume', 'no unit files: the current layout');
    fs.writeFileSync(path.join(dir, 'oio-rawx@.service'), '');
    assert.equal(layout(), 'pair');
    fs.writeFileSync(path.join(dir, 'oio-volume@.service'), '');
    assert.equal(layout(), 'volume');
    fs.rmSync(dir, { recursive: true });
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
    assert.deepEqual(p.enable, ['oio-a', 'oio-b', 'oio-c'].flatMap((l) => diskUnits(l)));
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
