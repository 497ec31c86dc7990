/**
 * A hostile server's answers cannot exhaust the machine: endless untagged lines after EXAMINE
 * and LIST, a giant line without CRLF, giant literals, more UIDs than the folder holds and
 * malformed responses each end the connection with one plain sentence ("The old server … sent
 * more than … — it may be broken or hostile."), not retried, with the CLI's peak memory under
 * 300 MB, over imapflow (planning) and the wire session (copying) alike.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { withHostileImap, type HostileConnection, type HostileEvent, type HostileImapServer } from '../support/hostile-imap.js';
import { freshFolder, runIntoArchive, runMeasuredCli, type MeasuredRun } from './measured-cli.js';

const MAX_RSS_MB = 300;
const MB = 1024 * 1024;

const run = (command: 'plan' | 'copy', server: HostileImapServer): Promise<MeasuredRun> =>
  runIntoArchive(command, `imap://me@127.0.0.1:${server.port}`, ['--allow-plaintext', '--timeout', '5', '--retry-delay', '0.05']);

/** A script that takes over one kind of command (on every connection) and leaves the rest honest. */
const on =
  (isIt: (event: Extract<HostileEvent, { kind: 'command' }>) => boolean, act: (conn: HostileConnection, event: Extract<HostileEvent, { kind: 'command' }>) => unknown) =>
  (event: HostileEvent, conn: HostileConnection): unknown =>
    event.kind === 'command' && isIt(event) ? act(conn, event) : 'default';

const OVERRUN = (excess: string): RegExp => new RegExp(`The old server \\(127\\.0\\.0\\.1:\\d+\\) sent more than ${excess} — it may be broken or hostile\\.`);

/** The run ended by itself with `code`, said `sentence` (on stderr), no stack trace, memory bounded. */
const assertEnded = (result: MeasuredRun, code: number, sentence: RegExp): void => {
  assert.equal(result.isKilled, false, 'the CLI ended by itself');
  assert.equal(result.code, code, result.stderr);
  assert.match(result.stderr, sentence);
  assert.doesNotMatch(result.stderr, /unexpected failure|\n\s+at /, 'no stack trace');
  assert.ok(result.peakRssMb < MAX_RSS_MB, `peak RSS ${result.peakRssMb.toFixed(0)} MB`);
};

/** In `copy`, the folder is set aside at once with the sentence (a broken server is not retried). */
const assertSetAside = (result: MeasuredRun, sentence: RegExp): void => {
  assertEnded(result, 1, new RegExp(`INBOX: needs-attention: ${sentence.source}`));
  assert.doesNotMatch(result.stderr, /INBOX: retrying/, 'not retried');
};

const isWireBodyFetch = (e: { name: string; args: string }): boolean => e.name === 'UID FETCH' && e.args.includes('BODY.PEEK[]');

describe('a hostile server cannot exhaust the machine', { concurrency: false }, () => {
  test('endless untagged lines after EXAMINE, imapflow (planning: counting sizes)', async () => {
    await withHostileImap({ script: on((e) => e.name === 'EXAMINE', (conn) => conn.flood((i) => `* OK still thinking ${i}`)) }, async (server) => {
      assertEnded(await run('plan', server), 2, new RegExp(`^mailferry: ${OVERRUN('10,000 responses to one command').source}\\n$`));
    });
  });

  test('endless untagged lines after EXAMINE, wire session (copying)', async () => {
    // imapflow sends `EXAMINE INBOX`, the wire session `EXAMINE "INBOX"`: only the copy floods.
    await withHostileImap({ script: on((e) => e.name === 'EXAMINE' && e.args === '"INBOX"', (conn) => conn.flood((i) => `* OK still thinking ${i}`)) }, async (server) => {
      assertSetAside(await run('copy', server), OVERRUN('10,000 responses to one command'));
    });
  });

  test('endless answers to LIST (imapflow)', async () => {
    await withHostileImap({ script: on((e) => e.name === 'LIST', (conn) => conn.flood((i) => `* LIST (\\HasNoChildren) "/" "Folder ${i}"`)) }, async (server) => {
      assertEnded(await run('plan', server), 2, new RegExp(`^mailferry: ${OVERRUN('50,000 folders').source}\\n$`));
    });
  });

  test('endless lines imapflow cannot parse after LIST', async () => {
    await withHostileImap({ script: on((e) => e.name === 'LIST', (conn) => conn.flood((i) => `* ((( "unterminated ${i}`)) }, async (server) => {
      assertEnded(await run('plan', server), 2, new RegExp(`^mailferry: ${OVERRUN('10,000 responses to one command').source}\\n$`));
    });
  });

  test('a 200 MB line without CRLF in a FETCH', async () => {
    await withHostileImap({
      script: on(isWireBodyFetch, async (conn) => {
        await conn.send('* 1 FETCH (UID 1 BODY[] ');
        await conn.stream(200 * MB);
      }),
    }, async (server) => {
      assertSetAside(await run('copy', server), OVERRUN('32 MB in one response line'));
    });
  });

  test('eleven 100 MB literals in one FETCH', async () => {
    await withHostileImap({
      script: on(isWireBodyFetch, async (conn) => {
        await conn.send('* 1 FETCH (UID 1');
        for (let i = 0; i < 11; i++) {
          if (!(await conn.send(` BODY[] {${100 * MB}}\r\n`)) || !(await conn.stream(100 * MB))) return;
        }
        await conn.send(')\r\n');
      }),
    }, async (server) => {
      assertSetAside(await run('copy', server), OVERRUN('100 MB in one response'));
    });
  });

  test('the largest message Mailferry holds (100 MB) is copied within the memory bound', async () => {
    const body = Buffer.alloc(100 * MB - 64, 'a');
    for (let i = 76; i < body.length; i += 78) body.write('\r\n', i - 2, 'latin1');
    const big = Buffer.concat([Buffer.from('Subject: big\r\nMessage-ID: <big@old.example>\r\n\r\n', 'latin1'), body]);
    await withHostileImap({ messages: [big] }, async (server) => {
      const result = await run('copy', server);
      assertEnded(result, 0, /INBOX: verified/);
    });
  });

  test('a larger message, announced honestly, fails alone with its size; the others are copied', async () => {
    const huge = Buffer.concat([Buffer.from('Subject: huge\r\nMessage-ID: <huge@old.example>\r\n\r\n', 'latin1'), Buffer.alloc(200 * MB, 'b')]);
    const small = Buffer.from('Subject: small\r\nMessage-ID: <small@old.example>\r\n\r\nHello.\r\n', 'latin1');
    await withHostileImap({ messages: [huge, small] }, async (server) => {
      const result = await run('copy', server);
      assertEnded(result, 1, /INBOX: incomplete/);
      assert.match(result.stdout, /INBOX → INBOX: incomplete; expected 2, copied 1, already there 0, skipped 0, failed 1\n\s+UID 1 "huge": The message is 200 MB, more than the 100 MB Mailferry can hold in memory; it was not copied\./);
    });
  });

  test('a literal far larger than the RFC822.SIZE announced before it', async () => {
    await withHostileImap({
      script: on(isWireBodyFetch, async (conn) => {
        if (await conn.send(`* 1 FETCH (UID 1 RFC822.SIZE 150 BODY[] {${100 * MB}}\r\n`)) await conn.stream(100 * MB);
      }),
    }, async (server) => {
      assertSetAside(await run('copy', server), OVERRUN('the 150 bytes it announced for a message'));
    });
  });

  test('a SEARCH answer with more UIDs than the folder holds', async () => {
    await withHostileImap({
      script: on(
        (e) => e.name === 'UID SEARCH',
        async (conn, e) => {
          for (let i = 0; i < 30; i++) await conn.send(`* SEARCH ${Array.from({ length: 1000 }, (_, j) => i * 1000 + j + 1).join(' ')}\r\n`);
          await conn.send(`${e.tag} OK done\r\n`);
        },
      ),
    }, async (server) => {
      // Two messages: a search may honestly return at most 2 × 2 + 10,000.
      assertSetAside(await run('copy', server), OVERRUN('10,004 messages in a search of one folder'));
    });
  });

  test('an ESEARCH answer of four billion UIDs', async () => {
    await withHostileImap({
      extraCapabilities: ['ESEARCH'],
      script: on(
        (e) => e.name === 'UID SEARCH',
        (conn, e) => conn.send(`* ESEARCH (TAG "${e.tag}") UID ALL 1:4000000000\r\n${e.tag} OK done\r\n`),
      ),
    }, async (server) => {
      assertSetAside(await run('copy', server), OVERRUN('10,004 messages in a search of one folder'));
    });
  });

  test('malformed FETCH answers: lists nested 100,000 deep, markers without literals, binary junk', async () => {
    const junk = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256).filter((b) => b !== 10 && b !== 13));
    await withHostileImap({
      script: on(
        (e) => e.name === 'UID FETCH' && e.args.includes('HEADER.FIELDS'),
        async (conn, e) => {
          await conn.send(Buffer.concat([junk, Buffer.from('\r\n* 1 FETCH (UID 1 BODY[] {5} junk)\r\n* BAD\r\n+ \r\n', 'latin1')]));
          await conn.send(`* 1 FETCH ${'('.repeat(100_000)}\r\n${e.tag} OK done\r\n`);
        },
      ),
    }, async (server) => {
      assertSetAside(await run('copy', server), /The old server \(127\.0\.0\.1:\d+\) sent a response Mailferry cannot read — it may be broken or hostile\./);
    });
  });

  test('endless untagged lines while an APPEND waits (the new server)', async () => {
    const dir = freshFolder('answers-destination');
    try {
      const mbox = path.join(dir, 'source.mbox');
      writeFileSync(mbox, 'From a@example Mon Jan  1 10:00:00 2024\nSubject: one\nMessage-ID: <one@example>\n\nHello.\n\n');
      await withHostileImap({ script: on((e) => e.name === 'APPEND', (conn) => conn.flood((i) => `* OK busy ${i}`)) }, async (server) => {
        const result = await runMeasuredCli(
          ['copy', '--from', `mbox:${mbox}`, '--to', `imap://me@127.0.0.1:${server.port}`, '--allow-plaintext', '--state', `${dir}/state`, '--timeout', '5', '--retry-delay', '0.05'],
          { env: { MAILFERRY_TO_PASSWORD: 'hostile-test-secret' } },
        );
        assertEnded(result, 1, /The new server \(127\.0\.0\.1:\d+\) sent more than 10,000 responses to one command — it may be broken or hostile\./);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
