/**
 * Special-use folders the destination lacks are created for their use where the server offers
 * CREATE-SPECIAL-USE (RFC 6154): `CREATE "Sent" (USE (\Sent))`, checked on the recorded wire.
 * Dovecot 2.3 accepts the form but neither advertises nor keeps it, so the capability is
 * advertised by the test's config; without it, a plain CREATE.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateCorpus } from '../support/corpus.js';
import { assertDone, assertWorldIntact, runCopy, startWorld } from './harness.js';

describe('special-use folders on the destination', { concurrency: false }, () => {
  for (const offered of [true, false]) {
    test(`a destination without a Sent folder gets one ${offered ? 'created as \\Sent (CREATE-SPECIAL-USE)' : 'by a plain CREATE (no CREATE-SPECIAL-USE)'}`, async () => {
      const corpus = generateCorpus({ seed: offered ? 181 : 182, messagesPerFolder: 2 });
      const world = await startWorld({
        corpus,
        preexisting: [],
        destination: { specialUse: {}, ...(offered ? { addCapabilities: ['CREATE-SPECIAL-USE'] } : {}) },
      });
      try {
        assertDone((await runCopy(world, { seed: 181 })).report);
        await assertWorldIntact(world);
        const creates = world.destinationProxy
          .wire()
          .commands()
          .filter((c) => c.name === 'CREATE')
          .map((c) => c.line.slice(c.tag.length + 1));
        const sent = creates.filter((line) => /"?Sent"?( |$)/.test(line));
        assert.deepEqual(sent, [offered ? 'CREATE "Sent" (USE (\\Sent))' : 'CREATE Sent'], `CREATE commands: ${creates.join(' | ')}`);
        // Folders without a special use are created plainly either way.
        assert.ok(creates.some((line) => !/USE/.test(line)), 'ordinary folders get a plain CREATE');
        assert.equal(creates.filter((line) => /USE/.test(line)).length, offered ? creates.filter((line) => /USE/.test(line)).length : 0);
      } finally {
        await world.stop();
      }
    });
  }
});
