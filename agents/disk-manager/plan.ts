/**
 * @module agents/disk-manager/plan
 * The disk manager's decisions, as a pure function of what the system tools report: which
 * block devices are blank and may be formatted, which are ours and must be mounted, which
 * are left alone (and why). Nothing here runs a command; `manager.ts` applies the plan.
 * A device is formatted only when every probe agrees it is empty: no partition table, no
 * file system or other signature (lsblk, `wipefs -n`, `blkid -p`), no partitions, not
 * mounted, not read-only, not holding the root file system, large enough for XFS.
 */

/** One block device as lsblk reports it (`lsblk -J -b -p -o ...`), children flattened away. */
export interface BlockDevice {
  /** /dev/vdb */
  path: string;
  /** disk, part, loop, rom, ... */
  type: string;
  sizeBytes: number;
  readOnly: boolean;
  /** partition table type (gpt, dos) or null */
  ptType: string | null;
  /** file system or other signature type lsblk sees (xfs, ext4, swap, LVM2_member...) or null */
  fsType: string | null;
  label: string | null;
  mountpoints: string[];
  /** partitions / holders below this device */
  children: BlockDevice[];
}

/** Extra probes of one device (run only on devices lsblk already calls blank). */
export interface DeviceProbe {
  /** signatures `wipefs -n -J` lists */
  wipefsSignatures: string[];
  /** `blkid -p` found something (exit status 0) */
  blkidFound: boolean;
}

export type DiskAction =
  | { kind: 'format'; path: string; label: string }
  | { kind: 'mount'; path: string; label: string }
  | { kind: 'serve'; path: string; label: string; mountpoint: string }
  | { kind: 'skip'; path: string; reason: string };

export interface PlanOptions {
  /** label prefix of the disks this manager formats (XFS labels hold 12 characters) */
  labelPrefix: string;
  /** smallest device formatted (XFS needs 300 MiB) */
  minSizeBytes: number;
  /** device types considered (disk; tests add loop) */
  types: readonly string[];
  /** labels already in use (to make a new one unique) */
  usedLabels: ReadonlySet<string>;
  /** makes the suffix of a new label (random in production) */
  newSuffix: () => string;
}

export const DEFAULT_LABEL_PREFIX = 'oio-';
export const MIN_XFS_BYTES = 300 * 1024 * 1024;

function allMountpoints(d: BlockDevice): string[] {
  return [...d.mountpoints, ...d.children.flatMap(allMountpoints)];
}

/** Is this device ours (XFS with our label prefix, made by this manager)? */
export function isOurs(d: BlockDevice, prefix: string): boolean {
  return d.fsType === 'xfs' && d.label !== null && d.label.startsWith(prefix) && d.children.length === 0 && d.ptType === null;
}

/**
 * Decides what to do with each device. `probes` holds wipefs/blkid results for devices that
 * lsblk calls blank; a blank device without a probe is skipped (never formatted on lsblk's
 * word alone).
 */
export function planDisks(devices: BlockDevice[], probes: ReadonlyMap<string, DeviceProbe>, opts: PlanOptions): DiskAction[] {
  const used = new Set(opts.usedLabels);
  const out: DiskAction[] = [];
  for (const d of devices) {
    if (!opts.types.includes(d.type)) continue;
    const mounts = allMountpoints(d);
    if (mounts.includes('/') || mounts.includes('/boot/efi')) { out.push({ kind: 'skip', path: d.path, reason: 'boot disk' }); continue; }
    if (isOurs(d, opts.labelPrefix)) {
      const label = d.label!;
      if (d.mountpoints.length > 0) out.push({ kind: 'serve', path: d.path, label, mountpoint: d.mountpoints[0]! });
      else out.push({ kind: 'mount', path: d.path, label });
      continue;
    }
    if (d.readOnly) { out.push({ kind: 'skip', path: d.path, reason: 'read-only' }); continue; }
    if (d.children.length > 0) { out.push({ kind: 'skip', path: d.path, reason: 'has partitions or holders' }); continue; }
    if (d.ptType) { out.push({ kind: 'skip', path: d.path, reason: `partition table ${d.ptType}` }); continue; }
    if (d.fsType) { out.push({ kind: 'skip', path: d.path, reason: `signature ${d.fsType}${d.label ? ` (label ${d.label})` : ''}` }); continue; }
    if (mounts.length > 0) { out.push({ kind: 'skip', path: d.path, reason: 'mounted' }); continue; }
    if (d.sizeBytes < opts.minSizeBytes) { out.push({ kind: 'skip', path: d.path, reason: `smaller than ${opts.minSizeBytes} bytes` }); continue; }
    const probe = probes.get(d.path);
    if (!probe) { out.push({ kind: 'skip', path: d.path, reason: 'not probed' }); continue; }
    if (probe.wipefsSignatures.length > 0) { out.push({ kind: 'skip', path: d.path, reason: `wipefs signature ${probe.wipefsSignatures.join(',')}` }); continue; }
    if (probe.blkidFound) { out.push({ kind: 'skip', path: d.path, reason: 'blkid found a signature' }); continue; }
    let label: string;
    do label = `${opts.labelPrefix}${opts.newSuffix()}`.slice(0, 12); while (used.has(label));
    used.add(label);
    out.push({ kind: 'format', path: d.path, label });
  }
  return out;
}

/** Parses `lsblk -J -b -p -o PATH,TYPE,SIZE,RO,PTTYPE,FSTYPE,LABEL,MOUNTPOINTS` output. */
export function parseLsblk(json: string): BlockDevice[] {
  interface Raw { path?: string; name?: string; type: string; size: number | string | null; ro: boolean | string | number; pttype: string | null; fstype: string | null; label: string | null; mountpoints?: (string | null)[]; mountpoint?: string | null; children?: Raw[] }
  const conv = (r: Raw): BlockDevice => ({
    path: r.path ?? r.name ?? '',
    type: r.type,
    sizeBytes: Number(r.size ?? 0),
    readOnly: r.ro === true || r.ro === '1' || r.ro === 1,
    ptType: r.pttype || null,
    fsType: r.fstype || null,
    label: r.label || null,
    mountpoints: (r.mountpoints ?? [r.mountpoint ?? null]).filter((m): m is string => typeof m === 'string' && m !== ''),
    children: (r.children ?? []).map(conv),
  });
  const parsed = JSON.parse(json) as { blockdevices?: Raw[] };
  return (parsed.blockdevices ?? []).map(conv);
}
