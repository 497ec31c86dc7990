/**
 * A multiset of destination messages by fingerprint. Matching takes one message out, so two
 * genuine twins on the source need two copies on the destination before both count as there.
 */
import type { MessageMeta } from './store.js';

export class FingerprintPool {
  private readonly byFingerprint = new Map<string, number[]>();

  constructor(messages: Iterable<Pick<MessageMeta, 'uid' | 'fingerprint'>> = []) {
    for (const m of messages) this.add(m.fingerprint, m.uid);
  }

  add(fingerprint: string, uid: number): void {
    const uids = this.byFingerprint.get(fingerprint);
    if (uids) uids.push(uid);
    else this.byFingerprint.set(fingerprint, [uid]);
  }

  /** Takes any one message with this fingerprint; returns its UID, or undefined if none is left. */
  take(fingerprint: string): number | undefined {
    const uids = this.byFingerprint.get(fingerprint);
    const uid = uids?.shift();
    if (uids && uids.length === 0) this.byFingerprint.delete(fingerprint);
    return uid;
  }

  /** No fingerprint holds a message any more (taking the last one removes its entry). */
  get isEmpty(): boolean {
    return this.byFingerprint.size === 0;
  }

  has(fingerprint: string): boolean {
    return (this.byFingerprint.get(fingerprint)?.length ?? 0) > 0;
  }
}
