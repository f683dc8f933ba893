/**
 * @module agents/sampler/samplers/cpu
 * Node-wide idle CPU %: deltas of the aggregate "cpu" line of /proc/stat between two reads
 * (idle + iowait over all jiffies). Falls back to systeminformation where /proc is missing.
 */
import fs from 'node:fs/promises';
import { sleep } from '../../../appliance/common';

/** Cumulative jiffies of the aggregate "cpu" line. */
export interface CpuTimes { idle: number; total: number }

/**
 * Parses the aggregate `cpu` line of /proc/stat. Fields: user nice system idle iowait irq
 * softirq steal guest guest_nice; guest time is already counted in user/nice, so total
 * excludes it. Idle = idle + iowait (a CPU waiting on IO could run something else).
 * Returns undefined when the line is missing.
 */
export function parseProcStat(text: string): CpuTimes | undefined {
  const line = text.split('\n').find((l) => /^cpu\s/.test(l));
  if (!line) return undefined;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const v = (i: number): number => (Number.isFinite(f[i]) ? f[i]! : 0);
  const total = v(0) + v(1) + v(2) + v(3) + v(4) + v(5) + v(6) + v(7);
  return { idle: v(3) + v(4), total };
}

/** Idle CPU % between two snapshots, clamped to 0..100; 100 when no time elapsed. */
export function cpuIdlePercent(prev: CpuTimes, cur: CpuTimes): number {
  const dt = cur.total - prev.total;
  if (dt <= 0) return 100;
  return Math.min(100, Math.max(0, ((cur.idle - prev.idle) / dt) * 100));
}

/** Samples idle CPU % since its previous call (the first call measures over `firstWindowMs`). */
export class CpuSampler {
  private prev: CpuTimes | undefined;

  constructor(private readonly statFile = '/proc/stat', private readonly firstWindowMs = 200) {}

  private async read(): Promise<CpuTimes | undefined> {
    try { return parseProcStat(await fs.readFile(this.statFile, 'utf8')); } catch { return undefined; }
  }

  /** Idle CPU % (0..100). */
  async sample(): Promise<number> {
    if (!this.prev) {
      this.prev = await this.read();
      if (!this.prev) return fallbackIdle();
      await sleep(this.firstWindowMs);
    }
    const cur = await this.read();
    if (!cur) return fallbackIdle();
    const idle = cpuIdlePercent(this.prev, cur);
    this.prev = cur;
    return idle;
  }
}

/** systeminformation's own measure, for systems without /proc/stat. */
async function fallbackIdle(): Promise<number> {
  const si = await import('systeminformation');
  const load = await si.currentLoad();
  return Math.min(100, Math.max(0, load.currentLoadIdle));
}
