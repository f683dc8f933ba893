/**
 * @module agents/disk-manager/system
 * The system tools the disk manager runs (lsblk, wipefs, blkid, mkfs.xfs, mount), each
 * through child_process.execFile (no shell). `execa` is not installed in this project, so
 * this is the thin promise wrapper in its place.
 */
import { execFile } from 'node:child_process';
import { parseLsblk, type BlockDevice, type DeviceProbe } from './plan';

export interface RunResult { code: number; stdout: string; stderr: string }

/** Runs a command without a shell; resolves with its exit status (never rejects on status). */
export function run(cmd: string, args: string[], timeoutMs = 120_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } }, (err, stdout, stderr) => {
      if (err && typeof (err as NodeJS.ErrnoException).code === 'string') { reject(new Error(`${cmd}: ${err.message}`)); return; }
      const code = err ? Number((err as { code?: number }).code ?? 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Runs a command and fails with its stderr unless it exits 0. */
export async function runOk(cmd: string, args: string[], timeoutMs?: number): Promise<string> {
  const r = await run(cmd, args, timeoutMs);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/**
 * Block device majors never storage: 1 RAM disks (lsblk's default exclusion), 2 floppy
 * drives, 11 optical drives. Probing a floppy drive without a disk blocks until the driver
 * gives up with an I/O error: QEMU machines have one, and the image's disk pass waited on it.
 */
export const NOT_STORAGE_MAJORS = [1, 2, 11];

/** Every block device (or only `paths`) as lsblk sees it, without floppy and optical drives. */
export async function listBlockDevices(paths: string[] = []): Promise<BlockDevice[]> {
  // lsblk reads udev's database; probe directly too (-o FSTYPE comes from udev or libblkid)
  const out = await runOk('lsblk', ['-J', '-b', '-p', '-e', NOT_STORAGE_MAJORS.join(','), '-o', 'PATH,TYPE,SIZE,RO,PTTYPE,FSTYPE,LABEL,MOUNTPOINTS', ...paths]);
  return parseLsblk(out);
}

/** wipefs -n (no-act) and blkid -p (low-level probe, bypassing any cache). */
export async function probeDevice(path: string): Promise<DeviceProbe> {
  const w = await runOk('wipefs', ['-n', '-J', path]);
  const sigs = w.trim() ? ((JSON.parse(w) as { signatures?: Array<{ type?: string }> }).signatures ?? []).map((s) => s.type ?? '?') : [];
  // blkid -p: 0 = something found, 2 = nothing found, else an error (treated as found).
  const b = await run('blkid', ['-p', path]);
  return { wipefsSignatures: sigs, blkidFound: b.code !== 2 };
}

/** File system type and label blkid reads now (after mkfs, before udev catches up). */
export async function blkidValue(path: string, tag: 'TYPE' | 'LABEL'): Promise<string | null> {
  const r = await run('blkid', ['-p', '-s', tag, '-o', 'value', path]);
  return r.code === 0 ? r.stdout.trim() || null : null;
}

/** `blkid -p -o export`: TYPE, LABEL, PTTYPE... read from the device now (no udev, no cache). */
export async function blkidExport(path: string): Promise<Record<string, string>> {
  const r = await run('blkid', ['-p', '-o', 'export', path]);
  const out: Record<string, string> = {};
  if (r.code !== 0) return out;
  for (const l of r.stdout.split('\n')) { const eq = l.indexOf('='); if (eq > 0) out[l.slice(0, eq)] = l.slice(eq + 1); }
  return out;
}

/** Formats XFS with a label; without -f, mkfs.xfs itself refuses a device with a signature. */
export async function formatXfs(path: string, label: string): Promise<void> {
  await runOk('mkfs.xfs', ['-q', '-L', label, path], 600_000);
}

export async function mountXfs(path: string, dir: string): Promise<void> {
  await runOk('mount', ['-t', 'xfs', '-o', 'noatime', path, dir]);
}

/** Where `path` is mounted now, from /proc/self/mountinfo-backed findmnt; null when not. */
export async function mountpointOf(path: string): Promise<string | null> {
  const r = await run('findmnt', ['-n', '-o', 'TARGET', '--source', path]);
  return r.code === 0 ? r.stdout.split('\n')[0]!.trim() || null : null;
}
