/**
 * Messages at the edges of RFC 5322 (bare LF or CR, NUL, no final CRLF, no header, empty), and
 * a way to see what a server stores for each: the server-helper tests of Cyrus and Courier use
 * them to pin down how each server treats them.
 */
import assert from 'node:assert/strict';
import type { ImapFlow } from 'imapflow';

export const ODD_MESSAGES: Record<string, Buffer> = {
  'bare LF': Buffer.from('Subject: lf\n\nline1\nline2\n'),
  'bare CR': Buffer.from('Subject: cr\r\n\r\nline1\rline2\r\n'),
  'NUL in body': Buffer.from('Subject: nul\r\n\r\nab\0cd\r\n'),
  'no final CRLF': Buffer.from('Subject: nofinal\r\n\r\nlast line'),
  'no header': Buffer.from('\r\njust body\r\n'),
  empty: Buffer.alloc(0),
};

/** APPENDs `raw` to INBOX and reads it back: the stored bytes, or the server's refusal text. */
export const appendAndRead = async (client: ImapFlow, raw: Buffer, internalDate: Date): Promise<Buffer | { refused: string }> => {
  let appended;
  try {
    appended = await client.append('INBOX', raw, ['\\Seen'], internalDate);
  } catch (error) {
    return { refused: (error as { responseText?: string }).responseText ?? String(error) };
  }
  assert.ok(appended, 'APPENDUID');
  const lock = await client.getMailboxLock('INBOX');
  try {
    const message = await client.fetchOne(String(appended.uid), { source: true }, { uid: true });
    assert.ok(message && message.source);
    return message.source;
  } finally {
    lock.release();
  }
};
