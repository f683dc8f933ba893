/**
 * @module client/resolver/replica-order
 * The order in which a caller tries the replicas of a base: the one that answered last first
 * (usually the master), and replicas that timed out or were unreachable lately last, so a
 * dead or paused replica costs one timeout, not one per request.
 */
import { isRetryable, toOioError } from '../../common';

const SUSPECT_MS = 10_000;

export class ReplicaOrder {
  /** replica -> until when it is tried last */
  private readonly suspects = new Map<string, number>();

  constructor(private readonly suspectMs = SUSPECT_MS) {}

  /** `addrs` with `preferred` first and recently failed replicas last. */
  order(addrs: string[], preferred?: string): string[] {
    const now = Date.now();
    const suspect = (a: string) => (this.suspects.get(a) ?? 0) > now;
    const first = preferred && addrs.includes(preferred) ? [preferred, ...addrs.filter((a) => a !== preferred)] : addrs;
    return [...first.filter((a) => !suspect(a)), ...first.filter(suspect)];
  }

  /**
   * Calls `fn` on each replica in this order until one answers; a non-retryable error is the
   * answer. When every replica failed, `exhausted` sees the last error, which is thrown.
   */
  async first<T>(addrs: string[], fn: (addr: string) => Promise<T>, opts: { preferred?: string; exhausted?: (last: unknown) => void } = {}): Promise<{ value: T; addr: string }> {
    let last: unknown;
    for (const addr of this.order(addrs, opts.preferred)) {
      try {
        const value = await fn(addr);
        this.answered(addr);
        return { value, addr };
      } catch (e) { last = e; this.failed(addr, e); if (!isRetryable(e)) throw e; }
    }
    opts.exhausted?.(last);
    throw last;
  }

  /** A replica answered (whatever the answer). */
  answered(addr: string): void {
    this.suspects.delete(addr);
  }

  /** A call failed: a timeout or an unreachable replica makes it a suspect for a while. */
  failed(addr: string, e: unknown): void {
    const code = toOioError(e).code;
    if (code !== 'TIMEOUT' && code !== 'UNAVAILABLE') { this.answered(addr); return; }
    if (this.suspects.size > 10_000) this.suspects.clear();
    this.suspects.set(addr, Date.now() + this.suspectMs);
  }
}

/** True when an error says the replicas were out of reach, not that the reference is wrong. */
export function isReachError(e: unknown): boolean {
  const code = toOioError(e).code;
  return code === 'TIMEOUT' || code === 'UNAVAILABLE' || code === 'NOT_MASTER';
}
