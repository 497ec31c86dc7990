/**
 * A token bucket shared by every connection of a job, so an optional bytes-per-second cap
 * keeps the old server usable while the move runs.
 */
import { sleep } from './backoff.js';

export const createBandwidthLimiter = (bytesPerSecond: number, now: () => number = Date.now) => {
  if (!bytesPerSecond || bytesPerSecond <= 0) return async (): Promise<void> => undefined;
  // One second of burst; a message larger than that waits for its share and goes alone.
  let available = bytesPerSecond;
  let last = now();
  return async (bytes: number, signal?: AbortSignal): Promise<void> => {
    const refill = (): void => {
      const t = now();
      available = Math.min(bytesPerSecond, available + ((t - last) / 1000) * bytesPerSecond);
      last = t;
    };
    refill();
    available -= bytes;
    if (available < 0) await sleep((-available / bytesPerSecond) * 1000, signal);
  };
};
