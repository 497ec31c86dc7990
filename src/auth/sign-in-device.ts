/**
 * Sign-in with a code on another device (RFC 8628), for a computer without a browser: the server
 * gives a short code and a web address, the person enters the code there on any device, and we
 * poll the token endpoint at the interval the server asks for (slowing down when it says
 * `slow_down`) until it answers. openid-client does the requests and the polling.
 */
import * as client from 'openid-client';
import { err, migrationError, ok, type Result } from '../contract/result.js';
import type { OAuthClient } from './oauth-client.js';
import { oauthFailure } from './oauth-failure.js';
import { tokenSetOf, type TokenSet } from './token-provider.js';

/** What the person needs to finish the sign-in elsewhere. */
export interface DeviceCodePrompt {
  verificationUri: string;
  /** The same address with the code filled in, when the server offers one. */
  verificationUriComplete?: string;
  userCode: string;
  expiresInSeconds: number;
}

export interface DeviceSignInOptions {
  oauth: OAuthClient;
  /** Shows the code and address to the person (stderr on the command line). */
  onPrompt(prompt: DeviceCodePrompt): void;
  signal?: AbortSignal;
  now?: () => number;
}

/** Signs in with the device authorization grant; resolves with the tokens, or why not. */
export const signInWithDeviceCode = async (options: DeviceSignInOptions): Promise<Result<TokenSet>> => {
  const { oauth } = options;
  const name = oauth.provider.name;
  if (!oauth.config.serverMetadata().device_authorization_endpoint) {
    return err(migrationError('bad-input', `${name} does not offer sign-in with a code on another device. Run Mailferry where a web browser can open, or pass a ready token with --from-token-env / --to-token-env.`));
  }
  let started: client.DeviceAuthorizationResponse;
  try {
    started = await client.initiateDeviceAuthorization(oauth.config, { scope: oauth.provider.scope });
  } catch (e) {
    return err(oauthFailure(e, name, 'start the sign-in'));
  }
  options.onPrompt({
    verificationUri: started.verification_uri,
    ...(started.verification_uri_complete ? { verificationUriComplete: started.verification_uri_complete } : {}),
    userCode: started.user_code,
    expiresInSeconds: started.expires_in,
  });
  try {
    // Without a signal of ours openid-client stops polling when the code expires.
    const signal = options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(started.expires_in * 1000)]) : undefined;
    const response = await client.pollDeviceAuthorizationGrant(oauth.config, started, undefined, signal ? { signal } : undefined);
    return ok(tokenSetOf(response, (options.now ?? Date.now)()));
  } catch (e) {
    return err(oauthFailure(e, name, 'finish the sign-in'));
  }
};
