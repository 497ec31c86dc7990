/** Provider quirks, built from each provider's documented folder names and IMAP behaviour. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SourceFolder } from '../contract/plan.js';
import { mapFolders } from './map-folders.js';
import { detectProvider, isOnlyInAllMail } from './provider-quirks.js';
import type { NamespaceInfo } from './store.js';

const slash: NamespaceInfo = { delimiter: '/', prefix: '', capabilities: [] };
const dot: NamespaceInfo = { delimiter: '.', prefix: 'INBOX.', capabilities: [] };
const folder = (path: string, extra: Partial<SourceFolder> = {}): SourceFolder => ({
  path,
  segments: path === 'INBOX' ? ['INBOX'] : path.split('/'),
  delimiter: '/',
  isSelectable: true,
  messages: 1,
  sizeBytes: 1,
  ...extra,
});

test('providers are recognised by capability, ID answer or host name', () => {
  assert.equal(detectProvider({ host: 'mail.example.org', capabilities: ['IMAP4rev1', 'X-GM-EXT-1'] }).id, 'gmail');
  assert.equal(detectProvider({ host: 'outlook.office365.com', capabilities: [] }).id, 'exchange');
  assert.equal(detectProvider({ host: 'imap.mail.me.com', capabilities: [] }).id, 'icloud');
  assert.equal(detectProvider({ host: 'imap.mail.yahoo.com', capabilities: [] }).id, 'yahoo');
  assert.equal(detectProvider({ host: 'mail.corp.example', capabilities: [], serverName: 'Zimbra' }).id, 'zimbra');
  assert.equal(detectProvider({ host: '127.0.0.1', capabilities: ['IMAP4rev1'], serverName: 'Dovecot' }).id, 'generic');
});

const gmailFolders = [
  folder('INBOX'),
  folder('[Gmail]', { isSelectable: false }),
  folder('[Gmail]/All Mail', { specialUse: '\\All' }),
  folder('[Gmail]/Sent Mail', { specialUse: '\\Sent' }),
  folder('[Gmail]/Starred', { specialUse: '\\Flagged' }),
  folder('[Gmail]/Important', { specialUse: '\\Important' }),
  folder('[Gmail]/Chats'),
  folder('Receipts'),
];

test('Gmail: All Mail, Starred, Important and Chats are left out by default, with reasons', () => {
  const plans = mapFolders({ sourceFolders: gmailFolders, source: slash, destination: dot, destinationFolders: [{ path: 'INBOX.Sent', specialUse: '\\Sent' }], sourceQuirks: detectProvider({ host: 'imap.gmail.com', capabilities: ['X-GM-EXT-1'] }) });
  const byPath = new Map(plans.map((p) => [p.source.path, p]));
  assert.deepEqual(plans.filter((p) => p.isSelected).map((p) => p.source.path), ['INBOX', '[Gmail]/Sent Mail', 'Receipts']);
  assert.equal(byPath.get('[Gmail]/Sent Mail')?.destinationPath, 'INBOX.Sent');
  assert.match(byPath.get('[Gmail]/Chats')?.defaultUnselectedReason ?? '', /chat/);
  assert.match(byPath.get('[Gmail]/All Mail')?.defaultUnselectedReason ?? '', /every message/);
});

test('Gmail: with archive-only, All Mail copies just its archived messages into the Archive folder', () => {
  const plans = mapFolders({
    sourceFolders: gmailFolders,
    source: slash,
    destination: dot,
    destinationFolders: [{ path: 'INBOX.Archives', specialUse: '\\Archive' }],
    options: { gmailAllMail: 'archive-only' },
    sourceQuirks: detectProvider({ host: 'imap.gmail.com', capabilities: ['X-GM-EXT-1'] }),
  });
  const allMail = plans.find((p) => p.source.path === '[Gmail]/All Mail');
  assert.equal(allMail?.isSelected, true);
  assert.equal(allMail?.destinationPath, 'INBOX.Archives');
  assert.equal(allMail?.messageFilter, 'gmail-only-in-all-mail');
  // Labels per Gmail's IMAP extensions: \Inbox, \Sent, \Draft are system labels that are folders.
  assert.equal(isOnlyInAllMail([]), true);
  assert.equal(isOnlyInAllMail(['\\Important', '\\Starred']), true);
  assert.equal(isOnlyInAllMail(['\\Inbox']), false);
  assert.equal(isOnlyInAllMail(['Receipts']), false);
});

test('Exchange: its English folder names are special uses even without SPECIAL-USE; calendars are not mail', () => {
  const plans = mapFolders({
    sourceFolders: [folder('Sent Items'), folder('Deleted Items'), folder('Junk Email'), folder('Calendar'), folder('Projects')],
    source: slash,
    destination: slash,
    destinationFolders: [
      { path: 'Sent', specialUse: '\\Sent' },
      { path: 'Trash', specialUse: '\\Trash' },
      { path: 'Spam', specialUse: '\\Junk' },
    ],
    sourceQuirks: detectProvider({ host: 'outlook.office365.com', capabilities: [] }),
  });
  assert.deepEqual(
    plans.map((p) => [p.source.path, p.destinationPath, p.isSelected]),
    [
      ['Sent Items', 'Sent', true],
      ['Deleted Items', 'Trash', true],
      ['Junk Email', 'Spam', true],
      ['Calendar', 'Calendar', false],
      ['Projects', 'Projects', true],
    ],
  );
});

test('Zimbra as destination: a mail folder named like its calendar is renamed, and of two names that differ only by case the second gets a numbered name', () => {
  const zimbra = detectProvider({ host: 'mail.corp.example', capabilities: [], serverName: 'Zimbra' });
  const plans = mapFolders({ sourceFolders: [folder('Calendar'), folder('Work'), folder('work')], source: slash, destination: slash, destinationFolders: [{ path: 'Calendar' }], destinationQuirks: zimbra });
  assert.equal(plans[0]?.destinationPath, 'Calendar (mail)');
  assert.equal(plans[0]?.reasons.at(-1)?.kind, 'sanitized');
  // Work and work would be one folder on a case-insensitive server: the second is kept apart, with the reason.
  assert.deepEqual(plans.slice(1).map((p) => [p.destinationPath, p.collidesWith]), [['Work', []], ['work (2)', []]]);
  assert.match((plans[2]?.reasons.at(-1) as { detail?: string }).detail ?? '', /"work" → "work \(2\)": it differs from "Work" only by case, and Zimbra treats such names as one folder/);
  const generic = mapFolders({ sourceFolders: [folder('Work'), folder('work')], source: slash, destination: slash, destinationFolders: [] });
  assert.deepEqual(generic[0]?.collidesWith, []);
});

test('iCloud and Yahoo name their folders their own way', () => {
  const icloud = mapFolders({ sourceFolders: [folder('Sent Messages'), folder('Deleted Messages')], source: slash, destination: slash, destinationFolders: [{ path: 'Sent', specialUse: '\\Sent' }, { path: 'Trash', specialUse: '\\Trash' }], sourceQuirks: detectProvider({ host: 'imap.mail.me.com', capabilities: [] }) });
  assert.deepEqual(icloud.map((p) => p.destinationPath), ['Sent', 'Trash']);
  const yahoo = mapFolders({ sourceFolders: [folder('Bulk Mail'), folder('Draft')], source: slash, destination: slash, destinationFolders: [{ path: 'Junk', specialUse: '\\Junk' }, { path: 'Drafts', specialUse: '\\Drafts' }], sourceQuirks: detectProvider({ host: 'imap.mail.yahoo.com', capabilities: [] }) });
  assert.deepEqual(yahoo.map((p) => p.destinationPath), ['Junk', 'Drafts']);
});
