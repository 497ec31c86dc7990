/**
 * Capped exponential backoff with full jitter, honouring a server's suggested wait. No
 * reconnect loop in the engine runs without going through here.
 */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1_000, capMs: 60_000 };

/** Delay before attempt `failures` (1 = first retry). `random` is injectable for tests. */
export const backoffDelayMs = (failures: number, policy: BackoffPolicy = DEFAULT_BACKOFF, serverSuggestedMs?: number, random: () => number = Math.random): number => {
  const exponential = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, failures - 1));
  // Half fixed, half jitter: spreads reconnects without ever retrying immediately.
  const jittered = exponential / 2 + random() * (exponential / 2);
  return Math.max(Math.round(jittered), serverSuggestedMs ?? 0);
};

/** Resolves after `ms`, or early (without throwing) when the signal aborts. */
export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
