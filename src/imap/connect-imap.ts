/**
 * Opens one logged-in IMAP connection. Connections are disposable: an ImapFlow instance cannot
 * reconnect, so every failure drops the instance and the caller asks for a new one.
 *
 * Bounded against any server as wire-session.ts is: imapflow's line, literal and response caps
 * set to server-limits.ts's, its untagged answers per command counted (response-watch.ts), and
 * the whole opening (connect, TLS, greeting, STARTTLS, login) under one deadline besides
 * imapflow's own per-phase timeouts, so a server that trickles bytes cannot hold it open. A
 * plain account still uses STARTTLS when the server offers it.
 *
 * imapflow is loaded on the first connection, not with this module: loading it costs about
 * 0.2 s of CPU, which `mailferry --help` never needs and a copy pays while its first
 * connections (over wire-session.ts) are already on their way.
 */
import tls from 'node:tls';
import net from 'node:net';
import type { ImapFlow, ImapFlowOptions } from 'imapflow';
import type { AccountCredentials } from '../contract/account.js';
import { describeEndpoint } from '../contract/account.js';
import { err, migrationError, ok, type Result } from '../contract/result.js';
import { classifyImapError } from './classify-error.js';
import { probeCertificate, PROBE_TIMEOUT_MS } from './certificate-probe.js';
import { createResponseWatch } from './response-watch.js';
import { MAX_LINE_BYTES, MAX_LITERAL_BYTES, MAX_RESPONSE_LITERAL_BYTES } from './server-limits.js';
import { onAbortOf } from './abort-fan-out.js';

/** The certificate probe (pinning, and the fingerprint shown after a TLS failure) gets the connect timeout, at most its own. */
export const probeTimeoutOf = (timeouts: ConnectTimeouts): number => Math.min(PROBE_TIMEOUT_MS, timeouts.connectionTimeoutMs ?? CONNECTION_TIMEOUT_MS);

/** A silent connection is declared dead after this long (imapflow's own default is 5 min). */
export const SOCKET_TIMEOUT_MS = 60_000;
export const GREETING_TIMEOUT_MS = 16_000;
export const CONNECTION_TIMEOUT_MS = 30_000;

/** What bounds a connection: its timeouts, and a signal that ends it (connecting or connected). */
export interface ConnectTimeouts {
  socketTimeoutMs?: number;
  greetingTimeoutMs?: number;
  connectionTimeoutMs?: number;
  /** Aborting it stops a connection attempt at once and ends the connections it opened (Ctrl-C). */
  signal?: AbortSignal;
}

/** A connected client and a way to learn whether it has since died. */
export interface ImapConnection {
  client: ImapFlow;
  /** Set once the connection errored or closed; commands on it will fail. */
  isClosed(): boolean;
  /**
   * Why we closed it ourselves (the server crossed a limit, or Ctrl-C), if we did: a command
   * that failed because of it reports this, not a lost connection.
   */
  closedBecause(): Error | undefined;
  server: string;
}

const normalizeFingerprint = (fp: string): string => fp.replace(/[^0-9a-f]/gi, '').toUpperCase();

/**
 * Builds TLS options: normal verification, or trust exactly one pinned certificate (also used by
 * wire-session.ts). A plain account uses them for the STARTTLS its server may offer.
 */
export const tlsOptionsFor = async (account: AccountCredentials, probeTimeoutMs = PROBE_TIMEOUT_MS): Promise<Result<tls.ConnectionOptions>> => {
  const servername = net.isIP(account.host) ? undefined : account.host;
  if (!account.pinnedFingerprint) {
    return ok({ rejectUnauthorized: true, servername });
  }
  // Pinning: fetch the presented chain first (no credentials sent), check the leaf against
  // the pin, then trust that chain as CA and replace the host-name check by the pin check.
  const probed = await probeCertificate(account.host, account.port, account.security === 'plain' ? 'starttls' : account.security, probeTimeoutMs);
  // A plain account's server may offer no STARTTLS at all: then there is no certificate to pin.
  if (!probed.ok) return account.security === 'plain' ? ok({ rejectUnauthorized: true, servername }) : probed;
  const pinned = normalizeFingerprint(account.pinnedFingerprint);
  if (normalizeFingerprint(probed.value.fingerprint256) !== pinned) {
    return err(
      migrationError('tls', `The server's certificate is not the one you chose to trust (${describeEndpoint(account)}).`, {
        certificateFingerprint: probed.value.fingerprint256,
      }),
    );
  }
  return ok({
    rejectUnauthorized: true,
    servername,
    ca: probed.value.chainPem,
    checkServerIdentity: (_host, cert) =>
      normalizeFingerprint(cert.fingerprint256) === pinned
        ? undefined
        : Object.assign(new Error('Pinned certificate mismatch'), { code: 'CERT_PIN_MISMATCH' }),
  });
};

/**
 * Connects and logs in; every failure is a MigrationError with a sentence for a person. With an
 * OAuth2 token source, imapflow signs in with `auth.accessToken` (OAUTHBEARER when offered, else
 * XOAUTH2; imapflow always sends the initial response inline, which every OAuth2 IMAP server we
 * know accepts as they all offer SASL-IR). A refused token is reported to the source, and when it
 * can refresh, one more connection is made with the fresh token.
 */
export const connectImap = async (account: AccountCredentials, timeouts: ConnectTimeouts = {}): Promise<Result<ImapConnection>> => {
  const server = `${account.host}:${account.port}`;
  if (account.security === 'plain' && !account.allowPlaintext) {
    return err(
      migrationError('bad-input', `Unencrypted IMAP to ${server} was refused: the password would cross the network in clear. Choose TLS or STARTTLS, or allow plain IMAP explicitly.`),
    );
  }
  const tlsOptions = await tlsOptionsFor(account, probeTimeoutOf(timeouts));
  if (!tlsOptions.ok) return tlsOptions;
  if (!account.oauth) return connectOnce(account, { user: account.user, pass: account.password }, tlsOptions.value, timeouts);
  for (let attempt = 1; ; attempt++) {
    const token = await account.oauth.accessToken();
    if (!token.ok) return token;
    const connected = await connectOnce(account, { user: account.user, accessToken: token.value }, tlsOptions.value, timeouts);
    if (connected.ok || connected.error.needsSignIn === undefined || attempt >= 2 || !account.oauth.refused(token.value)) return connected;
  }
};

const connectOnce = async (account: AccountCredentials, auth: NonNullable<ImapFlowOptions['auth']>, tlsOptions: tls.ConnectionOptions, timeouts: ConnectTimeouts): Promise<Result<ImapConnection>> => {
  const server = `${account.host}:${account.port}`;
  const context = { server, operation: 'log in', oauth: account.oauth };
  const { signal } = timeouts;
  if (signal?.aborted) return err(migrationError('cancelled', 'Stopped.'));
  const socketTimeout = timeouts.socketTimeoutMs ?? SOCKET_TIMEOUT_MS;
  const greetingTimeout = timeouts.greetingTimeoutMs ?? GREETING_TIMEOUT_MS;
  const connectionTimeout = timeouts.connectionTimeoutMs ?? CONNECTION_TIMEOUT_MS;
  /** Set when we close the client ourselves: a limit crossed, the deadline, Ctrl-C. */
  let closedBecause: Error | undefined;
  let client: ImapFlow | undefined;
  const closeBecause = (reason: Error): void => {
    closedBecause ??= reason;
    client?.close();
  };
  const options: ImapFlowOptions = {
    host: account.host,
    port: account.port,
    secure: account.security === 'tls',
    // true: STARTTLS is required (a server without it is refused); unset: used whenever offered
    // (plain IMAP is allowed, never preferred).
    doSTARTTLS: account.security === 'starttls' ? true : undefined,
    auth,
    tls: tlsOptions,
    // imapflow's only hook on every response: counts each command's untagged answers.
    logger: createResponseWatch((overrun) => closeBecause(overrun)),
    disableAutoIdle: true,
    socketTimeout,
    greetingTimeout,
    connectionTimeout,
    maxLineLength: MAX_LINE_BYTES,
    maxLiteralSize: MAX_LITERAL_BYTES,
    // Above the literal cap, as imapflow asks: the response also carries its lines.
    maxResponseSize: MAX_RESPONSE_LITERAL_BYTES + MAX_LINE_BYTES,
    clientInfo: { name: 'Mailferry' },
  };
  const { ImapFlow: ImapFlowClient } = await import('imapflow');
  client = new ImapFlowClient(options);
  const opened = client;
  let closed = false;
  // Without an error listener a dropped socket would crash the process.
  opened.on('error', () => {
    closed = true;
  });
  opened.on('close', () => {
    closed = true;
  });
  const onAbort = (): void => closeBecause(Object.assign(new Error('Stopped.'), { code: 'ECANCELLED' }));
  const stopWaiting = signal ? onAbortOf(signal, onAbort) : () => undefined;
  opened.on('close', stopWaiting);
  // imapflow's timeouts restart with every byte; this one does not (STARTTLS and login: a socket timeout each).
  const deadline = setTimeout(
    () => closeBecause(Object.assign(new Error('The server did not let us log in in time.'), { code: 'ETIMEOUT' })),
    connectionTimeout + greetingTimeout + 2 * socketTimeout,
  );
  try {
    await opened.connect();
  } catch (thrown) {
    clearTimeout(deadline);
    stopWaiting();
    closed = true;
    opened.close();
    if (closedBecause) return err(classifyImapError(closedBecause, context));
    // With a short timeout the socket timeout can fire before the greeting timer does; either
    // way a server that never greeted is most likely a TLS port spoken to in plain text.
    const isGreeted = (opened as unknown as { greetingReceived?: boolean }).greetingReceived === true;
    // imapflow throws a bare Error when the server offers no OAuth2 mechanism at all.
    const hasNoOAuth = account.oauth !== undefined && isGreeted && opened.capabilities.size > 0 && !opened.capabilities.has('AUTH=OAUTHBEARER') && !opened.capabilities.has('AUTH=XOAUTH2') && !opened.capabilities.has('AUTH=XOAUTH');
    const classified = classifyImapError(hasNoOAuth ? { code: 'NoOAuthMechanism' } : thrown, context);
    const error = classified.kind === 'timeout' && !isGreeted ? classifyImapError({ code: 'GREETING_TIMEOUT' }, context) : classified;
    if (error.kind === 'tls') {
      // A plain account meets TLS only in the STARTTLS its server offered.
      const probed = await probeCertificate(account.host, account.port, account.security === 'plain' ? 'starttls' : account.security, probeTimeoutOf(timeouts));
      if (probed.ok) return err({ ...error, certificateFingerprint: probed.value.fingerprint256 });
    }
    return err(error);
  }
  clearTimeout(deadline);
  return ok({ client: opened, isClosed: () => closed || !opened.usable, closedBecause: () => closedBecause, server });
};

/** Closes politely when possible, and never throws. */
export const disconnectImap = async (connection: ImapConnection): Promise<void> => {
  try {
    if (!connection.isClosed()) await Promise.race([connection.client.logout(), new Promise((r) => setTimeout(r, 2000).unref())]);
  } catch {
    // the connection is going away either way
  } finally {
    connection.client.close();
  }
};
