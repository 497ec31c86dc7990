/**
 * Ctrl-C stops the CLI within a second or two whatever a server does: while a login hangs,
 * while the CPU parses an endless LIST, while LIST answers trickle in (a flood no limit would
 * end for an hour), and while a FETCH hangs in the middle of a copy. `--timeout 60` keeps every
 * deadline out of the way: only the Ctrl-C can end these runs.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startHostileImap, type HostileScript } from '../support/hostile-imap.js';
import { runIntoArchive } from './measured-cli.js';

/** "Within a second or two": the first Ctrl-C ends every connection at once. */
const STOP_WITHIN_MS = 2000;

const interrupted = async (command: 'plan' | 'copy', script: HostileScript, interruptOnCommand: string) => {
  const server = await startHostileImap({ script });
  try {
    // A moment after the command arrives, so the CLI is inside it.
    const interruptOn = server.commandSeen(interruptOnCommand).then(() => new Promise((r) => setTimeout(r, 300)));
    return await runIntoArchive(command, `imap://me@127.0.0.1:${server.port}`, ['--allow-plaintext', '--timeout', '60'], { interruptOn });
  } finally {
    await server.stop();
  }
};

const assertStoppedQuickly = (run: Awaited<ReturnType<typeof interrupted>>): void => {
  assert.equal(run.isKilled, false, 'the CLI ended');
  assert.ok(run.stopMs !== undefined, 'it was interrupted');
  assert.ok(run.stopMs < STOP_WITHIN_MS, `stopped ${run.stopMs} ms after Ctrl-C`);
  assert.match(run.stderr, /Stopping \(the journal keeps everything done so far\)\./);
  assert.doesNotMatch(run.stderr, /unexpected failure|\n\s+at /);
  // 1: the run wound down by itself (every connection ended at once); 130 would be main.ts's
  // watchdog, the last resort, which must not be what stops these.
  assert.equal(run.code, 1, run.stderr);
};

describe('Ctrl-C stops the CLI within a second or two', { concurrency: false }, () => {
  test('while the login hangs', async () => {
    const run = await interrupted('plan', (event, conn) => (event.kind === 'command' && event.name === 'AUTHENTICATE' ? conn.stall() : 'default'), 'AUTHENTICATE');
    assertStoppedQuickly(run);
    assert.match(run.stderr, /stopped before anything was copied/);
  });

  test('while the CPU parses an endless LIST', async () => {
    const run = await interrupted(
      'plan',
      (event, conn) => (event.kind === 'command' && event.name === 'LIST' ? conn.flood((i) => `* LIST (\\HasNoChildren) "/" "Folder ${i}"`) : 'default'),
      'LIST',
    );
    assertStoppedQuickly(run);
  });

  test('while LIST answers trickle in for ever', async () => {
    const run = await interrupted(
      'plan',
      async (event, conn) => {
        if (event.kind !== 'command' || event.name !== 'LIST') return 'default';
        for (let i = 0; !conn.isClosed; i++) {
          await conn.send(`* LIST (\\HasNoChildren) "/" "Folder ${i}"\r\n`);
          await new Promise((r) => setTimeout(r, 20));
        }
        return undefined;
      },
      'LIST',
    );
    assertStoppedQuickly(run);
    assert.match(run.stderr, /stopped before anything was copied/);
  });

  test('while a FETCH hangs in the middle of a copy', async () => {
    const run = await interrupted(
      'copy',
      (event, conn) => (event.kind === 'command' && event.name === 'UID FETCH' && event.args.includes('BODY.PEEK[]') ? conn.stall() : 'default'),
      'UID FETCH',
    );
    assertStoppedQuickly(run);
  });
});
