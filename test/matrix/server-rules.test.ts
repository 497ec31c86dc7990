/**
 * Server rules the engine must respect that are not about names (those are in names.test.ts),
 * pinned on the real servers over a raw connection, one command at a time.
 *
 * Courier refuses an APPEND into the mailbox the same connection has open read-only (EXAMINE):
 * `NO Current box is selected READ-ONLY.`. An APPEND into another mailbox, or into the same one
 * after SELECT, is accepted. Dovecot and Cyrus accept all three. So a connection that both lists a
 * destination folder and appends to it must not leave that folder EXAMINEd when it appends.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { afterEach, describe, test } from 'node:test';
import { startMatrixServer, type MatrixServer, type ServerKind } from './matrix-servers.js';

const RAW_REPLY_TIMEOUT_MS = 10_000;
const MESSAGE = 'From: a@example.org\r\nSubject: rule\r\nMessage-ID: <rule@example.org>\r\n\r\nbody\r\n';

/** Sends each command after the previous one's tagged reply (a literal after the server's `+`); returns the tagged replies. */
const rawSession = (port: number, commands: string[]): Promise<string[]> =>
  new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const replies: string[] = [];
    let buffer = '';
    let current = -1;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no reply to ${commands[current] ?? 'greeting'} within ${RAW_REPLY_TIMEOUT_MS} ms; so far: ${replies.join(' | ')}`));
    }, RAW_REPLY_TIMEOUT_MS);
    const next = (): void => {
      current += 1;
      if (current < commands.length) socket.write(`t${current} ${commands[current]}\r\n`);
      else {
        clearTimeout(timer);
        socket.end();
        resolve(replies);
      }
    };
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      for (let eol = buffer.indexOf('\r\n'); eol >= 0; eol = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, eol);
        buffer = buffer.slice(eol + 2);
        if (current === -1 && line.startsWith('* OK')) next();
        else if (line.startsWith('+')) socket.write(`${MESSAGE}\r\n`);
        else if (line.startsWith(`t${current} `)) {
          replies.push(line.slice(`t${current} `.length));
          next();
        }
      }
    });
  });

let started: MatrixServer[] = [];
afterEach(async () => {
  const servers = started;
  started = [];
  await Promise.allSettled(servers.map((s) => s.stop()));
});

const EXPECTED: Record<ServerKind, RegExp> = {
  courier: /^NO Current box is selected READ-ONLY\./,
  dovecot: /^OK/,
  cyrus: /^OK/,
};

describe('APPEND into the mailbox the same connection has EXAMINEd', () => {
  for (const kind of ['courier', 'dovecot', 'cyrus'] as const) {
    test(`${kind}: ${kind === 'courier' ? 'refused; another mailbox, or the same after SELECT, accepted' : 'accepted'}`, async () => {
      const server = await startMatrixServer(kind, 'alice', 'alice-pw');
      started.push(server);
      const other = server.pathOf(['Other']);
      const literal = `{${MESSAGE.length}}`;
      const [login, examine, appendExamined, create, appendOther, select, appendSelected] = await rawSession(server.port, [
        'LOGIN alice alice-pw',
        'EXAMINE INBOX',
        `APPEND INBOX ${literal}`,
        `CREATE "${other}"`,
        `APPEND "${other}" ${literal}`,
        'SELECT INBOX',
        `APPEND INBOX ${literal}`,
        'LOGOUT',
      ]);
      assert.match(login ?? '', /^OK/);
      assert.match(examine ?? '', /^OK \[READ-ONLY\]/);
      assert.match(appendExamined ?? '', EXPECTED[kind]);
      assert.match(create ?? '', /^OK/);
      assert.match(appendOther ?? '', /^OK/);
      assert.match(select ?? '', /^OK \[READ-WRITE\]/);
      assert.match(appendSelected ?? '', /^OK/);
    });
  }
});
