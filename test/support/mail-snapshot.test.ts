/** The comparisons: multisets (twins count, order does not), readable diffs, and strict source checks. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertSameMail, assertSourceUnchanged, diffMail, type AccountSnapshot, type MailSet, type MessageKey, type MessageSnapshot } from './mail-snapshot.js';

const msg = (sha: string, flags: string[] = [], date = '2004-01-01T10:00:00.000Z', size = 100): MessageKey => ({ sha256: sha.padEnd(64, '0'), size, flags, internalDate: date, subject: `msg ${sha}` });
const set = (folders: Record<string, MessageKey[]>): MailSet => ({ folders: Object.entries(folders).map(([path, messages]) => ({ path, messages })) });

describe('diffMail / assertSameMail', () => {
  test('order does not matter; twins are counted, not collapsed', () => {
    const a = msg('aa');
    const b = msg('bb', ['\\Seen']);
    assert.deepEqual(diffMail(set({ INBOX: [a, b, a] }), set({ INBOX: [b, a, a] })), []);
    const problems = diffMail(set({ INBOX: [a, a, b] }), set({ INBOX: [a, b] }));
    assert.equal(problems.length, 1);
    assert.match(problems[0] as string, /folder "INBOX": expected 3 messages, found 2\n {2}missing: {4}aa0000000000 100 B/);
  });

  test('a message whose flags changed is reported as one change, with both sides', () => {
    assert.throws(
      () => assertSameMail(set({ INBOX: [msg('aa', ['\\Seen'])] }), set({ INBOX: [msg('aa', ['$Label1', '\\Seen'])] }), 'after copy'),
      (err: Error) => {
        assert.match(err.message, /^after copy:\nfolder "INBOX": expected 1 messages, found 1\n {2}changed: {4}aa0000000000 100 B 2004-01-01T10:00:00.000Z \[\\Seen\] "msg aa"\n {10}-> {2}.*\[\$Label1 \\Seen\]/);
        return true;
      },
    );
  });

  test('a missing folder, and an extra folder holding mail, are differences; empty extra folders are not', () => {
    const problems = diffMail(set({ INBOX: [], Reisen: [msg('aa')] }), set({ INBOX: [], Trash: [], Other: [msg('cc')] }));
    assert.equal(problems.length, 2);
    assert.match(problems[0] as string, /folder "Reisen" \(expected 1 messages\) does not exist/);
    assert.match(problems[1] as string, /folder "Other": expected 0 messages, found 1\n {2}unexpected: cc/);
    assert.deepEqual(diffMail(set({ INBOX: [] }), set({ INBOX: [], Other: [msg('cc')] }), { allowExtraFolders: true }), []);
  });

  test('mapPath, filter and ignore', () => {
    const deleted = msg('dd', ['\\Deleted']);
    const expected = set({ 'Reisen/Überfahrt': [msg('aa', ['\\Seen']), deleted] });
    const actual = set({ 'INBOX.Reisen.Überfahrt': [msg('aa', ['\\Seen'], '2020-01-01T00:00:00.000Z')] });
    const options = {
      mapPath: (p: string) => `INBOX.${p.replace(/\//g, '.')}`,
      filter: (m: MessageKey) => !m.flags.includes('\\Deleted'),
    };
    assert.match(diffMail(expected, actual, options).join('\n'), /Reisen\/Überfahrt -> INBOX\.Reisen\.Überfahrt/);
    assert.deepEqual(diffMail(expected, actual, { ...options, ignore: ['internalDate'] }), []);
    assert.deepEqual(diffMail(expected, actual, { ...options, ignore: ['internalDate'], folders: ['Reisen/Überfahrt'] }), []);
  });
});

describe('assertSourceUnchanged', () => {
  const snap = (uidValidity: string, messages: MessageSnapshot[]): AccountSnapshot => ({
    folders: [{ path: 'INBOX', delimiter: '/', attributes: [], isSelectable: true, uidValidity, uidNext: 3, messages }],
  });
  const m = (uid: number, flags: string[]): MessageSnapshot => ({ ...msg('aa', flags), uid, fingerprint: 'f' });

  test('identical snapshots pass', () => {
    assertSourceUnchanged(snap('1', [m(1, []), m(2, [])]), snap('1', [m(1, []), m(2, [])]));
  });

  test('a new UIDVALIDITY, a \\Seen added, a vanished UID are each reported', () => {
    assert.throws(() => assertSourceUnchanged(snap('1', [m(1, []), m(2, [])]), snap('2', [m(1, ['\\Seen'])])), (err: Error) => {
      assert.match(err.message, /UIDVALIDITY 1 -> 2/);
      assert.match(err.message, /UID 1 changed: .*\[\] .* -> .*\[\\Seen\]/);
      assert.match(err.message, /UID 2 gone/);
      return true;
    });
  });
});
