import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findDestructive, WireLog, type ClientSegment, type WireCommand } from './imap-wire.js';

/** Feeds `text` to a fresh recorder cut at the given offsets; returns the log and the segments. */
function record(client: string | Buffer, cuts: number[] = []): { log: WireLog; segments: ClientSegment[] } {
  const bytes = typeof client === 'string' ? Buffer.from(client, 'latin1') : client;
  const log = new WireLog();
  const recorder = log.connection(1);
  const segments: ClientSegment[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    segments.push(...recorder.client(bytes.subarray(start, cut)));
    start = cut;
  }
  segments.push(...recorder.endClient());
  return { log, segments };
}

function summary(commands: WireCommand[]): string[] {
  return commands.map((command) => `${command.tag} ${command.name} | ${command.line}${command.complete ? '' : ' (incomplete)'}`);
}

const BODY = 'Subject: test\r\n\r\na1 EXPUNGE\r\nb2 UID STORE 1:* +FLAGS (\\Deleted)\r\n{5}\r\n';
const SESSION =
  `A1 EXAMINE INBOX\r\n` +
  `A2 APPEND Archive (\\Seen) {${Buffer.byteLength(BODY)}+}\r\n${BODY}\r\n` +
  `A3 UID FETCH 1:* (UID BODY.PEEK[] RFC822.SIZE)\r\n` +
  `A4 LOGOUT\r\n`;

describe('WireLog client stream', () => {
  it('skips literal contents that look like commands, at every chunk boundary', () => {
    const expected = [
      'A1 EXAMINE | A1 EXAMINE INBOX',
      `A2 APPEND | A2 APPEND Archive (\\Seen) {${Buffer.byteLength(BODY)} bytes}`,
      'A3 UID FETCH | A3 UID FETCH 1:* (UID BODY.PEEK[] RFC822.SIZE)',
      'A4 LOGOUT | A4 LOGOUT',
    ];
    for (let cut = 0; cut <= SESSION.length; cut++) {
      const { log, segments } = record(SESSION, [cut]);
      assert.deepEqual(summary(log.commands()), expected, `cut at ${cut}`);
      assert.equal(Buffer.concat(segments.map((s) => s.bytes)).toString('latin1'), SESSION, `bytes kept at cut ${cut}`);
    }
    // One byte at a time, too.
    const { log } = record(SESSION, Array.from({ length: SESSION.length }, (_, i) => i));
    assert.deepEqual(summary(log.commands()), expected);
    assert.deepEqual(findDestructive(log.commands()), { destructive: [], flagChanges: [] });
  });

  it('marks segments so a proxy can act on whole command lines', () => {
    const { segments } = record(SESSION, [30, 31, 90]);
    const kinds = segments.map((s) => `${s.kind}${s.startsCommand ? '>' : ''}${s.endsCommand ? '<' : ''}${s.literal ? `{${s.literal.size}${s.literal.synchronizing ? '' : '+'}}` : ''}`);
    assert.deepEqual(kinds, ['line><', `line>{${Buffer.byteLength(BODY)}+}`, 'literal', 'literal', 'line<', 'line><', 'line><']);
    assert.equal(segments[1]?.text, `A2 APPEND Archive (\\Seen) {${Buffer.byteLength(BODY)}+}`);
  });

  it('handles literal8 with NUL and LF bytes, several literals in one command, and {0}', () => {
    const binary = Buffer.from([0, 10, 13, 10, 0x41, 0x0a, 0]);
    const stream = Buffer.concat([
      Buffer.from(`c1 APPEND INBOX ~{${binary.length}+}\r\n`),
      binary,
      Buffer.from(' ~{0+}\r\n\r\nc2 LOGIN {5+}\r\nalice {6+}\r\nsecret\r\nc3 NOOP\r\n'),
    ]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const { log } = record(stream, [cut]);
      assert.deepEqual(summary(log.commands()), [
        `c1 APPEND | c1 APPEND INBOX ~{7 bytes} ~{0 bytes}`,
        'c2 LOGIN | c2 LOGIN [redacted]',
        'c3 NOOP | c3 NOOP',
      ], `cut at ${cut}`);
    }
  });

  it('a synchronizing literal refused with a tagged NO never arrives: the next line is a command', () => {
    const log = new WireLog();
    const rec = log.connection(7);
    rec.client(Buffer.from('d1 APPEND INBOX {20}\r\n'));
    rec.server(Buffer.from('d1 NO [OVERQUOTA] Quota exceeded\r\n'));
    rec.client(Buffer.from('d2 EXPUNGE\r\n'));
    assert.deepEqual(summary(log.commands()), ['d1 APPEND | d1 APPEND INBOX {20 bytes}', 'd2 EXPUNGE | d2 EXPUNGE']);
    assert.equal(log.destructive().destructive[0]?.command.tag, 'd2');
    assert.deepEqual(log.responses().map((r) => [r.connection, r.tag, r.status]), [[7, 'd1', 'NO']]);
  });

  it('a synchronizing literal accepted with "+" is skipped', () => {
    const log = new WireLog();
    const rec = log.connection(1);
    rec.client(Buffer.from('d1 APPEND INBOX {12}\r\n'));
    rec.server(Buffer.from('+ go ahead\r\n'));
    rec.client(Buffer.from('d9 EXPUNGE\r\n\r\nd2 NOOP\r\n'));
    assert.deepEqual(summary(log.commands()), ['d1 APPEND | d1 APPEND INBOX {12 bytes}', 'd2 NOOP | d2 NOOP']);
  });

  it('reports a command cut off inside its literal as incomplete', () => {
    const { log } = record('e1 APPEND INBOX {100+}\r\nonly a part');
    assert.deepEqual(summary(log.commands()), ['e1 APPEND | e1 APPEND INBOX {100 bytes} (incomplete)']);
  });

  it('does not take IDLE DONE or SASL continuation lines for commands, and redacts them', () => {
    const log = new WireLog();
    const rec = log.connection(1);
    rec.client(Buffer.from('f1 AUTHENTICATE PLAIN\r\n'));
    rec.server(Buffer.from('+ \r\n'));
    rec.client(Buffer.from('AGFsaWNlAHNlY3JldA==\r\n'));
    rec.server(Buffer.from('f1 OK Logged in\r\n'));
    rec.client(Buffer.from('f2 AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\nf3 IDLE\r\n'));
    rec.server(Buffer.from('f2 OK\r\n+ idling\r\n'));
    rec.client(Buffer.from('DONE\r\n'));
    rec.server(Buffer.from('f3 OK\r\n'));
    rec.client(Buffer.from('f4 DELETE Junk\r\n'));
    assert.deepEqual(summary(log.commands()), [
      'f1 AUTHENTICATE | f1 AUTHENTICATE PLAIN',
      'f2 AUTHENTICATE | f2 AUTHENTICATE PLAIN [redacted]',
      'f3 IDLE | f3 IDLE',
      'f4 DELETE | f4 DELETE Junk',
    ]);
    assert.ok(!JSON.stringify(log.commands()).includes('AGFsaWNl'));
  });

  it('stops parsing after STARTTLS is accepted and when the client opens with TLS', () => {
    const log = new WireLog();
    const rec = log.connection(1);
    rec.client(Buffer.from('g1 STARTTLS\r\n'));
    rec.server(Buffer.from('g1 OK Begin TLS negotiation now\r\n'));
    const segments = rec.client(Buffer.from('\x16\x03\x01 x EXPUNGE\r\n', 'latin1'));
    assert.deepEqual(segments.map((s) => s.kind), ['raw']);
    assert.deepEqual(log.commands().map((c) => c.name), ['STARTTLS']);

    const tls = new WireLog();
    tls.connection(2).client(Buffer.from('\x16\x03\x01\x00\x10 y DELETE INBOX\r\n', 'latin1'));
    assert.deepEqual(tls.commands(), []);
  });

  it('passes an overlong line through in pieces and resynchronises at its end', () => {
    const long = `h1 UID FETCH ${'1,'.repeat(600_000)}2 (UID)\r\nh2 EXPUNGE\r\n`;
    const { log, segments } = record(long, [100_000, 700_000]);
    assert.equal(Buffer.concat(segments.map((s) => s.bytes)).toString('latin1'), long);
    assert.deepEqual(log.commands().map((c) => [c.tag, c.name, c.complete]), [
      ['h1', 'UID FETCH', true],
      ['h2', 'EXPUNGE', true],
    ]);
  });
});

describe('WireLog server stream', () => {
  it('records status lines, skipping literals and the rest of their response', () => {
    const body = 'x1 OK fake\r\n* BYE fake\r\n';
    const stream = `* OK [CAPABILITY IMAP4rev1 LITERAL+] ready\r\n* 1 FETCH (UID 5 BODY[] {${body.length}}\r\n${body} FLAGS (\\Seen))\r\n* 2 EXISTS\r\nx1 OK [READ-ONLY] done\r\n+ more\r\n`;
    for (let cut = 0; cut <= stream.length; cut++) {
      const log = new WireLog();
      const rec = log.connection(1);
      rec.server(Buffer.from(stream.slice(0, cut)));
      rec.server(Buffer.from(stream.slice(cut)));
      assert.deepEqual(
        log.responses().map((r) => `${r.tag} ${r.status}`),
        ['* OK', 'x1 OK', '+ '],
        `cut at ${cut}`,
      );
      assert.equal(rec.serverAtLineStart, true);
    }
  });

  it('knows when the server is in the middle of a response', () => {
    const rec = new WireLog().connection(1);
    rec.server(Buffer.from('* 1 FETCH (BODY[] {4}\r\nab'));
    assert.equal(rec.serverAtLineStart, false);
    rec.server(Buffer.from('cd'));
    assert.equal(rec.serverAtLineStart, false, 'the response goes on after the literal');
    rec.server(Buffer.from(')\r\n'));
    assert.equal(rec.serverAtLineStart, true);
  });
});

describe('findDestructive', () => {
  const log = new WireLog();
  const rec = log.connection(1);
  const lines = [
    'a SELECT INBOX',
    'b STORE 1 +FLAGS (\\Seen)',
    'c UID STORE 1:3 +FLAGS.SILENT (\\Deleted \\Seen)',
    'd STORE 2 -FLAGS (\\Deleted)',
    'e EXPUNGE',
    'f UID EXPUNGE 4',
    'g DELETE Old',
    'h RENAME A B',
    'i MOVE 1 Trash',
    'j uid move 1 Trash',
    'k FETCH 1 (BODY[])',
    'l UID FETCH 1 (BODY[HEADER.FIELDS (SUBJECT)])',
    'm FETCH 1 RFC822',
    'n FETCH 1 (RFC822.TEXT)',
    'o FETCH 1 (BINARY[1])',
    'p CLOSE',
    'q EXAMINE INBOX',
    'r FETCH 1:* (UID FLAGS RFC822.SIZE RFC822.HEADER BODY.PEEK[] BINARY.PEEK[1] BODYSTRUCTURE)',
    's CLOSE',
    't COPY 1 Archive',
    'u UNSELECT',
  ];
  rec.client(Buffer.from(lines.map((l) => `${l}\r\n`).join('')));
  const report = log.destructive();

  it('finds every command that can delete or alter, and nothing else', () => {
    assert.deepEqual(
      report.destructive.map((f) => f.command.tag),
      ['a', 'c', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p'],
    );
    assert.match(report.destructive.find((f) => f.command.tag === 'k')?.reason ?? '', /PEEK/);
  });

  it('lists every STORE as a flag change', () => {
    assert.deepEqual(report.flagChanges.map((f) => f.command.tag), ['b', 'c', 'd']);
  });
});
