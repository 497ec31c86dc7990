/**
 * The response watch (imapflow's logger) counts each command's untagged answers, junk it could
 * not parse included; only the tagged answer to a command imapflow sent starts a new allowance.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createResponseWatch } from './response-watch.js';
import { WireProtocolError } from './server-limits.js';

const watchWith = () => {
  const overruns: WireProtocolError[] = [];
  const logger = createResponseWatch((e) => overruns.push(e));
  return { logger, overruns, sent: (line: string) => logger.debug({ src: 'c', msg: line }), read: (line: string) => logger.debug({ src: 's', msg: line }) };
};

test('past 10,000 untagged answers to one command, the watch calls once', () => {
  const { overruns, sent, read } = watchWith();
  sent('1 EXAMINE INBOX');
  for (let i = 0; i < 10_000; i++) read('* OK still here');
  assert.equal(overruns.length, 0);
  read('* OK one more');
  read('* OK and another');
  assert.equal(overruns.length, 1);
  assert.ok(overruns[0] instanceof WireProtocolError);
  assert.match(overruns[0]?.message ?? '', /more than 10,000 responses to one command/);
});

test('the tagged answer to a command sent starts afresh; a tag nobody sent, or junk, does not', () => {
  const { logger, overruns, sent, read } = watchWith();
  for (let round = 0; round < 3; round++) {
    sent(`${round + 1} NOOP`);
    for (let i = 0; i < 9_000; i++) read('* OK busy');
    read(`${round + 1} OK done`);
  }
  assert.equal(overruns.length, 0, 'each command had its own allowance');
  sent('4 LIST "" "*"');
  for (let i = 0; i < 5_000; i++) {
    read('77 OK not yours');
    logger.error({ src: 's', msg: '* ((( junk', err: new Error('parse') });
  }
  assert.equal(overruns.length, 0);
  read('77 OK not yours');
  assert.equal(overruns.length, 1, 'made-up tags and unparseable lines count as answers');
});
