/**
 * @module agents/disk-manager/manager
 * Runs one pass of the disk manager (at boot and on every udev block event): lists block
 * devices, probes the blank ones, formats those every probe calls empty (XFS, label
 * `oio-XXXXXXXX`), mounts ours under `<mountRoot>/<label>`, keeps the registry of the disks
 * it ever formatted (so a disk that disappears is reported) and writes the volume list
 * `node-env` turns into the node's `rawx.volumes` (one rawx per mounted disk).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../appliance/common';
import { DEFAULT_LABEL_PREFIX, MIN_XFS_BYTES, planDisks, type BlockDevice, type DeviceProbe, type DiskAction } from './plan';
import { blkidExport, blkidValue, formatXfs, listBlockDevices, mountXfs, mountpointOf, probeDevice } from './system';

export interface DiskManagerOptions {
  /** mount folders go here: /srv/oio */
  mountRoot: string;
  /** registry of formatted disks and the last volume list (JSON) */
  stateFile: string;
  /** only these devices (tests: loop devices); default every block device */
  devices?: string[];
  /** device types considered; default ['disk'] */
  types?: string[];
  minSizeBytes?: number;
  labelPrefix?: string;
  log: Logger;
}

export interface DiskState {
  /** every disk this manager formatted, in order: the order of the node's rawx volumes */
  disks: Array<{ label: string; formattedAt: string; device: string }>;
  /** mounted, served volumes (mount folders) after the last pass */
  volumes: string[];
  /** labels of registered disks not present at the last pass */
  missing: string[];
}

export interface DiskReport extends DiskState {
  actions: DiskAction[];
  /** the volume list differs from the previous pass */
  changed: boolean;
}

/** Reads the state file (an empty state when absent). */
export function readDiskState(file: string): DiskState {
  try {
    const s = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<DiskState>;
    return { disks: s.disks ?? [], volumes: s.volumes ?? [], missing: s.missing ?? [] };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { disks: [], volumes: [], missing: [] };
    throw e;
  }
}

function writeJsonAtomic(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w', 0o644);
  try { fs.writeSync(fd, JSON.stringify(value, null, 2) + '\n'); fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
  fs.renameSync(tmp, file);
}

/** One pass: scan, format blank disks, mount ours, write the state. */
export async function runDiskManager(opts: DiskManagerOptions): Promise<DiskReport> {
  const prefix = opts.labelPrefix ?? DEFAULT_LABEL_PREFIX;
  const previous = readDiskState(opts.stateFile);
  const devices = await listBlockDevices(opts.devices ?? []);
  const types = opts.types ?? ['disk'];
  const minSize = opts.minSizeBytes ?? MIN_XFS_BYTES;
  // A whole disk big enough to be ours; nothing else is ever read (a drive without media,
  // size 0, would block the pass until its driver gives up).
  const candidate = (d: BlockDevice) => types.includes(d.type) && d.children.length === 0 && d.sizeBytes >= minSize;
  // udev's database (what lsblk shows) lags behind a fresh mkfs: read signatures directly too
  // (every disk at once: each probe is a process start, slow at boot on a small machine).
  await Promise.all(devices.filter(candidate).map(async (d) => {
    const b = await blkidExport(d.path);
    if (!d.fsType && b.TYPE) { d.fsType = b.TYPE; d.label = b.LABEL ?? null; }
    if (!d.ptType && b.PTTYPE) d.ptType = b.PTTYPE;
  }));
  const probes = new Map<string, DeviceProbe>();
  for (const d of devices) {
    if (candidate(d) && !d.ptType && !d.fsType && d.mountpoints.length === 0 && !d.readOnly) {
      probes.set(d.path, await probeDevice(d.path));
    }
  }
  const actions = planDisks(devices, probes, {
    labelPrefix: prefix, minSizeBytes: minSize, types,
    usedLabels: new Set([...previous.disks.map((d) => d.label), ...devices.map((d) => d.label ?? '')]),
    newSuffix: () => crypto.randomBytes(4).toString('hex'),
  });
  const disks = [...previous.disks];
  const present = new Map<string, string>(); // label -> mount folder
  // Every disk is formatted and mounted at once; the registry then takes them in the plan's
  // order, so the volumes' order (their indexes, hence ports) does not depend on timing.
  const done = await Promise.all(actions.map(async (a): Promise<{ register?: string; mp?: string }> => {
    if (a.kind === 'skip') { opts.log.info('disk left alone', { dev: a.path, reason: a.reason }); return {}; }
    // registered once formatted (or found ours), even when its mount then fails
    let register: string | undefined;
    try {
      if (a.kind === 'format') {
        opts.log.info('formatting blank disk', { dev: a.path, label: a.label });
        await formatXfs(a.path, a.label);
        const [type, label] = [await blkidValue(a.path, 'TYPE'), await blkidValue(a.path, 'LABEL')];
        if (type !== 'xfs' || label !== a.label) throw new Error(`after mkfs.xfs, blkid reads ${type}/${label}`);
        register = new Date().toISOString();
      } else {
        register = 'unknown'; // ours (our label prefix) but formatted elsewhere, e.g. moved from another node
      }
      let mp = a.kind === 'serve' ? a.mountpoint : await mountpointOf(a.path);
      if (!mp) {
        mp = path.join(opts.mountRoot, a.label);
        fs.mkdirSync(mp, { recursive: true });
        await mountXfs(a.path, mp);
        opts.log.info('disk mounted', { dev: a.path, label: a.label, dir: mp });
      }
      return { register, mp };
    } catch (e) {
      opts.log.error('disk not usable', { dev: a.path, label: a.label, err: e as Error });
      return { register };
    }
  }));
  actions.forEach((a, i) => {
    const r = done[i]!;
    if (a.kind === 'skip' || r.register === undefined) return;
    if (a.kind === 'format' || !disks.some((d) => d.label === a.label)) disks.push({ label: a.label, formattedAt: r.register, device: a.path });
    if (r.mp) present.set(a.label, r.mp);
  });
  const volumes = disks.filter((d) => present.has(d.label)).map((d) => present.get(d.label)!);
  // A registered disk is missing only when the whole system was scanned (not in a test subset).
  const missing = opts.devices ? [] : disks.filter((d) => !present.has(d.label)).map((d) => d.label);
  for (const label of missing) opts.log.warn('disk missing: its rawx is not served', { label, lastDevice: disks.find((d) => d.label === label)?.device });
  const state: DiskState = { disks, volumes, missing };
  writeJsonAtomic(opts.stateFile, state);
  const changed = JSON.stringify(volumes) !== JSON.stringify(previous.volumes);
  return { ...state, actions, changed };
}
