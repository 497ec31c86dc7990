/**
 * How fast a destination takes our APPEND bytes, measured batch by batch on one connection, and
 * what follows from it: how long an answer may take before we give up, how long after a lost
 * connection a command may still commit (its settle window), and how big the next batch should
 * be. Deadlines and settle windows use the slowest recent measurement: they must hold on a bad
 * moment, not an average one. The batch size follows the latest one: sized by the slowest, a
 * link whose first small batches were mostly round trips kept its batches small, and every
 * batch costs round trips of its own (a sizable part of a copy over 25 ms each way).
 */

/** A late answer is allowed this many times the time the measured rate says the bytes need. */
const DEADLINE_SAFETY = 3;
/** Before any batch was measured: a rate slow enough for a poor mobile uplink. */
const ASSUMED_BYTES_PER_SECOND = 256 * 1024;
/** Rates measured on batches smaller than this are mostly round trips: not kept. */
const MIN_SAMPLE_BYTES = 64 * 1024;
/** The slowest of this many recent batches is the rate deadlines and settle windows use. */
const RATE_SAMPLES = 8;
/** What a batch should take on the link: short enough that little is ever in doubt. */
const BATCH_TARGET_MS = 2_000;
/** The first batch, before anything was measured, and the smallest and largest ever asked for. */
export const FIRST_BATCH_BYTES = 1024 * 1024;
const MIN_BATCH_BYTES = 64 * 1024;
/**
 * After the connection is lost with committing bytes on the way, a late commit is awaited for
 * this margin (server work: writing, indexing, a busy disk) plus SETTLE_SAFETY times the time
 * those bytes need at the slowest rate seen, at most SETTLE_CAP_MS.
 */
export const SETTLE_MARGIN_MS = 5_000;
const SETTLE_SAFETY = 3;
const SETTLE_CAP_MS = 15 * 60_000;

/** The rate at which the server took our APPEND bytes (sent to answered), over recent batches. */
export class LinkRate {
  private readonly samples: number[] = [];

  record(bytes: number, elapsedMs: number): void {
    if (bytes < MIN_SAMPLE_BYTES) return;
    this.samples.push((bytes * 1000) / Math.max(1, elapsedMs));
    if (this.samples.length > RATE_SAMPLES) this.samples.shift();
  }

  /** Bytes per second, or undefined before anything was measured. */
  get slowest(): number | undefined {
    return this.samples.length === 0 ? undefined : Math.min(...this.samples);
  }

  /** How long `bytes` may take on the link before we stop waiting (on top of the idle timeout). */
  allowanceMs(bytes: number): number {
    return (DEADLINE_SAFETY * bytes * 1000) / (this.slowest ?? ASSUMED_BYTES_PER_SECOND);
  }

  /** How long after now `bytes` sent from now on could still complete a command on the server. */
  settleMs(bytes: number): number {
    return Math.min(SETTLE_CAP_MS, Math.ceil(SETTLE_MARGIN_MS + (SETTLE_SAFETY * bytes * 1000) / (this.slowest ?? ASSUMED_BYTES_PER_SECOND)));
  }

  /** About BATCH_TARGET_MS of the link at its latest measured rate, at most `maxBytes`. */
  preferredBatchBytes(maxBytes: number): number {
    const rate = this.samples.at(-1);
    if (rate === undefined) return FIRST_BATCH_BYTES;
    return Math.round(Math.min(maxBytes, Math.max(MIN_BATCH_BYTES, (rate * BATCH_TARGET_MS) / 1000)));
  }
}
