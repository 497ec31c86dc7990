/**
 * The OAuth2 providers Mailferry signs in with, as data: Google and Microsoft with their fixed
 * endpoints and IMAP scopes, and any other issuer whose endpoints come from its metadata.
 * Nothing here talks to the network.
 */
import net from 'node:net';
import { err, migrationError, ok, type Result } from '../contract/result.js';

/** Endpoints as the authorization server metadata (RFC 8414) names them. */
export interface ProviderEndpoints {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  device_authorization_endpoint?: string;
  revocation_endpoint?: string;
}

export interface OAuthProvider {
  /** `google`, `microsoft`, or `issuer` for one found by its metadata. */
  id: 'google' | 'microsoft' | 'issuer';
  /** For sentences: `Google`, `Microsoft`, or the issuer's host. */
  name: string;
  /** The scope that gives IMAP access (and a refresh token). */
  scope: string;
  /** Fixed endpoints, or the issuer whose metadata names them. */
  server: { kind: 'static'; endpoints: ProviderEndpoints } | { kind: 'issuer'; issuer: URL };
  /** Extra parameters of the authorization request (Google hands out refresh tokens only when asked). */
  authorizationParams: Record<string, string>;
  /** True for an issuer over plain http (allowed on a loopback address only). */
  isInsecureHttp: boolean;
}

/** Where a person registers a client ID for each provider (README has the steps). */
export const CLIENT_REGISTRATION_URL: Record<'google' | 'microsoft', string> = {
  google: 'https://console.cloud.google.com/apis/credentials',
  microsoft: 'https://entra.microsoft.com/#view/Microsoft_AAD_RegisteredApps/ApplicationsListBlade',
};

export const GOOGLE_SCOPE = 'https://mail.google.com/';
export const MICROSOFT_SCOPE = 'https://outlook.office.com/IMAP.AccessAsUser.All offline_access';
/** A custom issuer: an OpenID Connect login with a refresh token; IT departments may ask for more with MAILFERRY_OAUTH_SCOPE. */
export const ISSUER_DEFAULT_SCOPE = 'openid email offline_access';
/** Microsoft's tenant for personal and work accounts alike. */
export const DEFAULT_MICROSOFT_TENANT = 'common';

const google = (): OAuthProvider => ({
  id: 'google',
  name: 'Google',
  scope: GOOGLE_SCOPE,
  server: {
    kind: 'static',
    endpoints: {
      issuer: 'https://accounts.google.com',
      authorization_endpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
      token_endpoint: 'https://oauth2.googleapis.com/token',
      device_authorization_endpoint: 'https://oauth2.googleapis.com/device/code',
      revocation_endpoint: 'https://oauth2.googleapis.com/revoke',
    },
  },
  // Without these Google gives a refresh token only on the very first consent.
  authorizationParams: { access_type: 'offline', prompt: 'consent' },
  isInsecureHttp: false,
});

const microsoft = (tenant: string): OAuthProvider => {
  const base = `https://login.microsoftonline.com/${encodeURIComponent(tenant)}`;
  return {
    id: 'microsoft',
    name: 'Microsoft',
    scope: MICROSOFT_SCOPE,
    server: {
      kind: 'static',
      endpoints: {
        issuer: `${base}/v2.0`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        token_endpoint: `${base}/oauth2/v2.0/token`,
        device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      },
    },
    authorizationParams: {},
    isInsecureHttp: false,
  };
};

/** True for 127.0.0.0/8, ::1 and `localhost`: the only hosts a plain-http issuer may be on. */
export const isLoopbackHost = (hostname: string): boolean => {
  const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === 'localhost') return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  return net.isIPv6(host) && (host === '::1' || host === '0:0:0:0:0:0:0:1');
};

export interface ProviderChoice {
  /** Microsoft's tenant (default `common`). */
  tenant?: string;
  /** Overrides the issuer's default scope. */
  scope?: string;
}

/**
 * The provider named by `google`, `microsoft`, or an issuer URL (https, or http on a loopback
 * address only).
 */
export const resolveProvider = (name: string, choice: ProviderChoice = {}): Result<OAuthProvider> => {
  const lower = name.trim().toLowerCase();
  if (lower === 'google' || lower === 'gmail') return ok(google());
  if (lower === 'microsoft' || lower === 'outlook' || lower === 'office365') {
    const tenant = choice.tenant?.trim() || DEFAULT_MICROSOFT_TENANT;
    if (!/^[A-Za-z0-9.-]{1,100}$/.test(tenant)) return err(migrationError('bad-input', `"${tenant}" is not a Microsoft tenant (a domain, a tenant ID, or "common").`));
    return ok(microsoft(tenant));
  }
  let url: URL;
  try {
    url = new URL(name.trim());
  } catch {
    return err(migrationError('bad-input', `"${name}" is not a sign-in provider: use google, microsoft, or the URL of an OAuth2 issuer (https://…).`));
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return err(migrationError('bad-input', `The issuer "${name}" must be an https:// URL.`));
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    return err(migrationError('bad-input', `The issuer "${name}" uses plain http: sign-in tokens would cross the network in clear. Use https:// (plain http is accepted only on this computer's loopback address).`));
  }
  if (url.search || url.hash || url.username || url.password) return err(migrationError('bad-input', `The issuer "${name}" may not have a query, fragment or user name.`));
  const scope = choice.scope?.trim() || ISSUER_DEFAULT_SCOPE;
  return ok({
    id: 'issuer',
    name: url.host,
    scope,
    server: { kind: 'issuer', issuer: url },
    // OpenID Connect grants offline_access (the refresh token) only with prompt=consent.
    authorizationParams: (scope.split(/\s+/).includes('offline_access') ? { prompt: 'consent' } : {}) as Record<string, string>,
    isInsecureHttp: url.protocol === 'http:',
  });
};
