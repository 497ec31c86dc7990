/**
 * Checks that no OAuth2 token, nor its base64 in any alignment (as inside a SASL payload), is in
 * some text: job events, CLI output, files of the state folder.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Every file under `dir`, recursively. */
export const filesUnder = (dir: string): string[] => {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)]));
};

/** Where a token shows up in `text`: as itself, base64 or base64url, or inside a decoded base64 run. */
const findToken = (token: string, text: string): string | undefined => {
  if (text.includes(token)) return 'in clear';
  const b64 = Buffer.from(token).toString('base64');
  for (const form of [b64, b64.replace(/=+$/, ''), Buffer.from(token).toString('base64url')]) if (text.includes(form)) return 'as base64';
  // A token inside a longer base64 payload (an OAUTHBEARER message) shows only after decoding.
  for (const run of text.match(/[A-Za-z0-9+/_-]{40,}={0,2}/g) ?? []) {
    for (const encoding of ['base64', 'base64url'] as const) {
      if (Buffer.from(run, encoding).toString('latin1').includes(token)) return 'inside a base64 payload';
    }
  }
  return undefined;
};

/** Fails naming the place and the form when any of `tokens` is in any of `places` (name → text). */
export const assertNoTokenIn = (tokens: readonly string[], places: Record<string, string>): void => {
  assert.ok(tokens.length > 0, 'there are tokens to look for');
  for (const [place, text] of Object.entries(places)) {
    for (const token of tokens) {
      const found = findToken(token, text);
      assert.equal(found, undefined, `a token is ${found} in ${place}`);
    }
  }
};

/** The same for every file under `dir`. */
export const assertNoTokenInFiles = (tokens: readonly string[], dir: string): void => {
  const files = filesUnder(dir);
  assert.ok(files.length > 0, `${dir} holds files to look through`);
  assertNoTokenIn(tokens, Object.fromEntries(files.map((f) => [f, readFileSync(f, 'latin1')])));
};
