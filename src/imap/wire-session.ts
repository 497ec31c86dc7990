/**
 * A minimal IMAP client session over a socket: connect, STARTTLS, log in, send tagged
 * commands (pipelined if the caller wants), and read responses with their literals. The
 * append channel and the wire source are built on it; they decide which commands exist.
 *
 * Invariants:
 * - TLS is verified exactly as connect-imap.ts does (same options, same pinning); after
 *   STARTTLS anything the server sent before the handshake is discarded, and capabilities
 *   are asked for again.
 * - Every command gets its own tagged answer; when the connection fails, every command still
 *   waiting is rejected with the connection's error (a BYE's response code kept, so
 *   [UNAVAILABLE] reads as throttling).
 * - A connection given up (timeout, error, close) is reset (RST) on its TCP socket, never
 *   closed with FIN: bytes of unanswered APPENDs still queued would otherwise reach the server
 *   after we stopped waiting for them, and land twice once the next pass sends them again.
 * - A literal larger than MAX_LITERAL_BYTES or a line longer than MAX_LINE_BYTES ends the
 *   session instead of growing memory without bound.
 * - A literal that arrived in one socket chunk is handed on as a view of that chunk, not copied.
 *   Writes made in one tick leave in one system call (the socket is corked until the next tick).
 * - While the reader of a long answer pauses reading (its consumer is slower than the server),
 *   the idle limit does not run: the silence is ours, not the server's.
 * - Errors are shaped like imapflow's (code, serverResponseCode, response, responseText,
 *   authenticationFailed), so classify-error.ts stays the one place they get a meaning.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { AccountCredentials } from '../contract/account.js';
import { err, migrationError, ok, type Result } from '../contract/result.js';
import { classifyImapError } from './classify-error.js';
import { probeCertificate } from './certificate-probe.js';
import { CONNECTION_TIMEOUT_MS, GREETING_TIMEOUT_MS, SOCKET_TIMEOUT_MS, tlsOptionsFor, type ConnectTimeouts } from './connect-imap.js';

/** A response line longer than this (literals not counted) is not IMAP we can use. */
const MAX_LINE_BYTES = 64 * 1024 * 1024;
/** A literal (a message body) larger than this ends the session. */
const MAX_LITERAL_BYTES = 1024 * 1024 * 1024;
/** imapflow's cap on a server-suggested wait. */
const MAX_THROTTLE_DELAY_MS = 5 * 60 * 1000;
/** How long LOGOUT may take before the socket is simply closed. */
const LOGOUT_GRACE_MS = 1000;

/** One server response: its text (literals shown as their `{n}` markers) and the literals in order. */
export interface WireResponse {
  text: string;
  literals: Buffer[];
}

export interface Tagged {
  status: 'OK' | 'NO' | 'BAD';
  code?: string;
  codeArgs: string[];
  text: string;
  line: string;
}

/** Splits `[CODE arg arg] text` into its parts. */
export const parseResponseText = (rest: string): { code?: string; codeArgs: string[]; text: string } => {
  const m = /^\[([^\]\s]+)(?:\s([^\]]*))?\]\s?(.*)$/s.exec(rest);
  if (!m) return { codeArgs: [], text: rest };
  return { code: (m[1] as string).toUpperCase(), codeArgs: m[2] ? m[2].trim().split(/\s+/) : [], text: m[3] ?? '' };
};

/**
 * An error shaped like imapflow's, so classify-error.ts decides what it means. Like imapflow,
 * Microsoft 365's "BAD Request is throttled. Suggested Backoff Time: N milliseconds" becomes
 * code ETHROTTLE with the suggested wait (imapflow reads these words too; there is no
 * response code for it).
 */
export const responseError = (tagged: Tagged, extra: Record<string, unknown> = {}): Error => {
  const backoff = /Request is throttled/i.test(tagged.text) ? /Backoff Time[:=\s]+(\d+)/i.exec(tagged.text) : null;
  return Object.assign(new Error(tagged.text || `${tagged.status} response`), {
    response: tagged.line,
    responseText: tagged.text,
    serverResponseCode: tagged.code,
    ...(backoff ? { code: 'ETHROTTLE', throttleReset: Math.min(Number(backoff[1]), MAX_THROTTLE_DELAY_MS) } : {}),
    ...extra,
  });
};

/**
 * Marks a promise as handled and returns it: a caller whose write fails first (the connection
 * went) never awaits the answer it registered for, and Node ends the process on an unhandled
 * rejection. Awaiting the promise still throws.
 */
const handled = <T>(promise: Promise<T>): Promise<T> => {
  promise.catch(() => undefined);
  return promise;
};

export const connectionError = (code: string, message: string, bye?: { code?: string; text: string }): Error =>
  Object.assign(new Error(message), bye?.code ? { code, serverResponseCode: bye.code, responseText: bye.text } : { code });

/** A quoted string; CR, LF and NUL cannot be quoted (and are not in valid mailbox names). */
export const quoted = (value: string): string | undefined => (/[\r\n\0]/.test(value) ? undefined : `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`);

/** Reads server responses: lines ending in CRLF, `{n}` literals collected into Buffers. */
export class ResponseReader {
  /** The start of a line whose CRLF has not arrived yet (latin1). */
  private partial = '';
  private line = '';
  private literals: Buffer[] = [];
  private literal?: { buffer: Buffer; filled: number };

  constructor(private readonly onResponse: (response: WireResponse) => void) {}

  /** Reads a chunk in place: a line split across chunks is kept as text, never re-copied with the next chunk. */
  push(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.literal) {
        const { buffer } = this.literal;
        const take = Math.min(buffer.length - this.literal.filled, chunk.length - pos);
        chunk.copy(buffer, this.literal.filled, pos, pos + take);
        this.literal.filled += take;
        pos += take;
        if (this.literal.filled === buffer.length) {
          this.literals.push(buffer);
          this.literal = undefined;
        }
        continue;
      }
      let text: string;
      if (pos === 0 && this.partial.endsWith('\r') && chunk[0] === 0x0a) {
        // The CRLF itself was split between two chunks.
        text = this.partial.slice(0, -1);
        pos = 1;
      } else {
        const eol = chunk.indexOf('\r\n', pos, 'latin1');
        if (eol < 0) {
          this.partial += chunk.toString('latin1', pos);
          if (this.partial.length + this.line.length > MAX_LINE_BYTES) throw connectionError('LineTooLarge', 'The server sent a response line that is too long.');
          return;
        }
        text = this.partial + chunk.toString('latin1', pos, eol);
        pos = eol + 2;
      }
      this.partial = '';
      this.line += text;
      if (this.line.length > MAX_LINE_BYTES) throw connectionError('LineTooLarge', 'The server sent a response line that is too long.');
      const literal = /\{(\d+)\+?\}$/.exec(text);
      if (literal) {
        const size = Number(literal[1]);
        if (size > MAX_LITERAL_BYTES) throw connectionError('LiteralTooLarge', 'The server sent a literal that is too large.');
        if (size === 0) this.literals.push(Buffer.alloc(0));
        else if (chunk.length - pos >= size) {
          // All of it is in this chunk: a view, no copy (a socket's chunks are never reused).
          this.literals.push(chunk.subarray(pos, pos + size));
          pos += size;
        } else this.literal = { buffer: Buffer.allocUnsafe(size), filled: 0 };
        continue;
      }
      const response = { text: this.line, literals: this.literals };
      this.line = '';
      this.literals = [];
      this.onResponse(response);
    }
  }
}

/** The live protocol state of one connection. */
export class WireSession {
  private reader: ResponseReader;
  private readonly waiting = new Map<string, { resolve: (t: Tagged) => void; reject: (e: Error) => void; onAnswered?: () => void }>();
  /** Who gets the next `+`: at most one command waits for a continuation at a time. */
  private continuation?: { tag: string; resolve: (isGo: boolean) => void; reject: (e: Error) => void };
  private tagCounter = 0;
  private closedWith?: Error;
  private wasGivenUp = false;
  private isCorked = false;
  private isReadingPaused = false;
  private bye?: { code?: string; text: string };
  private detach: () => void = () => undefined;
  capabilities = new Set<string>();
  /** Untagged responses other than CAPABILITY/BYE go here (the command running decides). */
  onUntagged?: (response: WireResponse) => void;
  greeting?: { resolve: (line: string) => void };

  constructor(
    public socket: net.Socket | tls.TLSSocket,
    /** The TCP socket under any TLS: the one that gets reset. */
    private readonly tcp: net.Socket,
  ) {
    this.reader = new ResponseReader((r) => this.onResponse(r));
    this.attach(socket);
  }

  get closedError(): Error | undefined {
    return this.closedWith;
  }

  /** True once we ended the session ourselves (see fail). */
  get isGivenUp(): boolean {
    return this.wasGivenUp;
  }

  /** Listens on a (new) socket with a fresh reader: after STARTTLS the plain socket's leftovers are gone. */
  attach(socket: net.Socket | tls.TLSSocket): void {
    this.detach();
    this.socket = socket;
    this.reader = new ResponseReader((r) => this.onResponse(r));
    const onData = (chunk: Buffer): void => {
      try {
        this.reader.push(chunk);
      } catch (e) {
        this.fail(e as Error, true);
      }
    };
    const onError = (e: Error): void => this.fail(e);
    // A BYE's response code ([UNAVAILABLE], ...) tells throttling from a plain drop.
    const onClose = (): void => this.fail(connectionError('EConnectionClosed', 'The server closed the connection.', this.bye));
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    this.detach = () => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
  }

  /** Stops listening to the current socket without failing anything (STARTTLS hand-over). */
  release(): void {
    this.detach();
    this.detach = () => undefined;
  }

  private onResponse(response: WireResponse): void {
    const line = response.text;
    if (line.startsWith('+')) {
      const waiter = this.continuation;
      this.continuation = undefined;
      waiter?.resolve(true);
      return;
    }
    if (line.startsWith('* ')) {
      const rest = line.slice(2);
      const upper = rest.slice(0, 12).toUpperCase();
      if (this.greeting) {
        const greeting = this.greeting;
        this.greeting = undefined;
        this.takeCapabilities(parseResponseText(rest.replace(/^\S+\s?/, '')));
        greeting.resolve(line);
        return;
      }
      if (upper.startsWith('CAPABILITY ')) this.capabilities = new Set(rest.slice(11).trim().split(/\s+/).map((c) => c.toUpperCase()));
      else if (upper.startsWith('BYE')) this.bye = parseResponseText(rest.slice(3).trim());
      else {
        if (upper.startsWith('OK ')) this.takeCapabilities(parseResponseText(rest.slice(3)));
        this.onUntagged?.(response);
      }
      return;
    }
    const space = line.indexOf(' ');
    const tag = space > 0 ? line.slice(0, space) : line;
    const waiter = this.waiting.get(tag);
    if (!waiter) return;
    this.waiting.delete(tag);
    this.syncIdleTimer();
    const m = /^(OK|NO|BAD)\s?(.*)$/is.exec(line.slice(space + 1));
    const status = (m?.[1]?.toUpperCase() ?? 'BAD') as Tagged['status'];
    const parsed = parseResponseText(m?.[2] ?? '');
    const tagged: Tagged = { status, ...parsed, line };
    this.takeCapabilities(parsed);
    // Synchronously, before the next response is read: tells pipelined commands' untagged data apart.
    waiter.onAnswered?.();
    if (this.continuation?.tag === tag) {
      // Answered instead of asking for the literal: the literal must not be sent.
      const c = this.continuation;
      this.continuation = undefined;
      c.resolve(false);
    }
    waiter.resolve(tagged);
  }

  private takeCapabilities(parsed: { code?: string; codeArgs: string[] }): void {
    if (parsed.code === 'CAPABILITY') this.capabilities = new Set(parsed.codeArgs.map((c) => c.toUpperCase()));
  }

  /**
   * Ends the session: every waiting command gets `error`. `isOurs`: we gave up on the connection
   * (a timeout, a limit, a deliberate close) rather than the server or the network ending it,
   * so bytes we wrote may still be on their way to the server (see append-channel.ts).
   */
  fail(error: Error, isOurs = false): void {
    if (this.closedWith) return;
    this.closedWith = error;
    this.wasGivenUp = isOurs;
    for (const w of this.waiting.values()) w.reject(error);
    this.waiting.clear();
    this.continuation?.reject(error);
    this.continuation = undefined;
    try {
      if (!this.tcp.destroyed) this.tcp.resetAndDestroy();
    } catch {
      // not connected (yet): nothing in flight to drop
    }
    this.socket.destroy();
    this.tcp.destroy();
  }

  /** The idle limit set after login: silence this long while a command waits ends the session. */
  private idleTimeoutMs = 0;
  private idleExtraMs = 0;

  /**
   * Starts the idle limit (after login; connect, greeting and login have their own). It runs
   * only while a command waits for its answer: a session we simply have nothing to ask (the
   * source while a slow destination catches up) is not a server that stopped answering.
   */
  armIdleTimeout(ms: number): void {
    this.idleTimeoutMs = ms;
    this.socket.on('timeout', () => this.fail(connectionError('ETIMEOUT', 'The server stopped answering.'), true));
    this.syncIdleTimer();
  }

  /**
   * Allows `extraMs` more silence than the idle limit until `restoreIdleTimeout`: a server that
   * is still receiving a large APPEND over a slow link says nothing until it has all of it.
   */
  extendIdleTimeout(extraMs: number): void {
    this.idleExtraMs = Math.max(0, Math.ceil(extraMs));
    this.syncIdleTimer();
  }

  restoreIdleTimeout(): void {
    this.idleExtraMs = 0;
    this.syncIdleTimer();
  }

  /** (Re)starts the idle timer while something waits for the server; stops it otherwise. */
  private syncIdleTimer(): void {
    if (this.idleTimeoutMs <= 0 || this.closedWith) return;
    const isWaiting = (this.waiting.size > 0 || this.continuation !== undefined) && !this.isReadingPaused;
    this.socket.setTimeout(isWaiting ? this.idleTimeoutMs + this.idleExtraMs : 0);
  }

  /**
   * Stops reading from the server until resumeReading: a long answer (message bodies) is then
   * held back by TCP instead of piling up in memory. The idle limit is off meanwhile.
   */
  pauseReading(): void {
    if (this.isReadingPaused || this.closedWith) return;
    this.isReadingPaused = true;
    this.socket.pause();
    this.syncIdleTimer();
  }

  resumeReading(): void {
    if (!this.isReadingPaused) return;
    this.isReadingPaused = false;
    this.syncIdleTimer();
    if (!this.closedWith) this.socket.resume();
  }

  nextTag(): string {
    this.tagCounter++;
    return `W${this.tagCounter}`;
  }

  /** Registers interest in a tag's answer before the command goes out. */
  expect(tag: string, onAnswered?: () => void): Promise<Tagged> {
    if (this.closedWith) return handled(Promise.reject(this.closedWith));
    const answer = handled(new Promise<Tagged>((resolve, reject) => this.waiting.set(tag, { resolve, reject, onAnswered })));
    this.syncIdleTimer();
    return answer;
  }

  /** Resolves true on `+`, false when the command was answered instead. */
  expectContinuation(tag: string): Promise<boolean> {
    if (this.closedWith) return handled(Promise.reject(this.closedWith));
    return handled(
      new Promise<boolean>((resolve, reject) => {
        this.continuation = { tag, resolve, reject };
      }),
    );
  }

  /** Writes and waits for the socket to take more when its buffer is full. Writes of one tick leave together. */
  async write(data: Buffer | string): Promise<void> {
    if (this.closedWith) throw this.closedWith;
    if (!this.isCorked) {
      const socket = this.socket;
      this.isCorked = true;
      socket.cork();
      process.nextTick(() => {
        this.isCorked = false;
        socket.uncork();
      });
    }
    if (this.socket.write(data)) return;
    await new Promise<void>((resolve, reject) => {
      const onDrain = (): void => {
        this.socket.off('close', onClose);
        resolve();
      };
      const onClose = (): void => {
        this.socket.off('drain', onDrain);
        reject(this.closedWith ?? connectionError('EConnectionClosed', 'The server closed the connection.'));
      };
      this.socket.once('drain', onDrain);
      this.socket.once('close', onClose);
    });
  }

  /** A simple command: send, wait for its tagged answer. */
  async command(text: string): Promise<Tagged> {
    const tag = this.nextTag();
    const answer = this.expect(tag);
    await this.write(`${tag} ${text}\r\n`);
    return answer;
  }

  /** A command whose untagged responses are collected until its tagged answer. */
  async collect(text: string): Promise<{ tagged: Tagged; untagged: WireResponse[] }> {
    return (await this.pipeline([text]))[0] as { tagged: Tagged; untagged: WireResponse[] };
  }

  /**
   * Commands sent at once (one round trip for all). Untagged responses are attributed to the
   * command whose tagged answer comes next, but a server may run pipelined commands in
   * parallel (Dovecot does), so that attribution is only a guess: callers either treat all
   * untagged data alike or tell it apart by its own correlator (ESEARCH's TAG). Not for use
   * while other commands are in flight on this session.
   */
  async pipeline(texts: string[], consume?: (response: WireResponse) => boolean): Promise<{ tag: string; tagged: Tagged; untagged: WireResponse[] }[]> {
    const results = texts.map(() => ({ tag: '', untagged: [] as WireResponse[] }));
    let current = 0;
    const previous = this.onUntagged;
    // `consume` may take a response as it arrives (true: not kept).
    this.onUntagged = (r) => {
      if (!consume?.(r)) results[Math.min(current, results.length - 1)]?.untagged.push(r);
    };
    try {
      const answers: Promise<Tagged>[] = [];
      let batch = '';
      for (const [i, text] of texts.entries()) {
        const tag = this.nextTag();
        (results[i] as { tag: string }).tag = tag;
        answers.push(this.expect(tag, () => current++));
        batch += `${tag} ${text}\r\n`;
      }
      await this.write(batch);
      const tagged = await Promise.all(answers);
      return results.map((r, i) => ({ tag: r.tag, tagged: tagged[i] as Tagged, untagged: r.untagged }));
    } finally {
      this.onUntagged = previous;
    }
  }

  /** LOGOUT politely, bounded; never throws. */
  async logout(): Promise<void> {
    if (this.closedWith) return;
    if (this.waiting.size > 0 || this.continuation) {
      // A command is under way, maybe half written (a literal): a LOGOUT now would land inside
      // it. Reset instead; whatever it carried is in doubt, as after a timeout.
      this.fail(connectionError('EConnectionClosed', 'Closed while a command was under way.'), true);
      return;
    }
    const socket = this.socket;
    const timer = setTimeout(() => socket.destroy(), LOGOUT_GRACE_MS);
    timer.unref();
    try {
      await Promise.race([this.command('LOGOUT'), new Promise((r) => setTimeout(r, LOGOUT_GRACE_MS).unref())]);
    } catch {
      // going away either way
    }
    clearTimeout(timer);
    this.fail(connectionError('EConnectionClosed', 'Closed.'), true);
  }
}

const waitFor = (socket: net.Socket, event: 'connect' | 'secureConnect', timeoutMs: number, code: string): Promise<void> =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      socket.destroy();
      reject(connectionError(code, 'The server did not answer in time.'));
    }, timeoutMs);
    const onOk = (): void => {
      cleanup();
      resolve();
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(e);
    };
    const onClose = (): void => {
      cleanup();
      reject(connectionError('EConnectionClosed', 'The server closed the connection.'));
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off(event, onOk);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    socket.once(event, onOk);
    socket.once('error', onError);
    socket.once('close', onClose);
  });

const withTimeout = <T>(promise: Promise<T>, ms: number, onTimeout: () => void): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => {
        onTimeout();
        reject(connectionError('GREETING_TIMEOUT', 'The server did not greet us in time.'));
      }, ms);
    }),
  ]).finally(() => clearTimeout(timer));
};

/** Logs in: AUTHENTICATE PLAIN when offered (one round trip with SASL-IR), else LOGIN. */
const logIn = async (session: WireSession, user: string, password: string): Promise<void> => {
  const caps = session.capabilities;
  let answer: Tagged;
  if (caps.has('AUTH=PLAIN')) {
    const token = Buffer.from(`\0${user}\0${password}`, 'utf8').toString('base64');
    if (caps.has('SASL-IR')) answer = await session.command(`AUTHENTICATE PLAIN ${token}`);
    else {
      const tag = session.nextTag();
      const done = session.expect(tag);
      const go = session.expectContinuation(tag);
      await session.write(`${tag} AUTHENTICATE PLAIN\r\n`);
      if (await go) await session.write(`${token}\r\n`);
      answer = await done;
    }
  } else {
    if (caps.has('LOGINDISABLED')) throw Object.assign(new Error('The server allows no login on this connection.'), { authenticationFailed: true });
    // Literals for both, so no character of a password needs escaping.
    const u = Buffer.from(user, 'utf8');
    const p = Buffer.from(password, 'utf8');
    const tag = session.nextTag();
    const done = session.expect(tag);
    if (caps.has('LITERAL+')) {
      await session.write(Buffer.concat([Buffer.from(`${tag} LOGIN {${u.length}+}\r\n`), u, Buffer.from(` {${p.length}+}\r\n`), p, Buffer.from('\r\n')]));
    } else {
      let go = session.expectContinuation(tag);
      await session.write(`${tag} LOGIN {${u.length}}\r\n`);
      if (await go) {
        go = session.expectContinuation(tag);
        await session.write(Buffer.concat([u, Buffer.from(` {${p.length}}\r\n`)]));
        if (await go) await session.write(Buffer.concat([p, Buffer.from('\r\n')]));
      }
    }
    answer = await done;
  }
  if (answer.status !== 'OK') throw responseError(answer, { authenticationFailed: true });
  if (!answer.code || answer.code !== 'CAPABILITY') {
    const caps2 = await session.command('CAPABILITY');
    if (caps2.status !== 'OK') throw responseError(caps2);
  }
};

/** Connects, upgrades to TLS as the account says, logs in. Every failure is a MigrationError. */
export const openWireSession = async (account: AccountCredentials, timeouts: ConnectTimeouts = {}): Promise<Result<WireSession>> => {
  const server = `${account.host}:${account.port}`;
  if (account.security === 'plain' && !account.allowPlaintext) {
    return err(migrationError('bad-input', `Unencrypted IMAP to ${server} was refused: the password would cross the network in clear.`));
  }
  const tlsOptions = await tlsOptionsFor(account);
  if (!tlsOptions.ok) return tlsOptions;
  const socketTimeoutMs = timeouts.socketTimeoutMs ?? SOCKET_TIMEOUT_MS;
  let session: WireSession | undefined;
  let tcpSocket: net.Socket | undefined;
  try {
    const connectTimeout = timeouts.connectionTimeoutMs ?? CONNECTION_TIMEOUT_MS;
    // TLS goes over a TCP socket of our own, so that socket can be reset (see fail()).
    const tcp = net.connect({ host: account.host, port: account.port });
    tcpSocket = tcp;
    await waitFor(tcp, 'connect', connectTimeout, 'CONNECT_TIMEOUT');
    tcp.setNoDelay(true);
    let socket: net.Socket | tls.TLSSocket = tcp;
    if (account.security === 'tls') {
      socket = tls.connect({ socket: tcp, host: account.host, ...tlsOptions.value });
      await waitFor(socket, 'secureConnect', connectTimeout, 'CONNECT_TIMEOUT');
    }
    session = new WireSession(socket, tcp);
    const s = session;
    const greeting = await withTimeout(
      new Promise<string>((resolve, reject) => {
        s.greeting = { resolve };
        socket.once('close', () => reject(s.closedError ?? connectionError('EConnectionClosed', 'The server closed the connection.')));
      }),
      timeouts.greetingTimeoutMs ?? GREETING_TIMEOUT_MS,
      () => s.fail(connectionError('GREETING_TIMEOUT', 'The server did not greet us in time.'), true),
    );
    if (/^\* BYE/i.test(greeting)) {
      const bye = parseResponseText(greeting.slice(6));
      throw Object.assign(connectionError('EConnectionClosed', 'The server refused the connection.'), bye.code ? { serverResponseCode: bye.code, responseText: greeting } : {});
    }
    const isPreauth = /^\* PREAUTH/i.test(greeting);
    if (session.capabilities.size === 0) {
      const answer = await session.command('CAPABILITY');
      if (answer.status !== 'OK') throw responseError(answer);
    }
    if (account.security === 'starttls') {
      if (!session.capabilities.has('STARTTLS')) {
        throw Object.assign(new Error('The server does not offer STARTTLS.'), { code: 'ERR_SSL_WRONG_VERSION_NUMBER' });
      }
      const answer = await session.command('STARTTLS');
      if (answer.status !== 'OK') throw responseError(answer);
      // Anything after the OK and before the handshake could be injected: drop it with the reader.
      session.release();
      const secure = tls.connect({ socket, host: account.host, ...tlsOptions.value });
      await waitFor(secure, 'secureConnect', connectTimeout, 'UPGRADE_TIMEOUT');
      session.attach(secure);
      socket = secure;
      session.capabilities = new Set();
      const caps = await session.command('CAPABILITY');
      if (caps.status !== 'OK') throw responseError(caps);
    }
    if (!isPreauth) await logIn(session, account.user, account.password);
    session.armIdleTimeout(socketTimeoutMs);
    return ok(session);
  } catch (thrown) {
    session?.fail(thrown as Error, true);
    tcpSocket?.destroy();
    const error = classifyImapError(thrown, { server, operation: 'log in' });
    if (error.kind === 'tls' && account.security !== 'plain') {
      // As connect-imap.ts does: show which certificate was presented, so a person can pin it.
      const probed = await probeCertificate(account.host, account.port, account.security);
      if (probed.ok) return err({ ...error, certificateFingerprint: probed.value.fingerprint256 });
    }
    return err(error);
  }
};
