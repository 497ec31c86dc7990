/**
 * Looks at a server's TLS certificate without sending any credentials: used to tell a person
 * which certificate a server presents (so they can decide to trust it) and to check a pinned
 * fingerprint before a password is ever sent. Speaks just enough IMAP for STARTTLS.
 *
 * Bounded against any server: one deadline for the whole probe (a server that trickles bytes
 * or sends endless lines cannot extend it), at most PROBE_MAX_LINES lines read.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Security } from '../contract/account.js';
import { migrationError, ok, err, type Result } from '../contract/result.js';
import { classifyImapError } from './classify-error.js';

export const PROBE_TIMEOUT_MS = 15_000;
/** Lines read while waiting for the greeting or the STARTTLS answer. */
const PROBE_MAX_LINES = 1000;

export interface CertificateInfo {
  /** SHA-256 of the leaf certificate, hex pairs separated by colons (Node's fingerprint256). */
  fingerprint256: string;
  subject: string;
  issuer: string;
  validTo: string;
  /** Whether Node's normal verification accepted it (chain and host name). */
  isTrusted: boolean;
  /** Why it was not trusted, as OpenSSL/Node says (e.g. DEPTH_ZERO_SELF_SIGNED_CERT). */
  trustError?: string;
  /** PEM of every certificate the server presented, leaf first. */
  chainPem: string[];
}

const toPem = (raw: Buffer): string =>
  `-----BEGIN CERTIFICATE-----\n${raw.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;

const describeName = (name: unknown): string => {
  if (!name || typeof name !== 'object') return '';
  return Object.entries(name as Record<string, unknown>)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(', ');
};

const certificateInfoOf = (socket: tls.TLSSocket): CertificateInfo => {
  const peer = socket.getPeerCertificate(true);
  const chainPem: string[] = [];
  const seen = new Set<string>();
  let current: tls.DetailedPeerCertificate | undefined = peer;
  // The issuer chain is circular at the root; stop at a repeat.
  for (let depth = 0; current && current.raw && depth < 10; depth++) {
    if (seen.has(current.fingerprint256)) break;
    seen.add(current.fingerprint256);
    chainPem.push(toPem(current.raw));
    current = current.issuerCertificate;
  }
  const trustError = socket.authorized ? undefined : String(socket.authorizationError ?? 'unknown');
  return {
    fingerprint256: peer.fingerprint256,
    subject: describeName(peer.subject),
    issuer: describeName(peer.issuer),
    validTo: peer.valid_to,
    isTrusted: socket.authorized,
    trustError,
    chainPem,
  };
};

/** Reads lines from a plain socket until one matches, bounded by the probe's deadline and PROBE_MAX_LINES. */
const readUntil = (socket: net.Socket, isDone: (line: string) => boolean): Promise<string> =>
  new Promise((resolve, reject) => {
    let buffered = '';
    let count = 0;
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('latin1');
      const lines = buffered.split('\r\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (isDone(line)) {
          socket.off('data', onData);
          resolve(line);
          return;
        }
      }
      count += lines.length;
      if (buffered.length > 64 * 1024 || count > PROBE_MAX_LINES) {
        socket.off('data', onData);
        reject(Object.assign(new Error('Unexpected greeting'), { code: 'InvalidResponse' }));
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('close', () => reject(Object.assign(new Error('Connection closed'), { code: 'EConnectionClosed' })));
  });

/** Connects, completes a TLS handshake (after STARTTLS if asked), and reports the certificate. */
export const probeCertificate = async (host: string, port: number, security: Exclude<Security, 'plain'>, timeoutMs = PROBE_TIMEOUT_MS): Promise<Result<CertificateInfo>> => {
  const servername = net.isIP(host) ? undefined : host;
  let plain: net.Socket | undefined;
  let secure: tls.TLSSocket | undefined;
  // One deadline for the whole probe: an idle timer would restart with every trickled byte.
  const deadline = setTimeout(() => (secure ?? plain)?.destroy(Object.assign(new Error('Timed out'), { code: 'ETIMEOUT' })), timeoutMs);
  try {
    if (security === 'starttls') {
      const socket = net.connect({ host, port });
      plain = socket;
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      });
      await readUntil(socket, (line) => line.startsWith('* '));
      socket.write('P1 STARTTLS\r\n');
      const answer = await readUntil(socket, (line) => line.startsWith('P1 '));
      if (!/^P1 OK/i.test(answer)) return err(migrationError('tls', 'The server does not offer STARTTLS on this port.', { serverText: answer }));
    }
    const tlsSocket = tls.connect({ host, port, servername, socket: plain, rejectUnauthorized: false });
    secure = tlsSocket;
    await new Promise<void>((resolve, reject) => {
      tlsSocket.once('secureConnect', resolve);
      tlsSocket.once('error', reject);
    });
    return ok(certificateInfoOf(tlsSocket));
  } catch (thrown) {
    return err(classifyImapError(thrown, { server: `${host}:${port}`, operation: 'TLS handshake' }));
  } finally {
    clearTimeout(deadline);
    secure?.destroy();
    plain?.destroy();
  }
};
