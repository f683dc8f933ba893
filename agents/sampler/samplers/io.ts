/**
 * @module agents/sampler/samplers/io
 * Per-volume idle IO %: finds the block device behind a path (st_dev -> major:minor ->
 * /sys/dev/block/M:m) and reads its "time spent doing I/Os (ms)" from /proc/diskstats;
 * idle % = 100 - busy_ms / elapsed_ms * 100 between two reads. A partition uses its own
 * line (kernels keep full stats per partition); loop, virtio, dm devices work the same.
 * Paths without a block device (tmpfs, overlay) report 100 with `known: false`.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { sleep } from '../../../appliance/common';

/** One /proc/diskstats line: the fields we use. */
export interface DiskStat { major: number; minor: number; name: string; ioMs: number }

/**
 * Parses /proc/diskstats: `major minor name` then counters; the 10th counter (field 13
 * overall) is the time spent doing I/Os in ms. Keyed by "major:minor".
 */
export function parseDiskstats(text: string): Map<string, DiskStat> {
  const out = new Map<string, DiskStat>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 13) continue;
    const major = Number(f[0]);
    const minor = Number(f[1]);
    const ioMs = Number(f[12]);
    if (!Number.isInteger(major) || !Number.isInteger(minor) || !Number.isFinite(ioMs)) continue;
    out.set(`${major}:${minor}`, { major, minor, name: f[2]!, ioMs });
  }
  return out;
}

/** Idle IO % from the busy time of two reads `elapsedMs` apart, clamped to 0..100. */
export function ioIdlePercent(prevIoMs: number, curIoMs: number, elapsedMs: number): number {
  if (elapsedMs <= 0) return 100;
  const busy = Math.max(0, curIoMs - prevIoMs);
  return Math.min(100, Math.max(0, 100 - (busy / elapsedMs) * 100));
}

/** Decodes a Linux dev_t (glibc 64-bit encoding) into major and minor. */
export function splitDev(dev: bigint): { major: number; minor: number } {
  const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
  const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
  return { major, minor };
}

/** The block device holding `p` ("major:minor" and kernel name), undefined for tmpfs, overlay... */
export async function blockDeviceOf(p: string, sysDevBlock = '/sys/dev/block'): Promise<{ key: string; name: string } | undefined> {
  const st = await fs.stat(p, { bigint: true });
  const { major, minor } = splitDev(st.dev);
  if (major === 0) return undefined; // anonymous device: tmpfs, overlay, proc...
  const key = `${major}:${minor}`;
  try {
    const target = await fs.readlink(path.join(sysDevBlock, key));
    return { key, name: path.basename(target) };
  } catch {
    return undefined;
  }
}

/** What the sampler says about one volume. */
export interface IoSample {
  /** idle IO % 0..100 (100 when unknown) */
  idle: number;
  /** false when the path has no block device or it is not in /proc/diskstats */
  known: boolean;
  /** kernel name of the device (sda1, vda, loop3, dm-0) */
  device?: string;
}

/** Samples idle IO % of volumes since its previous call (first call: over `firstWindowMs`). */
export class IoSampler {
  private prev: { time: number; stats: Map<string, DiskStat> } | undefined;

  constructor(private readonly diskstatsFile = '/proc/diskstats', private readonly firstWindowMs = 200) {}

  private async read(): Promise<{ time: number; stats: Map<string, DiskStat> } | undefined> {
    try {
      const text = await fs.readFile(this.diskstatsFile, 'utf8');
      return { time: performance.now(), stats: parseDiskstats(text) };
    } catch { return undefined; }
  }

  /** Resolved on every sample (cheap): a disk mounted on the path later is picked up. */
  private async deviceOf(p: string): Promise<{ key: string; name: string } | undefined> {
    try { return await blockDeviceOf(p); } catch { return undefined; }
  }

  /** One diskstats read for all the given volume paths. */
  async sample(paths: string[]): Promise<Map<string, IoSample>> {
    const out = new Map<string, IoSample>();
    if (!this.prev) {
      this.prev = await this.read();
      if (this.prev) await sleep(this.firstWindowMs);
    }
    const cur = await this.read();
    const prev = this.prev;
    for (const p of paths) {
      const dev = await this.deviceOf(p);
      const a = dev ? prev?.stats.get(dev.key) : undefined;
      const b = dev ? cur?.stats.get(dev.key) : undefined;
      if (!dev || !a || !b || !cur || !prev) { out.set(p, { idle: 100, known: false, ...(dev ? { device: dev.name } : {}) }); continue; }
      out.set(p, { idle: ioIdlePercent(a.ioMs, b.ioMs, cur.time - prev.time), known: true, device: dev.name });
    }
    if (cur) this.prev = cur;
    return out;
  }
}
