/**
 * What a source does when reading a batch of bodies failed, shared by the wire reader and the
 * imapflow reference reader so both fall back alike.
 */
import type { MigrationError } from '../contract/result.js';
import type { BodyResult } from '../engine/store.js';

/**
 * A lost connection or a retryable error stops the batch (thrown); a server NO for a single
 * message is that message's failure; a NO for a batch is narrowed down message by message, so
 * one unreadable message does not cost the others.
 */
export async function* narrowFailedRead(
  error: MigrationError,
  isConnectionLost: boolean,
  uids: number[],
  pending: Set<number>,
  readOne: (uid: number) => AsyncIterable<BodyResult>,
): AsyncIterable<BodyResult> {
  if (error.retryable || isConnectionLost || uids.length === 1) {
    if (uids.length === 1 && !error.retryable) {
      yield { uid: uids[0] as number, ok: false, error };
      return;
    }
    throw error;
  }
  for (const uid of [...pending]) {
    pending.delete(uid);
    yield* readOne(uid);
  }
}
