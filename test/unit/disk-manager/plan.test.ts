/** The disk manager's decisions (pure) and the appliance seed parsing. */
import assert from 'node:assert/strict';
import { planDisks, parseLsblk, type BlockDevice, type DeviceProbe } from '../../../agents/disk-manager';
import { configFromSeed, parseCmdline, parseSeedFile } from '../../../agents/appliance';

function dev(p: Partial<BlockDevice> & { path: string }): BlockDevice {
  return { type: 'disk', sizeBytes: 10 * 2 ** 30, readOnly: false, ptType: null, fsType: null, label: null, mountpoints: [], children: [], ...p };
}
const blank: DeviceProbe = { wipefsSignatures: [], blkidFound: false };
let n = 0;
const opts = { labelPrefix: 'oio-', minSizeBytes: 300 * 2 ** 20, types: ['disk'], usedLabels: new Set<string>(), newSuffix: () => `0000000${n++}`.slice(-8) };

describe('disk manager plan', () => {
  it('formats only a device every probe calls blank', () => {
    const devs = [dev({ path: '/dev/vdb' }), dev({ path: '/dev/vdc' }), dev({ path: '/dev/vdd' })];
    const probes = new Map<string, DeviceProbe>([
      ['/dev/vdb', blank],
      ['/dev/vdc', { wipefsSignatures: ['LVM2_member'], blkidFound: true }],
      ['/dev/vdd', { wipefsSignatures: [], blkidFound: true }],
    ]);
    const plan = planDisks(devs, probes, opts);
    assert.equal(plan[0]!.kind, 'format');
    assert.match((plan[0] as { label: string }).label, /^oio-[0-9]{8}$/);
    assert.deepEqual(plan.slice(1).map((a) => a.kind), ['skip', 'skip']);
  });

  it('never formats a device lsblk shows with a table, a file system, partitions, a mount, read-only, small, or unprobed', () => {
    const devs = [
      dev({ path: '/dev/a', ptType: 'gpt' }),
      dev({ path: '/dev/b', fsType: 'ext4', label: 'data' }),
      dev({ path: '/dev/c', children: [dev({ path: '/dev/c1', type: 'part' })] }),
      dev({ path: '/dev/d', mountpoints: ['/mnt'] }),
      dev({ path: '/dev/e', readOnly: true }),
      dev({ path: '/dev/f', sizeBytes: 2 ** 20 }),
      dev({ path: '/dev/g' }),
      dev({ path: '/dev/h', fsType: 'xfs', label: 'other' }),
    ];
    const plan = planDisks(devs, new Map(), opts);
    assert.deepEqual(plan.map((a) => a.kind), Array(8).fill('skip'));
  });

  it('skips the boot disk, mounts ours, serves ours already mounted, ignores other device types', () => {
    const devs = [
      dev({ path: '/dev/vda', ptType: 'gpt', children: [dev({ path: '/dev/vda1', type: 'part', mountpoints: ['/boot/efi'] }), dev({ path: '/dev/vda2', type: 'part', mountpoints: ['/'] })] }),
      dev({ path: '/dev/vdb', fsType: 'xfs', label: 'oio-1234abcd' }),
      dev({ path: '/dev/vdc', fsType: 'xfs', label: 'oio-99999999', mountpoints: ['/srv/oio/oio-99999999'] }),
      dev({ path: '/dev/sr0', type: 'rom' }),
    ];
    const plan = planDisks(devs, new Map(), opts);
    assert.deepEqual(plan, [
      { kind: 'skip', path: '/dev/vda', reason: 'boot disk' },
      { kind: 'mount', path: '/dev/vdb', label: 'oio-1234abcd' },
      { kind: 'serve', path: '/dev/vdc', label: 'oio-99999999', mountpoint: '/srv/oio/oio-99999999' },
    ]);
  });

  it('makes a new label unique among the used ones', () => {
    let i = 0;
    const plan = planDisks([dev({ path: '/dev/x' }), dev({ path: '/dev/y' })], new Map([['/dev/x', blank], ['/dev/y', blank]]),
      { ...opts, usedLabels: new Set(['oio-aaaa']), newSuffix: () => (i++ < 2 ? 'aaaa' : `b${i}`) });
    const labels = plan.map((a) => (a as { label: string }).label);
    assert.equal(new Set(labels).size, 2);
    assert.ok(!labels.includes('oio-aaaa'));
  });

  it('parses lsblk JSON (util-linux 2.38 and later)', () => {
    const devs = parseLsblk(JSON.stringify({ blockdevices: [
      { path: '/dev/vda', type: 'disk', size: 3000000000, ro: false, pttype: 'gpt', fstype: null, label: null, mountpoints: [null],
        children: [{ path: '/dev/vda2', type: 'part', size: 100, ro: false, pttype: 'gpt', fstype: 'ext4', label: 'oio-root', mountpoints: ['/'] }] },
      { path: '/dev/vdb', type: 'disk', size: '1073741824', ro: '0', pttype: null, fstype: null, label: null, mountpoints: [null] },
    ] }));
    assert.equal(devs.length, 2);
    assert.deepEqual(devs[0]!.children[0]!.mountpoints, ['/']);
    assert.equal(devs[1]!.sizeBytes, 2 ** 30);
    assert.equal(devs[1]!.readOnly, false);
    assert.deepEqual(devs[1]!.mountpoints, []);
  });
});

describe('appliance seed', () => {
  it('reads the seed file and lets the kernel command line override it', () => {
    const { seed, unknown } = parseSeedFile('# comment\nhostname=n1\nnamespace="GRID"\nadmin_key=ssh-ed25519 AAAAC3 me@x\nbogus=1\n');
    assert.deepEqual(unknown, ['bogus']);
    assert.equal(seed.admin_key, 'ssh-ed25519 AAAAC3 me@x');
    const cmd = parseCmdline('root=LABEL=oio-root rw oio.hostname=n2 oio.admin_key=ssh-ed25519,AAAAC3,k quiet');
    const merged = { ...seed, ...cmd };
    assert.equal(merged.hostname, 'n2');
    assert.equal(merged.namespace, 'GRID');
    assert.equal(cmd.admin_key, 'ssh-ed25519 AAAAC3 k');
  });

  it('without a seed makes a single-node configuration with the appliance ports', () => {
    const cfg = configFromSeed({}, '/var/lib/oio');
    assert.equal(cfg.namespace, 'OPENIO');
    assert.equal(cfg['etcd.endpoints'], undefined);
    assert.equal(cfg['admin_ssh.port'], 22);
    assert.equal(cfg['ftp.port'], 21);
    assert.ok((cfg['node.services'] as string[]).includes('nfs'));
    const grid = configFromSeed({ etcd_endpoints: 'a:2379, b:2379', etcd_member: 'true' }, '/d');
    assert.deepEqual(grid['etcd.endpoints'], ['a:2379', 'b:2379']);
    assert.equal(grid['etcd.member'], true);
    const { seed } = parseSeedFile('ftp.pasv_range=31000-31009\n');
    assert.equal(configFromSeed(seed, '/d')['ftp.pasv_range'], '31000-31009');
  });
});
