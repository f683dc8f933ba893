/**
 * @module fs-bridge/core/retry
 * "Retry, then EIO" (STYLE §4): the bridge's calls to the client library are retried with
 * backoff while the error is retryable (UNAVAILABLE, POLICY_NOT_SATISFIABLE under a score
 * dip, TIMEOUT...), so a short hiccup of the grid is not an I/O error in a user's program.
 * Every ObjectStorage method the bridge calls may be repeated: sources are buffers or spool
 * paths, never one-shot streams.
 */
import { isRetryable } from '../../appliance/common';
import type { ObjectStorage } from '../../appliance/client/object-storage';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The same client with each method retried `attempts` times (backoff from `baseMs`, doubled). */
export function withRetry(s: ObjectStorage, attempts = 6, baseMs = 100): ObjectStorage {
  return new Proxy(s, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function' || prop === 'forAccount') return v;
      return async (...args: unknown[]) => {
        for (let i = 0; ; i++) {
          try {
            return await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          } catch (e) {
            if (i + 1 >= attempts || !isRetryable(e)) throw e;
            await sleep(baseMs * 2 ** i);
          }
        }
      };
    },
  });
}
