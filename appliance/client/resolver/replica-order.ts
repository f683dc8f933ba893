/**
 * @module client/resolver/replica-order
 * The order in which a caller tries the replicas of a base: the one that answered last first
 * (usually the master), and replicas that timed out or were unreachable lately last, so a
 * dead or paused replica costs one timeout, not one per request.
 */

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

  /** A replica answered (whatever the answer). */
  answered(addr: string): void {
    this.suspects.delete(addr);
  }

  /** A call failed: a timeout or an unreachable replica makes it a suspect for a while. */
  failed(addr: string, e: unknown): void {
    const code = (e as { code?: string }).code;
    if (code !== 'TIMEOUT' && code !== 'UNAVAILABLE') { this.answered(addr); return; }
    if (this.suspects.size > 10_000) this.suspects.clear();
    this.suspects.set(addr, Date.now() + this.suspectMs);
  }
}

/** True when an error says the replicas were out of reach, not that the reference is wrong. */
export function isReachError(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return code === 'TIMEOUT' || code === 'UNAVAILABLE' || code === 'NOT_MASTER';
}
