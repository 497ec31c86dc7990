/**
 * What is known about the big providers' IMAP servers, as data. Planning consults it; nothing
 * here talks to a server. Each entry says where its facts come from.
 */
import type { SpecialUse } from '../contract/plan.js';

export type ProviderId = 'gmail' | 'exchange' | 'icloud' | 'yahoo' | 'zimbra' | 'cyrus' | 'courier' | 'generic';

export interface ProviderQuirks {
  id: ProviderId;
  name: string;
  /** Folder names (any case, whole path below the prefix) that mean a special use where the server's LIST does not say so. */
  specialUseByName: Record<string, SpecialUse>;
  /** Source folders that are not mail, or only views of mail held elsewhere: not selected by default. */
  unselectedByDefault: { name: string; reason: string }[];
  /** Destination names that hold something other than mail: a source folder landing there is renamed. */
  reservedNames: string[];
  /** Folder names that differ only by case are one folder on this server. */
  isCaseInsensitive: boolean;
  /** The largest message the server accepts, when documented; bigger ones are refused. */
  maxMessageBytes?: number;
  /** How much may be uploaded over IMAP in a day, when the provider documents it. */
  dailyUploadBytes?: number;
  /**
   * Characters this server refuses in a folder name, beyond those refused almost everywhere
   * (its separator, `/`, `*`, `%`, control characters, a leading `~`: see map-folders.ts).
   */
  refusedNameCharacters?: string;
}

const GENERIC: ProviderQuirks = { id: 'generic', name: 'IMAP server', specialUseByName: {}, unselectedByDefault: [], reservedNames: [], isCaseInsensitive: false };

const QUIRKS: Record<Exclude<ProviderId, 'generic'>, ProviderQuirks> = {
  // Gmail: labels shown as folders; "[Gmail]/All Mail" (\All) repeats every message, "Starred"
  // (\Flagged) and "Important" (\Important) are views. Names are case-insensitive. Google's IMAP
  // extensions (X-GM-EXT-1) give each message's labels as X-GM-LABELS.
  gmail: {
    id: 'gmail',
    name: 'Gmail',
    specialUseByName: { '[Gmail]/All Mail': '\\All', '[Gmail]/Starred': '\\Flagged', '[Gmail]/Important': '\\Important', '[Google Mail]/All Mail': '\\All' },
    unselectedByDefault: [
      { name: '[Gmail]/Chats', reason: 'It holds chat transcripts, not mail.' },
      { name: '[Google Mail]/Chats', reason: 'It holds chat transcripts, not mail.' },
    ],
    reservedNames: ['[Gmail]', '[Google Mail]'],
    isCaseInsensitive: true,
    maxMessageBytes: 25 * 1024 * 1024,
    // Google's published Gmail bandwidth limits: IMAP uploads of 500 MB a day per account.
    dailyUploadBytes: 500 * 1000 * 1000,
  },
  // Microsoft 365 / Outlook.com (Exchange Online): English folder names "Sent Items",
  // "Deleted Items", "Junk Email"; Calendar, Contacts, Tasks, Notes and Journal are not mail
  // (hidden from IMAP on current servers, listed by older Exchange). 35 MB default message limit.
  // Throttling answers carry "Suggested Backoff Time", which imapflow turns into ETHROTTLE.
  exchange: {
    id: 'exchange',
    name: 'Microsoft 365 / Exchange',
    specialUseByName: { 'Sent Items': '\\Sent', 'Deleted Items': '\\Trash', 'Junk Email': '\\Junk', Drafts: '\\Drafts', Archive: '\\Archive' },
    unselectedByDefault: ['Calendar', 'Contacts', 'Tasks', 'Notes', 'Journal', 'Conversation History', 'Sync Issues'].map((name) => ({
      name,
      reason: 'Exchange keeps calendars, contacts and other non-mail items here.',
    })),
    reservedNames: ['Calendar', 'Contacts', 'Tasks', 'Notes', 'Journal'],
    isCaseInsensitive: true,
    maxMessageBytes: 35 * 1024 * 1024,
  },
  // iCloud Mail: "Sent Messages", "Deleted Messages", "Junk"; 20 MB per message.
  icloud: {
    id: 'icloud',
    name: 'iCloud Mail',
    specialUseByName: { 'Sent Messages': '\\Sent', 'Deleted Messages': '\\Trash', Junk: '\\Junk', Drafts: '\\Drafts', Archive: '\\Archive' },
    unselectedByDefault: [],
    reservedNames: [],
    isCaseInsensitive: false,
    maxMessageBytes: 20 * 1024 * 1024,
  },
  // Yahoo Mail: "Bulk" / "Bulk Mail" is its spam folder, "Draft" singular; 25 MB per message.
  yahoo: {
    id: 'yahoo',
    name: 'Yahoo Mail',
    specialUseByName: { Bulk: '\\Junk', 'Bulk Mail': '\\Junk', Draft: '\\Drafts', Sent: '\\Sent', Trash: '\\Trash', Archive: '\\Archive' },
    unselectedByDefault: [],
    reservedNames: [],
    isCaseInsensitive: true,
    maxMessageBytes: 25 * 1024 * 1024,
  },
  // Zimbra: one flat, case-insensitive namespace for mail, calendars, contacts, tasks and the
  // briefcase, all listed over IMAP; mail must not land in (or come from) those.
  zimbra: {
    id: 'zimbra',
    name: 'Zimbra',
    specialUseByName: { Sent: '\\Sent', Trash: '\\Trash', Junk: '\\Junk', Drafts: '\\Drafts' },
    unselectedByDefault: ['Calendar', 'Contacts', 'Emailed Contacts', 'Tasks', 'Briefcase', 'Chats'].map((name) => ({
      name,
      reason: 'Zimbra keeps calendars, contacts, tasks and files here, not mail.',
    })),
    reservedNames: ['Calendar', 'Contacts', 'Emailed Contacts', 'Tasks', 'Briefcase', 'Chats'],
    isCaseInsensitive: true,
  },
  // Cyrus IMAP (3.x): its mailbox-name rules refuse `"`, `\`, `%` and `/` in a name with the
  // `.` separator ("NO Invalid mailbox name"; pinned on a real Cyrus 3.6 in
  // test/support/cyrus.test.ts). It names itself in its ID answer ("Cyrus IMAPD").
  cyrus: {
    id: 'cyrus',
    name: 'Cyrus IMAP',
    specialUseByName: {},
    unselectedByDefault: [],
    reservedNames: [],
    isCaseInsensitive: false,
    refusedNameCharacters: '"\\%/',
  },
  // Courier IMAP: refuses `/`, empty levels and a leading `~` (taken for INBOX itself); has no
  // ID command, but its greeting says "Courier-IMAP" (test/support/courier.test.ts).
  courier: {
    id: 'courier',
    name: 'Courier IMAP',
    specialUseByName: {},
    unselectedByDefault: [],
    reservedNames: [],
    isCaseInsensitive: false,
    refusedNameCharacters: '/',
  },
};

/**
 * Answers that mean "this account reached the provider's limit; later": the job waits and goes
 * on by itself. Matched on the server's words, which is otherwise never done (classify-error.ts)
 * because these answers carry no code of their own or an ambiguous one: Gmail's bandwidth limit
 * comes as [OVERQUOTA], like a full mailbox. (Microsoft 365's "Request is throttled. Suggested
 * Backoff Time: N milliseconds" is read in wire-session.ts, with its own wait.)
 */
export const PROVIDER_LIMIT_ANSWERS: readonly { provider: string; text: RegExp }[] = [
  // Google: "[OVERQUOTA] Account exceeded command or bandwidth limits." The block lifts within a
  // day (Gmail bandwidth limits, Google Workspace Admin Help); the job tries again every
  // JobSettings.providerLimitRetryMs (an hour by default) to find out.
  { provider: 'Gmail', text: /exceeded command or bandwidth limits/i },
];

/** Facts a server shows about itself right after login. */
export interface ServerIdentity {
  host: string;
  capabilities: string[];
  /** The server's own name from the ID command, when it answered. */
  serverName?: string;
  /** The text of the server's greeting (for servers without ID, like Courier). */
  greeting?: string;
}

/** Picks the provider by the most specific sign: a capability, the ID answer, then the host name. */
export const detectProvider = (server: ServerIdentity): ProviderQuirks => {
  const host = server.host.toLowerCase();
  const capabilities = new Set(server.capabilities.map((c) => c.toUpperCase()));
  const name = server.serverName?.toLowerCase() ?? '';
  if (capabilities.has('X-GM-EXT-1') || host === 'imap.gmail.com' || host === 'imap.googlemail.com') return QUIRKS.gmail;
  if (name.includes('zimbra')) return QUIRKS.zimbra;
  const greeting = server.greeting?.toLowerCase() ?? '';
  if (name.startsWith('cyrus') || /\bcyrus imap/.test(greeting)) return QUIRKS.cyrus;
  if (greeting.includes('courier-imap')) return QUIRKS.courier;
  if (name.includes('exchange') || host.endsWith('outlook.office365.com') || host.endsWith('.outlook.com') || host === 'imap-mail.outlook.com') return QUIRKS.exchange;
  if (host === 'imap.mail.me.com' || host.endsWith('.mail.me.com')) return QUIRKS.icloud;
  if (host === 'imap.mail.yahoo.com' || host.endsWith('.mail.yahoo.com') || host === 'imap.aol.com') return QUIRKS.yahoo;
  return GENERIC;
};

export const genericQuirks = (): ProviderQuirks => GENERIC;

/** A Gmail message whose labels are only system flags lives only in All Mail (it was archived). */
export const isOnlyInAllMail = (labels: Iterable<string>): boolean => {
  const meaningful = [...labels].filter((label) => !['\\Important', '\\Starred'].includes(label));
  return meaningful.length === 0;
};
