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
 * - Bounded against any server (server-limits.ts): the response reader refuses lines,
 *   literals and responses beyond their limits, and every command may get only so many
 *   untagged responses (UntaggedBudget) and keep only so many bytes of them; crossing a limit
 *   ends the session with a WireProtocolError. Every phase has a deadline: connect, TLS and
 *   greeting their own, STARTTLS and login (and the CAPABILITY around them) the idle limit
 *   while a command waits and `within()` for the whole exchange, so a server that trickles a
 *   byte now and then cannot hold a login open either.
 * - With `security: 'plain'` (allowed plaintext), STARTTLS is still used when the server
 *   offers it: plaintext is permitted, never preferred.
 * - Writes made in one tick leave in one system call (the socket is corked until the next tick).
 * - While the reader of a long answer pauses reading (its consumer is slower than the server),
 *   the idle limit does not run: the silence is ours, not the server's.
 * - Errors are shaped like imapflow's (code, serverResponseCode, response, responseText,
 *   authenticationFailed), so classify-error.ts stays the one place they get a meaning.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { AccessTokenSource, AccountCredentials } from '../contract/account.js';
import { err, migrationError, ok, type Result } from '../contract/result.js';
import { classifyImapError } from './classify-error.js';
import { onAbortOf } from './abort-fan-out.js';
import { probeCertificate } from './certificate-probe.js';
import { chooseOAuthMechanism, oauthFailureAck, oauthInitialResponse, parseOAuthChallenge, type OAuthMechanism } from './sasl-oauth.js';
import { CONNECTION_TIMEOUT_MS, GREETING_TIMEOUT_MS, probeTimeoutOf, SOCKET_TIMEOUT_MS, tlsOptionsFor, type ConnectTimeouts } from './connect-imap.js';
import { ResponseReader, type WireResponse } from './response-reader.js';
import { formatBytes, MAX_UNTAGGED_BYTES, serverOverrun, UntaggedBudget } from './server-limits.js';

export { ResponseReader, type WireResponse };
/** The longest server-suggested wait honoured as it is (a provider's limit may last hours). */
const MAX_THROTTLE_DELAY_MS = 24 * 60 * 60 * 1000;
/** How long LOGOUT may take before the socket is simply closed. */
const LOGOUT_GRACE_MS = 1000;
/** Arguments of a response code, and capabilities, read at most (servers have a few dozen). */
const MAX_CODE_ARGS = 1000;

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
  return { code: (m[1] as string).toUpperCase(), codeArgs: m[2] ? m[2].trim().split(/\s+/, MAX_CODE_ARGS) : [], text: m[3] ?? '' };
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
  private readonly budget = new UntaggedBudget();
  private stopListening: () => void = () => undefined;
  capabilities = new Set<string>();
  /** The text of the last `+` continuation (a SASL challenge, an OAuth2 error in base64). */
  lastContinuationText = '';
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
    const onTimeout = (): void => this.fail(connectionError('ETIMEOUT', 'The server stopped answering.'), true);
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.on('timeout', onTimeout);
    this.detach = () => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      socket.off('timeout', onTimeout);
      socket.setTimeout(0);
    };
    this.syncIdleTimer();
  }

  /** Ends the session when `signal` aborts (Ctrl-C while connecting, planning or copying). */
  endOn(signal: AbortSignal | undefined): void {
    if (!signal) return;
    const onAbort = (): void => this.fail(connectionError('ECANCELLED', 'Stopped.'), true);
    if (signal.aborted) return onAbort();
    this.stopListening = onAbortOf(signal, onAbort);
  }

  /** Stops listening to the current socket without failing anything (STARTTLS hand-over). */
  release(): void {
    this.detach();
    this.detach = () => undefined;
  }

  private onResponse(response: WireResponse): void {
    const line = response.text;
    if (!this.waiting.has(line.slice(0, Math.max(0, line.indexOf(' '))))) {
      // Untagged data, `+`, and tagged lines for no command of ours draw on the command's allowance.
      this.budget.count(line, line.length + response.literals.reduce((sum, l) => sum + l.length, 0));
    }
    if (line.startsWith('+')) {
      this.lastContinuationText = line.slice(1).trim();
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
      if (upper.startsWith('CAPABILITY ')) this.capabilities = new Set(rest.slice(11).trim().split(/\s+/, MAX_CODE_ARGS).map((c) => c.toUpperCase()));
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
    this.budget.reset();
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
    this.stopListening();
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
   * Starts the idle limit (from the first command on: CAPABILITY, STARTTLS and login wait under
   * it too). It runs only while a command waits for its answer: a session we simply have
   * nothing to ask (the source while a slow destination catches up) is not a server that
   * stopped answering.
   */
  armIdleTimeout(ms: number): void {
    this.idleTimeoutMs = ms;
    this.syncIdleTimer();
  }

  /**
   * Ends the session (ETIMEOUT, given up by us) unless `work` settles within `ms`. The idle limit
   * restarts with every byte; this one does not, so a server that trickles a byte now and then
   * cannot hold a phase (STARTTLS, login) open for ever.
   */
  async within<T>(ms: number, work: Promise<T>): Promise<T> {
    const timer = setTimeout(() => this.fail(connectionError('ETIMEOUT', 'The server did not finish in time.'), true), ms);
    try {
      return await work;
    } finally {
      clearTimeout(timer);
    }
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

  /** True while the command `tag` waits for its tagged answer. */
  isAwaiting(tag: string): boolean {
    return this.waiting.has(tag);
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
    // A command that was answered gets no `+` any more: waiting for one would hang.
    if (!this.waiting.has(tag)) return Promise.resolve(false);
    return handled(
      new Promise<boolean>((resolve, reject) => {
        this.continuation = { tag, resolve, reject };
      }),
    );
  }

  /**
   * Writes and waits for the socket to take more when its buffer is full. Writes of one tick
   * leave together. A list of Buffers (a message's pieces) is written as it is, in order.
   */
  async write(data: Buffer | string | readonly Buffer[]): Promise<void> {
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
    let isTaken = true;
    if (typeof data === 'string' || Buffer.isBuffer(data)) isTaken = this.socket.write(data);
    else for (const piece of data) isTaken = this.socket.write(piece);
    if (isTaken) return;
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
    let keptBytes = 0;
    const previous = this.onUntagged;
    // `consume` may take a response as it arrives (true: not kept).
    this.onUntagged = (r) => {
      if (consume?.(r)) return;
      keptBytes += r.text.length + r.literals.reduce((sum, l) => sum + l.length, 0);
      if (keptBytes > MAX_UNTAGGED_BYTES) throw serverOverrun(`${formatBytes(MAX_UNTAGGED_BYTES)} of responses to ${texts.length === 1 ? 'one command' : 'these commands'}`);
      results[Math.min(current, results.length - 1)]?.untagged.push(r);
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
const logInWithPassword = async (session: WireSession, user: string, password: string): Promise<void> => {
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
  await refreshCapabilities(session, answer);
};
/** Asks the server for its capabilities again unless the login's OK carried them. */
const refreshCapabilities = async (session: WireSession, answer: Tagged): Promise<void> => {
  if (answer.code === 'CAPABILITY') return;
  const caps = await session.command('CAPABILITY');
  if (caps.status !== 'OK') throw responseError(caps);
};

/** One AUTHENTICATE with a token: the tagged answer, and the server's JSON error if it sent one. */
const authenticateOnce = async (session: WireSession, mechanism: OAuthMechanism, initial: string): Promise<{ answer: Tagged; oauthError?: Record<string, unknown> }> => {
  const isInitialInline = session.capabilities.has('SASL-IR');
  const tag = session.nextTag();
  const done = session.expect(tag);
  let go = session.expectContinuation(tag);
  await session.write(isInitialInline ? `${tag} AUTHENTICATE ${mechanism} ${initial}\r\n` : `${tag} AUTHENTICATE ${mechanism}\r\n`);
  let isInitialSent = isInitialInline;
  let oauthError: Record<string, unknown> | undefined;
  // At most two challenges: the empty one asking for the initial response, then an error.
  for (let round = 0; round < 2 && (await go); round++) {
    const challenge = session.lastContinuationText;
    go = session.expectContinuation(tag);
    if (!isInitialSent) {
      isInitialSent = true;
      await session.write(`${initial}\r\n`);
      continue;
    }
    // A challenge after our response carries the server's error (RFC 7628 §3.2.2): acknowledge it to get the NO.
    oauthError = parseOAuthChallenge(challenge);
    await session.write(`${oauthFailureAck(mechanism)}\r\n`);
  }
  return { answer: await done, oauthError };
};

/**
 * Logs in with an OAuth2 access token: OAUTHBEARER or XOAUTH2 as offered, the initial response
 * inline when the server has SASL-IR. A refused token is reported to the token source; when it can
 * refresh, the login is tried once more with a fresh token on the same connection.
 */
const logInWithToken = async (session: WireSession, account: AccountCredentials, tokens: AccessTokenSource, deadlineMs: number): Promise<void> => {
  const mechanism = chooseOAuthMechanism(session.capabilities);
  if (!mechanism) throw Object.assign(new Error('The server offers no OAuth2 sign-in.'), { code: 'NoOAuthMechanism' });
  for (let attempt = 1; ; attempt++) {
    const token = await tokens.accessToken();
    if (!token.ok) throw token.error;
    const initial = oauthInitialResponse(mechanism, account.user, token.value, account.host, account.port).toString('base64');
    // The deadline covers the exchange with the server, not the token's own refresh before it.
    const { answer, oauthError } = await session.within(deadlineMs, authenticateOnce(session, mechanism, initial));
    if (answer.status === 'OK') {
      await session.within(deadlineMs, refreshCapabilities(session, answer));
      return;
    }
    if (attempt >= 2 || !tokens.refused(token.value)) throw responseError(answer, { authenticationFailed: true, oauthError, saslMechanism: mechanism });
  }
};

/** Logs in with the account's password or OAuth2 token source, each exchange within `deadlineMs`. */
const logIn = async (session: WireSession, account: AccountCredentials, deadlineMs: number): Promise<void> => {
  if (account.oauth) await logInWithToken(session, account, account.oauth, deadlineMs);
  else await session.within(deadlineMs, logInWithPassword(session, account.user, account.password));
};


/**
 * Connects, upgrades to TLS as the account says (and a plain account whenever the server offers
 * STARTTLS), logs in. Every phase has a deadline (see the header); `timeouts.signal` ends the
 * attempt, and later the session, at once. Every failure is a MigrationError.
 */
export const openWireSession = async (account: AccountCredentials, timeouts: ConnectTimeouts = {}): Promise<Result<WireSession>> => {
  const server = `${account.host}:${account.port}`;
  if (account.security === 'plain' && !account.allowPlaintext) {
    return err(migrationError('bad-input', `Unencrypted IMAP to ${server} was refused: the password would cross the network in clear.`));
  }
  const { signal } = timeouts;
  if (signal?.aborted) return err(migrationError('cancelled', 'Stopped.'));
  const tlsOptions = await tlsOptionsFor(account, probeTimeoutOf(timeouts));
  if (!tlsOptions.ok) return tlsOptions;
  const socketTimeoutMs = timeouts.socketTimeoutMs ?? SOCKET_TIMEOUT_MS;
  let session: WireSession | undefined;
  let tcpSocket: net.Socket | undefined;
  let isUpgrading = false;
  // Before the session exists, an abort ends the TCP connection (and so the wait for it).
  const onAbortBeforeSession = (): void => void tcpSocket?.destroy(connectionError('ECANCELLED', 'Stopped.'));
  const stopWaitingBeforeSession = signal ? onAbortOf(signal, onAbortBeforeSession) : () => undefined;
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
    stopWaitingBeforeSession();
    session.endOn(signal);
    // From the first command on, a silent server is a stalled one (the greeting has its own limit).
    session.armIdleTimeout(socketTimeoutMs);
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
      const answer = await session.within(socketTimeoutMs, session.command('CAPABILITY'));
      if (answer.status !== 'OK') throw responseError(answer);
    }
    if (account.security === 'starttls' && !session.capabilities.has('STARTTLS')) {
      throw Object.assign(new Error('The server does not offer STARTTLS.'), { code: 'ERR_SSL_WRONG_VERSION_NUMBER' });
    }
    // Plain IMAP is allowed, never preferred: a server that offers STARTTLS gets it. (A STARTTLS
    // account asks even after PREAUTH, which no server may send there: it fails, never skips.)
    const isStarttls = account.security === 'starttls' || (account.security === 'plain' && !isPreauth && session.capabilities.has('STARTTLS'));
    const answer = isStarttls ? await session.within(socketTimeoutMs, session.command('STARTTLS')) : undefined;
    // A plain account whose server refuses the STARTTLS it offered goes on in plain, as imapflow does.
    if (answer && answer.status !== 'OK' && account.security === 'starttls') throw responseError(answer);
    if (answer?.status === 'OK') {
      isUpgrading = true;
      // Anything after the OK and before the handshake could be injected: drop it with the reader.
      session.release();
      const secure = tls.connect({ socket, host: account.host, ...tlsOptions.value });
      await waitFor(secure, 'secureConnect', connectTimeout, 'UPGRADE_TIMEOUT');
      session.attach(secure);
      socket = secure;
      session.capabilities = new Set();
      const caps = await session.within(socketTimeoutMs, session.command('CAPABILITY'));
      if (caps.status !== 'OK') throw responseError(caps);
    }
    if (!isPreauth) await logIn(session, account, socketTimeoutMs);
    return ok(session);
  } catch (thrown) {
    stopWaitingBeforeSession();
    session?.fail(thrown as Error, true);
    tcpSocket?.destroy();
    if (signal?.aborted) return err(migrationError('cancelled', 'Stopped.'));
    const error = classifyImapError(thrown, { server, operation: 'log in', oauth: account.oauth });
    if (error.kind === 'tls' && (account.security !== 'plain' || isUpgrading)) {
      // As connect-imap.ts does: show which certificate was presented, so a person can pin it.
      const probed = await probeCertificate(account.host, account.port, account.security === 'plain' ? 'starttls' : account.security, probeTimeoutOf(timeouts));
      if (probed.ok) return err({ ...error, certificateFingerprint: probed.value.fingerprint256 });
    }
    return err(error);
  }
};
