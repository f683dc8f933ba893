/**
 * @module common/clock
 * Time sources, injectable for tests. Versions are microseconds since the epoch, strictly
 * increasing within a process (two writes in the same microsecond still get distinct ones).
 */
let lastMicros = 0;

export function nowMs(): number {
  return Date.now();
}

/** A strictly increasing microsecond timestamp, used as object version. */
export function nextVersionMicros(): number {
  const t = Date.now() * 1000;
  lastMicros = t > lastMicros ? t : lastMicros + 1;
  return lastMicros;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) { resolve(); return; }
    const onAbort = () => { clearTimeout(t); resolve(); };
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
