/**
 * @module gateways/admin-ssh/rate-limiter
 * Failed logins per source address: after `maxFailures` within `windowMs` the address is
 * refused until its oldest counted failure leaves the window. Pure (time passed in).
 */

export class RateLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly maxFailures: number, private readonly windowMs: number) {}

  private recent(addr: string, now: number): number[] {
    const list = (this.failures.get(addr) ?? []).filter((t) => now - t < this.windowMs);
    if (list.length) this.failures.set(addr, list); else this.failures.delete(addr);
    return list;
  }

  /** Whether `addr` has used up its failures (and must be refused without checking). */
  isBlocked(addr: string, now: number): boolean {
    return this.recent(addr, now).length >= this.maxFailures;
  }

  /** Counts one failure; returns the failures of `addr` in the window, this one included. */
  fail(addr: string, now: number): number {
    const list = this.recent(addr, now);
    list.push(now);
    this.failures.set(addr, list);
    // Forget idle addresses so a scan of many sources cannot grow the map for ever.
    if (this.failures.size > 10_000) for (const a of this.failures.keys()) this.recent(a, now);
    return list.length;
  }
}
