/**
 * LIST + STATUS for a whole account: every folder with its counts, size and special use (at most
 * MAX_FOLDERS folders: a server listing more is broken or hostile).
 * Size comes from STATUS=SIZE where the server has it, otherwise from summing RFC822.SIZE
 * (read-only: EXAMINE), because progress and estimates are measured in bytes.
 */
import type { ImapFlow, ListResponse } from 'imapflow';
import type { SourceFolder, SpecialUse } from '../contract/plan.js';
import type { NamespaceInfo } from '../engine/store.js';
import { MAX_FOLDERS, serverOverrun } from './server-limits.js';

const SPECIAL_USES = new Set<string>(['\\Inbox', '\\Sent', '\\Drafts', '\\Trash', '\\Junk', '\\Archive', '\\All', '\\Flagged', '\\Important']);

export const namespaceOf = (client: ImapFlow): NamespaceInfo => {
  const ns = client.namespace as { prefix?: string; delimiter?: string } | undefined;
  return {
    prefix: ns?.prefix ?? '',
    delimiter: ns?.delimiter ?? '/',
    // imapflow keeps `APPENDLIMIT=N` as key APPENDLIMIT with value N: give it back its value.
    capabilities: [...(client.capabilities ?? new Map<string, unknown>())]
      .map(([name, value]) => (typeof value === 'number' && value > 0 ? `${name}=${value}` : name))
      .sort(),
    server: {
      host: client.options?.host ?? '',
      name: (client.serverInfo as { name?: string } | null | undefined)?.name ?? undefined,
      // Courier answers no ID command; its greeting names it. imapflow keeps the greeting's text.
      greeting: (client as { greeting?: unknown }).greeting?.toString() || undefined,
    },
  };
};

/** Splits a full path into levels below the personal namespace prefix. */
export const segmentsOf = (path: string, delimiter: string | null, prefix: string): string[] => {
  if (path.toUpperCase() === 'INBOX') return ['INBOX'];
  const below = prefix && path.startsWith(prefix) ? path.slice(prefix.length) : path;
  return delimiter ? below.split(delimiter) : [below];
};

const sumSizes = async (client: ImapFlow, path: string): Promise<number> => {
  const lock = await client.getMailboxLock(path, { readOnly: true });
  try {
    let total = 0;
    if (!client.mailbox || client.mailbox.exists === 0) return 0;
    for await (const m of client.fetch('1:*', { size: true })) total += m.size ?? 0;
    return total;
  } finally {
    lock.release();
  }
};

const toSourceFolder = (entry: ListResponse, prefix: string): SourceFolder => {
  const isSelectable = !entry.flags.has('\\Noselect') && !entry.flags.has('\\NonExistent');
  const specialUse = entry.specialUse && SPECIAL_USES.has(entry.specialUse) ? (entry.specialUse as SpecialUse) : undefined;
  return {
    path: entry.path,
    segments: segmentsOf(entry.path, entry.delimiter, prefix),
    delimiter: entry.delimiter ?? null,
    specialUse,
    isSelectable,
    messages: entry.status?.messages ?? 0,
    sizeBytes: entry.status?.size ?? 0,
    uidValidity: entry.status?.uidValidity?.toString(),
    uidNext: entry.status?.uidNext,
  };
};

/** Every folder of the account, with STATUS counts; sizes only when `withSizes`. */
export const listFolders = async (client: ImapFlow, withSizes: boolean): Promise<SourceFolder[]> => {
  const { prefix } = namespaceOf(client);
  const hasStatusSize = client.capabilities.has('STATUS=SIZE') || client.capabilities.has('IMAP4rev2');
  const entries = await client.list({
    statusQuery: withSizes ? { messages: true, uidNext: true, uidValidity: true, ...(hasStatusSize ? { size: true } : {}) } : undefined,
  });
  // The response watch (connect-imap.ts) caps the answers to LIST; this caps the account.
  if (entries.length > MAX_FOLDERS) throw serverOverrun(`${MAX_FOLDERS.toLocaleString('en-US')} folders`);
  const folders = entries.filter((e) => !e.flags.has('\\NonExistent')).map((e) => toSourceFolder(e, prefix));
  if (withSizes && !hasStatusSize) {
    for (const folder of folders) {
      if (folder.isSelectable && folder.messages > 0) folder.sizeBytes = await sumSizes(client, folder.path);
    }
  }
  return folders;
};
