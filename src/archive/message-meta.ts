/** MessageMeta of a message held whole (a Maildir or .eml file): fingerprint and report fields from its bytes. */
import { fingerprintOfMessage, headerBlockEnd, headerValue, parseHeaderFields } from '../engine/fingerprint.js';
import type { MessageMeta } from '../engine/store.js';

export const metaOfStoredMessage = (uid: number, body: Buffer, flags: string[], internalDate: Date): MessageMeta => {
  const fields = parseHeaderFields(body.subarray(0, headerBlockEnd(body)));
  return {
    uid,
    sizeBytes: body.length,
    flags: [...flags].sort(),
    internalDate,
    fingerprint: fingerprintOfMessage(body),
    subject: headerValue(fields, 'subject'),
    messageId: headerValue(fields, 'message-id'),
    date: headerValue(fields, 'date'),
  };
};

/**
 * What a reader lists for a message file it may not read (a link, a pipe): no fingerprint of
 * its own, so it matches nothing, and reading it fails with the reason; the other messages go on.
 */
export const refusedMessageMeta = (uid: number, name: string, flags: string[]): MessageMeta => ({
  uid,
  sizeBytes: 0,
  flags: [...flags].sort(),
  internalDate: new Date(0),
  fingerprint: `refused:${name}`,
});
