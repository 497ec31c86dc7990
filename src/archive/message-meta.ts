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
