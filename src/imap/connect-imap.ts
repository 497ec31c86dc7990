/**
 * Opens one logged-in IMAP connection. Connections are disposable: an ImapFlow instance cannot
 * reconnect, so every failure drops the instance and the caller asks for a new one.
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
import { probeCertificate } from './certificate-probe.js';

/** A silent connection is declared dead after this long (imapflow's own default is 5 min). */
export const SOCKET_TIMEOUT_MS = 60_000;
export const GREETING_TIMEOUT_MS = 16_000;
export const CONNECTION_TIMEOUT_MS = 30_000;

export interface ConnectTimeouts {
  socketTimeoutMs?: number;
  greetingTimeoutMs?: number;
  connectionTimeoutMs?: number;
}

/** A connected client and a way to learn whether it has since died. */
export interface ImapConnection {
  client: ImapFlow;
  /** Set once the connection errored or closed; commands on it will fail. */
  isClosed(): boolean;
  server: string;
}

const normalizeFingerprint = (fp: string): string => fp.replace(/[^0-9a-f]/gi, '').toUpperCase();

/** Builds TLS options: normal verification, or trust exactly one pinned certificate (also used by append-channel.ts). */
export const tlsOptionsFor = async (account: AccountCredentials): Promise<Result<tls.ConnectionOptions>> => {
  const servername = net.isIP(account.host) ? undefined : account.host;
  if (!account.pinnedFingerprint || account.security === 'plain') {
    return ok({ rejectUnauthorized: true, servername });
  }
  // Pinning: fetch the presented chain first (no credentials sent), check the leaf against
  // the pin, then trust that chain as CA and replace the host-name check by the pin check.
  const probed = await probeCertificate(account.host, account.port, account.security);
  if (!probed.ok) return probed;
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

/** Connects and logs in; every failure is a MigrationError with a sentence for a person. */
export const connectImap = async (account: AccountCredentials, timeouts: ConnectTimeouts = {}): Promise<Result<ImapConnection>> => {
  const server = `${account.host}:${account.port}`;
  if (account.security === 'plain' && !account.allowPlaintext) {
    return err(
      migrationError('bad-input', `Unencrypted IMAP to ${server} was refused: the password would cross the network in clear. Choose TLS or STARTTLS, or allow plain IMAP explicitly.`),
    );
  }
  const tlsOptions = await tlsOptionsFor(account);
  if (!tlsOptions.ok) return tlsOptions;
  const options: ImapFlowOptions = {
    host: account.host,
    port: account.port,
    secure: account.security === 'tls',
    // true: STARTTLS is required (a server without it is refused); false: never upgrade.
    doSTARTTLS: account.security === 'starttls' ? true : account.security === 'plain' ? false : undefined,
    auth: { user: account.user, pass: account.password },
    tls: tlsOptions.value,
    logger: false,
    disableAutoIdle: true,
    socketTimeout: timeouts.socketTimeoutMs ?? SOCKET_TIMEOUT_MS,
    greetingTimeout: timeouts.greetingTimeoutMs ?? GREETING_TIMEOUT_MS,
    connectionTimeout: timeouts.connectionTimeoutMs ?? CONNECTION_TIMEOUT_MS,
    clientInfo: { name: 'Mailferry' },
  };
  const { ImapFlow } = await import('imapflow');
  const client = new ImapFlow(options);
  let closed = false;
  // Without an error listener a dropped socket would crash the process.
  client.on('error', () => {
    closed = true;
  });
  client.on('close', () => {
    closed = true;
  });
  try {
    await client.connect();
  } catch (thrown) {
    closed = true;
    client.close();
    // With a short timeout the socket timeout can fire before the greeting timer does; either
    // way a server that never greeted is most likely a TLS port spoken to in plain text.
    const isGreeted = (client as unknown as { greetingReceived?: boolean }).greetingReceived === true;
    const classified = classifyImapError(thrown, { server, operation: 'log in' });
    const error = classified.kind === 'timeout' && !isGreeted ? classifyImapError({ code: 'GREETING_TIMEOUT' }, { server, operation: 'log in' }) : classified;
    if (error.kind === 'tls' && account.security !== 'plain') {
      const probed = await probeCertificate(account.host, account.port, account.security);
      if (probed.ok) return err({ ...error, certificateFingerprint: probed.value.fingerprint256 });
    }
    return err(error);
  }
  return ok({ client, isClosed: () => closed || !client.usable, server });
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
