/**
 * Lets every connection of a run hear the run's stop signal through one listener on it. Each open
 * connection waits on that signal until it closes, so a run of four connection pairs (or a batch
 * of runs) had more than Node's ten listeners on one signal and printed "Possible EventTarget
 * memory leak detected" although nothing leaked. Here the signal has one listener whatever the
 * number of connections, and Node's warning keeps its meaning for real leaks.
 */
const waitersOf = new WeakMap<AbortSignal, Set<() => void>>();

/** The waiters of `signal`, and on first use the one listener that calls them all, once. */
const waitersOn = (signal: AbortSignal): Set<() => void> => {
  const known = waitersOf.get(signal);
  if (known) return known;
  const waiters = new Set<() => void>();
  waitersOf.set(signal, waiters);
  signal.addEventListener(
    'abort',
    () => {
      const called = [...waiters];
      waiters.clear();
      for (const waiter of called) {
        try {
          waiter();
        } catch (thrown) {
          // As an event listener's exception: reported, and the other waiters still called.
          process.nextTick(() => {
            throw thrown;
          });
        }
      }
    },
    { once: true },
  );
  return waiters;
};

/**
 * Calls `onAbort` once when `signal` aborts (not if it has already: the caller checks that, as
 * with addEventListener). Returns the way to stop waiting.
 */
export const onAbortOf = (signal: AbortSignal, onAbort: () => void): (() => void) => {
  const waiters = waitersOn(signal);
  // An entry of its own, even for a function given twice.
  const own = (): void => onAbort();
  waiters.add(own);
  return () => void waiters.delete(own);
};
