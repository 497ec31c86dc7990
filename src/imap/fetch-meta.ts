/**
 * Reads message metadata (UID, size, flags, INTERNALDATE and the fingerprint header fields)
 * with BODY.PEEK, so reading never sets \Seen. Shared by the source and the destination side.
 */
import type { ImapFlow, FetchMessageObject } from 'imapflow';
import type { MessageMeta } from '../engine/store.js';
import { FINGERPRINT_HEADERS, fingerprintFromFields, headerValue, parseHeaderFields } from '../engine/fingerprint.js';
import { chunkUids, toUidSet } from './uid-set.js';

/** \Recent is session state owned by the server; it must never be copied. */
export const storableFlags = (flags: Set<string> | undefined): string[] =>
  flags ? [...flags].filter((f) => f.toLowerCase() !== '\\recent').sort() : [];

const toDate = (value: Date | string | undefined): Date => (value instanceof Date ? value : value ? new Date(value) : new Date(0));

export const metaOf = (message: FetchMessageObject): MessageMeta => {
  const headers = message.headers ?? Buffer.alloc(0);
  const size = message.size ?? 0;
  const fields = parseHeaderFields(headers);
  return {
    uid: message.uid,
    sizeBytes: size,
    flags: storableFlags(message.flags),
    internalDate: toDate(message.internalDate),
    fingerprint: fingerprintFromFields(fields, size),
    subject: headerValue(fields, 'subject'),
    messageId: headerValue(fields, 'message-id'),
    date: headerValue(fields, 'date'),
  };
};

const META_QUERY = { uid: true, size: true, flags: true, internalDate: true, headers: [...FINGERPRINT_HEADERS] } as const;

/** Metadata of the given UIDs (or a UID range string like "5:*") in the selected folder. */
export const fetchMeta = async (client: ImapFlow, uids: number[] | string): Promise<MessageMeta[]> => {
  const ranges = typeof uids === 'string' ? [uids] : chunkUids(uids).map(toUidSet);
  const metas: MessageMeta[] = [];
  for (const range of ranges) {
    if (!range) continue;
    for await (const message of client.fetch(range, { ...META_QUERY, headers: [...META_QUERY.headers] }, { uid: true })) {
      metas.push(metaOf(message));
    }
  }
  return metas;
};
