/**
 * A message's own text never reaches the new server as commands. A careless server refuses a
 * message on the size its literal announces (NO [LIMIT], no APPENDLIMIT said first) and does
 * not skip a literal sent unasked (LITERAL+): its bytes are then read as commands, and a line
 * `a0 CREATE …` inside a message would run. Mailferry sends a literal unasked only up to the
 * largest size the server already took, so the large message waits for `+`, gets the NO
 * instead, and its bytes are never sent. Checked inside a MULTIAPPEND and with single APPENDs.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { withHostileImap } from '../support/hostile-imap.js';
import { freshFolder, runMeasuredCli } from './measured-cli.js';
import { rmSync } from 'node:fs';

const LIMIT_BYTES = 200_000;
const INJECTED = 'Injected-by-message';

const message = (n: number, body: string): Buffer =>
  Buffer.from(`From: Ann <ann@old.example>\r\nTo: me@old.example\r\nSubject: message ${n}\r\nMessage-ID: <m${n}@old.example>\r\nDate: Mon, 1 Jan 2024 10:0${n}:00 +0000\r\n\r\n${body}`, 'latin1');

/** Over the limit, and every line of its text a command. */
const commandsBody = (): string => {
  const lines: string[] = [];
  for (let i = 0; lines.length * 40 < LIMIT_BYTES * 1.5; i++) lines.push(`a${i} CREATE ${INJECTED}-${i % 3}\r\n`);
  return lines.join('');
};

describe('a refused literal is never read as commands', { concurrency: false }, () => {
  for (const variant of [
    { name: 'in the middle of a MULTIAPPEND', withoutCapabilities: [] as string[] },
    { name: 'among pipelined single APPENDs', withoutCapabilities: ['MULTIAPPEND'] },
  ]) {
    test(variant.name, async () => {
      const messages = [message(1, 'Hello.\r\n'), message(2, commandsBody()), message(3, 'Hello again.\r\n')];
      await withHostileImap({ messages, folders: [] }, async (source) => {
        await withHostileImap({ folders: [], appendLimitBytes: LIMIT_BYTES, withoutCapabilities: variant.withoutCapabilities }, async (destination) => {
          const dir = freshFolder('refused-literal');
          try {
            const run = await runMeasuredCli(
              ['copy', '--from', `imap://me@127.0.0.1:${source.port}`, '--to', `imap://me@127.0.0.1:${destination.port}`, '--state', `${dir}/state`, '--allow-plaintext', '--timeout', '10', '--retry-delay', '0.05', '--json'],
              { env: { MAILFERRY_FROM_PASSWORD: 'hostile-test-secret', MAILFERRY_TO_PASSWORD: 'hostile-test-secret' } },
            );
            const commands = destination.connections.flatMap((c) => c.commands);
            const injected = commands.filter((c) => c.line.includes(INJECTED));
            assert.deepEqual(injected.slice(0, 3), [], 'no line of the message ran as a command');
            assert.equal(run.code, 1, `the refused message makes the run incomplete: ${run.stderr}`);
            const summary = run.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; report?: { folders: { failed: { sizeBytes?: number; error: { serverCode?: string } }[]; copied: number }[] } }).find((e) => e.type === 'summary');
            const inbox = summary?.report?.folders[0];
            assert.ok(inbox, run.stdout.slice(-2000));
            assert.deepEqual(inbox.failed.map((f) => [f.sizeBytes, f.error.serverCode]), [[messages[1]?.length, 'LIMIT']], 'the large message is refused with the server’s reason');
            assert.equal(inbox.copied, 2, 'the two others are copied');
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        });
      });
    });
  }
});
