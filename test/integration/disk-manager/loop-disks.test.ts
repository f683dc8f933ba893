/**
 * The disk manager on real block devices: loop devices over sparse files. A blank one is
 * formatted XFS with a label and mounted; one with an ext4 file system and one with a GPT
 * partition table are left byte for byte alone; a second pass changes nothing; after an
 * unmount the disk is mounted again by the next pass (as at boot).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { rootLogger } from '../../../appliance/common';
import { runDiskManager } from '../../../agents/disk-manager';
import { tmpDir } from '../../helpers/tmp';

const TOOLS = ['losetup', 'lsblk', 'blkid', 'wipefs', 'mkfs.xfs', 'mkfs.ext4', 'sfdisk', 'findmnt', 'mount', 'umount'];
const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' }).trim();
const MiB = 1024 * 1024;

function fileHash(f: string): string {
  return createHash('sha256').update(fs.readFileSync(f)).digest('hex');
}

describe('disk manager on loop devices', function () {
  this.timeout(180_000);
  const loops: string[] = [];
  const mounts: string[] = [];
  let dir = '';

  before(function () {
    const missing = TOOLS.filter((t) => { try { sh('bash', ['-c', `command -v ${t}`]); return false; } catch { return true; } });
    const why = process.getuid?.() !== 0 ? 'not root' : missing.length ? `missing ${missing.join(', ')}` : fs.existsSync('/dev/loop-control') ? '' : 'no /dev/loop-control';
    if (why) {
      if (process.env.CI === 'true') throw new Error(`loop device test needs root and ${TOOLS.join(', ')}: ${why}`);
      this.skip();
    }
    dir = tmpDir('oio-disks-');
  });

  after(() => {
    for (const m of mounts.reverse()) { try { sh('umount', [m]); } catch { /* not mounted */ } }
    for (const l of loops) { try { sh('losetup', ['-d', l]); } catch { /* gone */ } }
  });

  function loopFile(name: string, prepare?: (file: string) => void): { file: string; dev: string } {
    const file = path.join(dir, name);
    fs.writeFileSync(file, '');
    fs.truncateSync(file, 400 * MiB);
    prepare?.(file);
    const dev = sh('losetup', ['-f', '--show', file]);
    loops.push(dev);
    return { file, dev };
  }

  it('formats and mounts only the blank device, leaves data alone', async () => {
    const blank = loopFile('blank.img');
    const ext4 = loopFile('ext4.img', (f) => sh('mkfs.ext4', ['-q', '-F', '-L', 'userdata', f]));
    const gpt = loopFile('gpt.img', (f) => execFileSync('sfdisk', ['-q', f], { input: 'label: gpt\nstart=1MiB, size=100MiB, type=L\n' }));
    const before = { ext4: fileHash(ext4.file), gpt: fileHash(gpt.file) };
    const mountRoot = path.join(dir, 'mnt');
    const stateFile = path.join(dir, 'state', 'disks.json');
    const log = rootLogger.child({ test: 'disk-manager' });
    const devices = [blank.dev, ext4.dev, gpt.dev];

    const rep = await runDiskManager({ mountRoot, stateFile, devices, types: ['loop'], log });
    const byDev = new Map(rep.actions.map((a) => [a.path, a]));
    const fmt = byDev.get(blank.dev);
    assert.equal(fmt?.kind, 'format', JSON.stringify(rep.actions));
    const label = (fmt as { label: string }).label;
    assert.match(label, /^oio-[0-9a-f]{8}$/);
    assert.equal(byDev.get(ext4.dev)?.kind, 'skip');
    assert.equal(byDev.get(gpt.dev)?.kind, 'skip');
    const mp = path.join(mountRoot, label);
    mounts.push(mp);
    assert.equal(sh('findmnt', ['-n', '-o', 'SOURCE', mp]), blank.dev);
    assert.equal(sh('findmnt', ['-n', '-o', 'FSTYPE', mp]), 'xfs');
    assert.equal(sh('blkid', ['-p', '-s', 'LABEL', '-o', 'value', blank.dev]), label);
    assert.deepEqual(rep.volumes, [mp]);
    assert.equal(rep.changed, true);
    fs.writeFileSync(path.join(mp, 'chunk'), 'data');

    // a second pass changes nothing
    const rep2 = await runDiskManager({ mountRoot, stateFile, devices, types: ['loop'], log });
    assert.equal(rep2.actions.find((a) => a.path === blank.dev)?.kind, 'serve');
    assert.deepEqual(rep2.volumes, [mp]);
    assert.equal(rep2.changed, false);

    // unmounted (a reboot): mounted again with its data, not formatted
    sh('umount', [mp]);
    const rep3 = await runDiskManager({ mountRoot, stateFile, devices, types: ['loop'], log });
    assert.equal(rep3.actions.find((a) => a.path === blank.dev)?.kind, 'mount');
    assert.equal(fs.readFileSync(path.join(mp, 'chunk'), 'utf8'), 'data');
    assert.deepEqual(JSON.parse(fs.readFileSync(stateFile, 'utf8')).disks.map((d: { label: string }) => d.label), [label]);

    // the devices with data are untouched, byte for byte
    assert.equal(sh('blkid', ['-p', '-s', 'TYPE', '-o', 'value', ext4.dev]), 'ext4');
    sh('losetup', ['-d', ext4.dev]); loops.splice(loops.indexOf(ext4.dev), 1);
    sh('losetup', ['-d', gpt.dev]); loops.splice(loops.indexOf(gpt.dev), 1);
    assert.equal(fileHash(ext4.file), before.ext4);
    assert.equal(fileHash(gpt.file), before.gpt);
  });

  it('formats and mounts several blank disks at once, their order (the volumes\' indexes) that of the plan', async () => {
    const blanks = [loopFile('b1.img'), loopFile('b2.img'), loopFile('b3.img')];
    const mountRoot = path.join(dir, 'mnt-many');
    const stateFile = path.join(dir, 'state-many', 'disks.json');
    const log = rootLogger.child({ test: 'disk-manager' });
    const devices = blanks.map((b) => b.dev);
    const rep = await runDiskManager({ mountRoot, stateFile, devices, types: ['loop'], log });
    const labels = rep.actions.map((a) => (a as { label: string }).label);
    assert.deepEqual(rep.actions.map((a) => a.kind), ['format', 'format', 'format']);
    assert.deepEqual(rep.volumes, labels.map((l) => path.join(mountRoot, l)));
    for (const v of rep.volumes) mounts.push(v);
    assert.deepEqual(JSON.parse(fs.readFileSync(stateFile, 'utf8')).disks.map((d: { label: string }) => d.label), labels);
    // every disk unmounted (a reboot): mounted again, same order
    for (const v of rep.volumes) sh('umount', [v]);
    const again = await runDiskManager({ mountRoot, stateFile, devices, types: ['loop'], log });
    assert.deepEqual(again.actions.map((a) => a.kind), ['mount', 'mount', 'mount']);
    assert.deepEqual(again.volumes, rep.volumes);
    assert.equal(again.changed, false);
  });
});
