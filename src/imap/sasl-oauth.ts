/**
 * The SASL side of OAuth2 sign-in to IMAP: OAUTHBEARER (RFC 7628) and Google's and Microsoft's
 * XOAUTH2, chosen from the server's CAPABILITY. Only message building and parsing lives here;
 * wire-session.ts sends them.
 */

export type OAuthMechanism = 'OAUTHBEARER' | 'XOAUTH2';

/** OAUTHBEARER when offered (the standard), else XOAUTH2; undefined when the server has neither. */
export const chooseOAuthMechanism = (capabilities: ReadonlySet<string>): OAuthMechanism | undefined =>
  capabilities.has('AUTH=OAUTHBEARER') ? 'OAUTHBEARER' : capabilities.has('AUTH=XOAUTH2') ? 'XOAUTH2' : undefined;

/** RFC 5801's saslname: `,` and `=` escaped in the GS2 authzid. */
const saslName = (user: string): string => user.replace(/=/g, '=3D').replace(/,/g, '=2C');

/** The client's first message (not yet base64), naming the user, the server it talks to and the token. */
export const oauthInitialResponse = (mechanism: OAuthMechanism, user: string, token: string, host: string, port: number): Buffer =>
  Buffer.from(
    mechanism === 'OAUTHBEARER'
      ? `n,a=${saslName(user)},\x01host=${host}\x01port=${port}\x01auth=Bearer ${token}\x01\x01`
      : `user=${user}\x01auth=Bearer ${token}\x01\x01`,
    'utf8',
  );

/**
 * What the client answers to a failure challenge so the server sends its final NO: RFC 7628's
 * single %x01 for OAUTHBEARER, an empty response for XOAUTH2 (as Google documents it).
 */
export const oauthFailureAck = (mechanism: OAuthMechanism): string => (mechanism === 'OAUTHBEARER' ? Buffer.from('\x01').toString('base64') : '');

/** The server's JSON error (`{"status":"invalid_token",...}`) from a `+ base64` challenge, if it is one. */
export const parseOAuthChallenge = (base64: string): Record<string, unknown> | undefined => {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(base64.trim(), 'base64').toString('utf8'));
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
};
