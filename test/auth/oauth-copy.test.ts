/**
 * Whole moves with OAuth2 on both sides, in this process, between two Dovecots whose oauth2
 * passdb introspects every login at the test authorization server, each behind a fault proxy.
 * The fault matrix's checks close every case: the destination holds exactly the source, the
 * source is unchanged, nothing destructive crossed the wire, and no token (nor its base64)
 * is in any event or file of the state folder.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { OAuthClient } from '../../src/auth/oauth-client.js';
import type { RefreshingTokenSource } from '../../src/auth/token-provider.js';
import { generateCorpus } from '../support/corpus.js';
import { startOAuthServer, type OAuthTestServer } from '../support/oauth-server.js';
import { testOAuthClient, tokenSourceFor, withOAuth } from '../support/oauth-sign-in.js';
import { assertNoTokenIn, assertNoTokenInFiles } from '../support/token-leaks.js';
import { assertDone, assertWorldIntact, DESTINATION_USER, runCopy, SOURCE_USER, startWorld, type World } from '../faults/harness.js';

/** Access tokens live this long: a move with a few reconnects outlives several of them. */
const ACCESS_TOKEN_TTL_S = 2;

describe('moves with OAuth2 on both sides', { concurrency: false }, () => {
  let auth: OAuthTestServer;
  let oauth: OAuthClient;

  before(async () => {
    auth = await startOAuthServer({ accessTokenTtlS: ACCESS_TOKEN_TTL_S });
    oauth = await testOAuthClient(auth);
  });
  after(async () => auth?.stop());

  const oauthWorld = async (seed: number): Promise<{ world: World; sourceTokens: RefreshingTokenSource; destinationTokens: RefreshingTokenSource }> => {
    const oauth2 = { introspectionUrl: auth.introspectionUrlWithCredentials };
    const world = await startWorld({ corpus: generateCorpus({ seed, messagesPerFolder: 3 }), source: { oauth2 }, destination: { oauth2 } });
    const [sourceTokens, destinationTokens] = [await tokenSourceFor(oauth, SOURCE_USER.name, 'source'), await tokenSourceFor(oauth, DESTINATION_USER.name, 'destination')];
    const passwordSource = world.sourceCredentials;
    const passwordDestination = world.destinationCredentials;
    world.sourceCredentials = () => withOAuth(passwordSource(), sourceTokens);
    world.destinationCredentials = () => withOAuth(passwordDestination(), destinationTokens);
    return { world, sourceTokens, destinationTokens };
  };

  test('a full copy signs in with tokens on both sides and ends exact; no token anywhere', async () => {
    const { world } = await oauthWorld(41);
    try {
      const introspectionsBefore = auth.counts.introspections;
      const run = await runCopy(world, { seed: 41 });
      assertDone(run.report);
      await assertWorldIntact(world);
      const logins = [...world.sourceProxy.wire().commands(), ...world.destinationProxy.wire().commands()].filter((c) => c.name === 'AUTHENTICATE' || c.name === 'LOGIN');
      assert.ok(logins.length >= 3 && logins.every((c) => c.line.endsWith('AUTHENTICATE OAUTHBEARER [redacted]')), `every login through the proxies was OAUTHBEARER: ${logins.map((c) => c.line).join(', ')}`);
      assert.ok(auth.counts.introspections - introspectionsBefore >= logins.length, 'Dovecot checked each token with the authorization server');
      assertNoTokenIn(auth.issuedTokens(), { 'job events': JSON.stringify(run.events) });
      assertNoTokenInFiles(auth.issuedTokens(), world.stateDir);
    } finally {
      await world.stop();
    }
  });

  test(`access tokens of ${ACCESS_TOKEN_TTL_S} s and connections dropped on both sides: every reconnect gets a fresh token, several refreshes, exact copy`, async () => {
    const { world, sourceTokens, destinationTokens } = await oauthWorld(42);
    try {
      const [srcDrop] = world.sourceProxy.setFaults([{ kind: 'drop', direction: 'server-to-client', randomBetween: [300, 5_000], seed: 42, times: 4 }]);
      const [dstDrop] = world.destinationProxy.setFaults([{ kind: 'drop', direction: 'server-to-client', randomBetween: [300, 4_000], seed: 43, times: 4 }]);
      const refreshesBefore = auth.counts.refreshToken;
      const refusedBefore = new Set(auth.counts.inactiveTokens);
      // Retries a second or more apart, so tokens age past their lifetime between reconnects.
      const run = await runCopy(world, { seed: 42, backoff: { baseMs: 1_000, capMs: 1_500 }, settings: { maxConsecutiveFailures: 12 } });
      assert.equal(srcDrop?.firedCount, 4, 'source drops fired');
      assert.equal(dstDrop?.firedCount, 4, 'destination drops fired');
      assertDone(run.report);
      await assertWorldIntact(world);
      const refreshes = sourceTokens.refreshCount + destinationTokens.refreshCount;
      assert.ok(refreshes >= 3, `tokens were refreshed several times (${refreshes})`);
      assert.equal(auth.counts.refreshToken - refreshesBefore, refreshes, 'each refresh reached the authorization server once (no double use of a rotated refresh token)');
      // Tokens are refreshed when a fifth of their life is left (400 ms here); on a busy machine a
      // connection can take longer than that to reach its login, and Dovecot then finds the token
      // expired. Such a refusal is met with a refresh and a second try on the same connection, so
      // it never reaches the job: no folder saw an auth error. Connections that present the same
      // expired token at once share one refresh, so refused tokens are counted, not refusals.
      const refused = [...auth.counts.inactiveTokens].filter((t) => !refusedBefore.has(t)).length;
      assert.ok(refused <= refreshes, `every refused token was replaced by a refresh (${refused} tokens refused, ${refreshes} refreshes)`);
      assert.deepEqual(run.events.filter((e) => (e.type === 'folder-status' && e.folder.lastError?.kind === 'auth') || (e.type === 'job-status' && e.error?.kind === 'auth')), [], 'no sign-in failure reached the job');
      assertNoTokenIn(auth.issuedTokens(), { 'job events': JSON.stringify(run.events) });
      assertNoTokenInFiles(auth.issuedTokens(), world.stateDir);
    } finally {
      await world.stop();
    }
  });

  test('a refresh token revoked during the move: the move pauses with "sign in again", the journal intact; after signing in again the resumed copy is exact', async () => {
    const { world, sourceTokens } = await oauthWorld(44);
    try {
      // Slow the source so the move is still going when the person revokes the app's access.
      world.sourceProxy.setFaults([{ kind: 'latency', ms: 15, direction: 'server-to-client' }]);
      let revoked = false;
      const run = await runCopy(world, {
        seed: 44,
        settings: { connectionsPerSide: 1 },
        onEvent: (event) => {
          if (revoked || event.type !== 'progress' || event.progress.messagesDone === 0) return;
          revoked = true;
          void auth.revokeAccount(SOURCE_USER.name).then(() => {
            // The next connection must sign in again: drop the source's current one.
            world.sourceProxy.setFaults([{ kind: 'latency', ms: 15, direction: 'server-to-client' }, { kind: 'drop', direction: 'server-to-client', afterBytes: 0, times: 1 }]);
          });
        },
      });
      assert.ok(revoked, 'the revocation happened during the move');
      assert.equal(run.report.status, 'paused');
      const stopped = run.events.find((e) => e.type === 'job-status' && e.error?.needsSignIn);
      assert.ok(stopped?.type === 'job-status' && stopped.error, 'the job said why it stopped');
      assert.equal(stopped.error.needsSignIn, 'source');
      assert.match(stopped.error.message, /refused the sign-in.*— sign in again\.$/);
      const copiedBefore = run.report.totals.copied;
      assert.ok(copiedBefore > 0, 'some mail had arrived before the stop');
      assert.ok(run.report.folders.every((f) => f.status === 'paused' || f.status === 'verified'), 'no folder was set aside for the sign-in');
      assert.ok(sourceTokens.currentRefreshToken(), 'the old (revoked) refresh token is still the one held');

      // Signing in again (a new token source) and resuming over the same journal.
      world.sourceProxy.clearFaults();
      const again = await tokenSourceFor(oauth, SOURCE_USER.name, 'source');
      const passwordSource = world.source.credentials(SOURCE_USER.name);
      world.sourceCredentials = () => ({ ...withOAuth(passwordSource, again), port: world.sourceProxy.port });
      const resumed = await runCopy(world, { seed: 45 });
      assertDone(resumed.report);
      assert.ok(resumed.report.folders.reduce((n, f) => n + f.alreadyThere, 0) + resumed.report.totals.copied > 0);
      await assertWorldIntact(world);
    } finally {
      await world.stop();
    }
  });
});
