/**
 * Builds the openid-client configuration for a provider and a client ID: Google's and
 * Microsoft's fixed endpoints, or a custom issuer's metadata, looked up first as RFC 8414 says
 * (`/.well-known/oauth-authorization-server` inserted before the issuer's path), then at
 * `ISSUER/.well-known/openid-configuration` (OpenID Connect Discovery) for issuers that serve it
 * there. All protocol work (PKCE, state, token requests) is openid-client's.
 */
import * as client from 'openid-client';
import { err, ok, type Result } from '../contract/result.js';
import { oauthFailure } from './oauth-failure.js';
import type { OAuthProvider } from './oauth-provider.js';

/** The app's registration at the provider. */
export interface OAuthClientId {
  clientId: string;
  /** Only for providers that want one from installed apps (Google's is not confidential there). */
  clientSecret?: string;
}

/** A provider ready to use: its openid-client configuration and the provider it came from. */
export interface OAuthClient {
  provider: OAuthProvider;
  config: client.Configuration;
}

/** How long one request to the authorization server may take. */
export const OAUTH_REQUEST_TIMEOUT_S = 30;

const clientAuthOf = (id: OAuthClientId): client.ClientAuth => (id.clientSecret ? client.ClientSecretPost(id.clientSecret) : client.None());

/** Looks up the provider's endpoints (custom issuers only) and returns a ready client. */
export const createOAuthClient = async (provider: OAuthProvider, id: OAuthClientId): Promise<Result<OAuthClient>> => {
  const auth = clientAuthOf(id);
  const metadata = id.clientSecret ? { client_secret: id.clientSecret } : undefined;
  if (provider.server.kind === 'static') {
    const config = new client.Configuration({ ...provider.server.endpoints }, id.clientId, metadata, auth);
    config.timeout = OAUTH_REQUEST_TIMEOUT_S;
    return ok({ provider, config });
  }
  // resolveProvider accepted plain http only for a loopback issuer.
  const execute = provider.isInsecureHttp ? [client.allowInsecureRequests] : [];
  let firstFailure: unknown;
  for (const algorithm of ['oauth2', 'oidc'] as const) {
    try {
      const config = await client.discovery(provider.server.issuer, id.clientId, metadata, auth, { algorithm, execute, timeout: OAUTH_REQUEST_TIMEOUT_S });
      return ok({ provider, config });
    } catch (e) {
      firstFailure ??= e;
    }
  }
  return err(oauthFailure(firstFailure, provider.name, 'look up the sign-in server'));
};
