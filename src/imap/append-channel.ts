/**
 * A second, append-only IMAP connection to the destination that pipelines APPEND commands.
 *
 * Why it exists: imapflow sends one command at a time and, for a literal over 4 KB, waits for
 * the server's `+` before sending it, so every message costs two round trips. Over a 50 ms
 * round trip that caps a copy at ~10 messages a second whatever the bandwidth. This channel
 * speaks just enough IMAP to log in and APPEND: with LITERAL+ (RFC 7888) each message is one
 * command sent without waiting, many commands are in flight at once, and each one still gets
 * its own tagged answer, so a refused message fails alone.
 *
 * Invariants:
 * - It sends only CAPABILITY, STARTTLS, AUTHENTICATE/LOGIN, APPEND and LOGOUT. Nothing that
 *   reads, changes or removes existing mail exists here.
 * - TLS is verified exactly as connect-imap.ts does (same options, same pinning); after
 *   STARTTLS anything the server sent before the handshake is discarded.
 * - A message counts as appended only on its tagged OK. When the connection fails, every
 *   message without an answer is reported unanswered: it may or may not have landed, and the
 *   copier re-identifies it by fingerprint on its next pass.
 * - Without LITERAL+ it falls back to synchronizing literals (waiting for `+`), still one
 *   round trip per message instead of two, because the next command is sent before the
 *   previous one's answer.
 * - Flags that are not valid IMAP atoms are never put on the wire (a BAD there could leave a
 *   server reading message bytes as commands); such a message is refused locally.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { AccountCredentials } from '../contract/account.js';
import { err, migrationError, ok, type MigrationError, type Result } from '../contract/result.js';
import { classifyImapError } from './classify-error.js';
import { CONNECTION_TIMEOUT_MS, GREETING_TIMEOUT_MS, SOCKET_TIMEOUT_MS, tlsOptionsFor, type ConnectTimeouts } from './connect-imap.js';
import { encodeMailboxName } from './imap-utf7.js';

/** A server response line longer than this (without literals) is not IMAP we can use. */
const MAX_LINE_BYTES = 1024 * 1024;
/** How long LOGOUT may take before the socket is simply closed. */
const LOGOUT_GRACE_MS = 1000;
/** Answers after which the rest of a batch is not sent: the next message would meet the same. */
const STOPS_SENDING = new Set(['quota', 'throttled', 'not-found']);
/** RFC 7888: LITERAL- allows non-synchronizing literals up to this size. */
const LITERAL_MINUS_MAX_BYTES = 4096;

/** One message to append. */
export interface ChannelMessage {
  body: Buffer;
  flags: string[];
  internalDate?: Date;
}

/** The answer for one message: appended (with its UID when the server has UIDPLUS) or why not. */
export type ChannelAnswer =
  | { ok: true; uid?: number; uidValidity?: string }
  | { ok: false; error: MigrationError; isAnswered: boolean };

export interface AppendChannel {
  readonly capabilities: ReadonlySet<string>;
  /** Appends messages in order, pipelined; one answer per message, in the same order. */
  append(mailbox: string, messages: ChannelMessage[]): Promise<ChannelAnswer[]>;
  isClosed(): boolean;
  close(): Promise<void>;
}

interface Tagged {
  status: 'OK' | 'NO' | 'BAD';
  code?: string;
  codeArgs: string[];
  text: string;
  line: string;
}

/** Splits `[CODE arg arg] text` into its parts. */
const parseResponseText = (rest: string): { code?: string; codeArgs: string[]; text: string } => {
  const m = /^\[([^\]\s]+)(?:\s([^\]]*))?\]\s?(.*)$/s.exec(rest);
  if (!m) return { codeArgs: [], text: rest };
  return { code: (m[1] as string).toUpperCase(), codeArgs: m[2] ? m[2].trim().split(/\s+/) : [], text: m[3] ?? '' };
};

/** imapflow's cap on a server-suggested wait. */
const MAX_THROTTLE_DELAY_MS = 5 * 60 * 1000;

/**
 * An error shaped like imapflow's, so classify-error.ts decides what it means. Like imapflow,
 * Microsoft 365's "BAD Request is throttled. Suggested Backoff Time: N milliseconds" becomes
 * code ETHROTTLE with the suggested wait (the one place a server's words are read: imapflow
 * does the same, and there is no response code for it).
 */
const responseError = (tagged: Tagged, extra: Record<string, unknown> = {}): Error => {
  const backoff = /Request is throttled/i.test(tagged.text) ? /Backoff Time[:=\s]+(\d+)/i.exec(tagged.text) : null;
  return Object.assign(new Error(tagged.text || `${tagged.status} response`), {
    response: tagged.line,
    responseText: tagged.text,
    serverResponseCode: tagged.code,
    ...(backoff ? { code: 'ETHROTTLE', throttleReset: Math.min(Number(backoff[1]), MAX_THROTTLE_DELAY_MS) } : {}),
    ...extra,
  });
};

const connectionError = (code: string, message: string, bye?: { code?: string; text: string }): Error =>
  Object.assign(new Error(message), bye?.code ? { code, serverResponseCode: bye.code, responseText: bye.text } : { code });

/** A flag we can send as an atom: a system flag or a keyword without IMAP specials. */
const isSendableFlag = (flag: string): boolean => /^\\?[^\x00-\x20\x7f-\uffff(){%*"\\\]]+$/.test(flag);

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** IMAP date-time in UTC: ` 7-Feb-2004 09:05:01 +0000` (day space-padded, as RFC 3501 writes it). */
export const formatInternalDate = (date: Date): string | undefined => {
  if (Number.isNaN(date.getTime())) return undefined;
  const day = String(date.getUTCDate()).padStart(2, ' ');
  return `${day}-${MONTHS[date.getUTCMonth()]}-${date.getUTCFullYear()} ${date.toISOString().slice(11, 19)} +0000`;
};

/** A quoted string; names with CR, LF or NUL cannot be quoted (and are not valid mailbox names). */
const quoted = (value: string): string | undefined => (/[\r\n\0]/.test(value) ? undefined : `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`);

/**
 * Reads server responses: lines ending in CRLF, with `{n}` literals inside untagged responses
 * skipped (nothing this channel reads carries data it needs in a literal).
 */
class ResponseReader {
  private pending: Buffer = Buffer.alloc(0);
  private literalLeft = 0;
  private line = '';

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer): void {
    let data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    let pos = 0;
    while (pos < data.length) {
      if (this.literalLeft > 0) {
        const take = Math.min(this.literalLeft, data.length - pos);
        this.literalLeft -= take;
        pos += take;
        continue;
      }
      const eol = data.indexOf('\r\n', pos, 'latin1');
      if (eol < 0) break;
      const text = data.toString('latin1', pos, eol);
      pos = eol + 2;
      const literal = /\{(\d+)\+?\}$/.exec(text);
      this.line += text;
      if (this.line.length > MAX_LINE_BYTES) throw connectionError('LineTooLarge', 'The server sent a response line that is too long.');
      if (literal) {
        this.literalLeft = Number(literal[1]);
        continue;
      }
      const line = this.line;
      this.line = '';
      this.onLine(line);
    }
    if (pos < data.length) {
      data = data.subarray(pos);
      if (data.length + this.line.length > MAX_LINE_BYTES) throw connectionError('LineTooLarge', 'The server sent a response line that is too long.');
      this.pending = Buffer.from(data);
    }
  }
}

/** The live protocol state of one connection. */
class Session {
  private reader: ResponseReader;
  private readonly waiting = new Map<string, { resolve: (t: Tagged) => void; reject: (e: Error) => void }>();
  /** Who gets the next `+`: at most one command waits for a continuation at a time. */
  private continuation?: { tag: string; resolve: (isGo: boolean) => void; reject: (e: Error) => void };
  private tagCounter = 0;
  private closedWith?: Error;
  private bye?: { code?: string; text: string };
  capabilities = new Set<string>();
  private detach: () => void = () => undefined;

  constructor(public socket: net.Socket | tls.TLSSocket) {
    this.reader = new ResponseReader((line) => this.onLine(line));
    this.attach(socket);
  }

  get closedError(): Error | undefined {
    return this.closedWith;
  }

  /** Listens on a (new) socket; after STARTTLS the plain socket's leftovers are dropped. */
  attach(socket: net.Socket | tls.TLSSocket): void {
    this.detach();
    this.socket = socket;
    this.reader = new ResponseReader((line) => this.onLine(line));
    const onData = (chunk: Buffer): void => {
      try {
        this.reader.push(chunk);
      } catch (e) {
        this.fail(e as Error);
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

  greeting?: { resolve: (line: string) => void };

  private onLine(line: string): void {
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
      else if (upper.startsWith('OK ')) this.takeCapabilities(parseResponseText(rest.slice(3)));
      return;
    }
    const space = line.indexOf(' ');
    const tag = space > 0 ? line.slice(0, space) : line;
    const waiter = this.waiting.get(tag);
    if (!waiter) return;
    this.waiting.delete(tag);
    const m = /^(OK|NO|BAD)\s?(.*)$/is.exec(line.slice(space + 1));
    const status = (m?.[1]?.toUpperCase() ?? 'BAD') as Tagged['status'];
    const parsed = parseResponseText(m?.[2] ?? '');
    const tagged: Tagged = { status, ...parsed, line };
    this.takeCapabilities(parsed);
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

  fail(error: Error): void {
    if (this.closedWith) return;
    this.closedWith = error;
    for (const w of this.waiting.values()) w.reject(error);
    this.waiting.clear();
    this.continuation?.reject(error);
    this.continuation = undefined;
    this.socket.destroy();
  }

  nextTag(): string {
    this.tagCounter++;
    return `M${this.tagCounter}`;
  }

  /** Registers interest in a tag's answer before the command goes out. */
  expect(tag: string): Promise<Tagged> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise<Tagged>((resolve, reject) => this.waiting.set(tag, { resolve, reject }));
  }

  /** Resolves true on `+`, false when the command was answered instead. */
  expectContinuation(tag: string): Promise<boolean> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise<boolean>((resolve, reject) => {
      this.continuation = { tag, resolve, reject };
    });
  }

  /** Writes and waits for the socket to take more when its buffer is full. */
  async write(data: Buffer | string): Promise<void> {
    if (this.closedWith) throw this.closedWith;
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
const logIn = async (session: Session, user: string, password: string): Promise<void> => {
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
export const openAppendChannel = async (account: AccountCredentials, timeouts: ConnectTimeouts = {}): Promise<Result<AppendChannel>> => {
  const server = `${account.host}:${account.port}`;
  if (account.security === 'plain' && !account.allowPlaintext) {
    return err(migrationError('bad-input', `Unencrypted IMAP to ${server} was refused: the password would cross the network in clear.`));
  }
  const tlsOptions = await tlsOptionsFor(account);
  if (!tlsOptions.ok) return tlsOptions;
  const socketTimeoutMs = timeouts.socketTimeoutMs ?? SOCKET_TIMEOUT_MS;
  let session: Session | undefined;
  try {
    const connectTimeout = timeouts.connectionTimeoutMs ?? CONNECTION_TIMEOUT_MS;
    let socket: net.Socket | tls.TLSSocket;
    if (account.security === 'tls') {
      socket = tls.connect({ host: account.host, port: account.port, ...tlsOptions.value });
      await waitFor(socket, 'secureConnect', connectTimeout, 'CONNECT_TIMEOUT');
    } else {
      socket = net.connect({ host: account.host, port: account.port });
      await waitFor(socket, 'connect', connectTimeout, 'CONNECT_TIMEOUT');
    }
    socket.setNoDelay(true);
    session = new Session(socket);
    const s = session;
    const greeting = await withTimeout(
      new Promise<string>((resolve, reject) => {
        s.greeting = { resolve };
        socket.once('close', () => reject(s.closedError ?? connectionError('EConnectionClosed', 'The server closed the connection.')));
      }),
      timeouts.greetingTimeoutMs ?? GREETING_TIMEOUT_MS,
      () => s.fail(connectionError('GREETING_TIMEOUT', 'The server did not greet us in time.')),
    );
    if (/^\* BYE/i.test(greeting)) throw Object.assign(connectionError('EConnectionClosed', 'The server refused the connection.'), parseResponseText(greeting.slice(6)).code ? { serverResponseCode: parseResponseText(greeting.slice(6)).code, responseText: greeting } : {});
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
    socket.setTimeout(socketTimeoutMs, () => s.fail(connectionError('ETIMEOUT', 'The server stopped answering.')));
    return ok(channelOf(session, server));
  } catch (thrown) {
    session?.fail(thrown as Error);
    return err(classifyImapError(thrown, { server, operation: 'log in' }));
  }
};

const channelOf = (session: Session, server: string): AppendChannel => {
  const classify = (e: unknown): MigrationError => classifyImapError(e, { server, operation: 'append' });
  return {
    get capabilities() {
      return session.capabilities;
    },
    isClosed: () => session.closedError !== undefined,
    async append(mailbox: string, messages: ChannelMessage[]): Promise<ChannelAnswer[]> {
      const answers: (ChannelAnswer | undefined)[] = new Array(messages.length).fill(undefined);
      const name = quoted(encodeMailboxName(mailbox));
      if (!name) return messages.map(() => ({ ok: false, error: migrationError('bad-input', `The folder name ${JSON.stringify(mailbox)} cannot be sent to an IMAP server.`), isAnswered: true }));
      const caps = session.capabilities;
      const hasLiteralPlus = caps.has('LITERAL+');
      const hasLiteralMinus = caps.has('LITERAL-');
      const hasBinary = caps.has('BINARY');
      const appendLimit = [...caps].map((c) => /^APPENDLIMIT=(\d+)$/.exec(c)?.[1]).find((v) => v !== undefined);
      const waits: Promise<void>[] = [];
      // Once the server says the folder is full, busy or gone, the rest of the batch is not sent.
      let refusedAll: MigrationError | undefined;
      try {
        for (let i = 0; i < messages.length; i++) {
          if (refusedAll) break;
          const message = messages[i] as ChannelMessage;
          const badFlag = message.flags.find((f) => !isSendableFlag(f));
          if (badFlag !== undefined) {
            answers[i] = { ok: false, error: migrationError('rejected', `The message has a flag that cannot be sent over IMAP: ${JSON.stringify(badFlag)}.`), isAnswered: true };
            continue;
          }
          if (appendLimit !== undefined && message.body.length > Number(appendLimit)) {
            answers[i] = { ok: false, error: classify(Object.assign(new Error('Message too big for APPENDLIMIT'), { serverResponseCode: 'APPENDLIMIT' })), isAnswered: true };
            continue;
          }
          const date = message.internalDate ? formatInternalDate(message.internalDate) : undefined;
          const isSync = !hasLiteralPlus && !(hasLiteralMinus && message.body.length <= LITERAL_MINUS_MAX_BYTES);
          // literal8 (RFC 3516) for bodies with NUL bytes, which a plain literal may not carry.
          const tilde = hasBinary && message.body.includes(0) ? '~' : '';
          const tag = session.nextTag();
          const head = `${tag} APPEND ${name} (${message.flags.join(' ')})${date ? ` "${date}"` : ''} ${tilde}{${message.body.length}${isSync ? '' : '+'}}\r\n`;
          const done = session.expect(tag);
          waits.push(
            done.then(
              (tagged) => {
                if (tagged.status === 'OK') {
                  const uid = tagged.code === 'APPENDUID' && /^\d+$/.test(tagged.codeArgs[1] ?? '') ? Number(tagged.codeArgs[1]) : undefined;
                  answers[i] = { ok: true, uid, uidValidity: uid !== undefined ? tagged.codeArgs[0] : undefined };
                } else {
                  const error = classify(responseError(tagged));
                  if (STOPS_SENDING.has(error.kind)) refusedAll ??= error;
                  answers[i] = { ok: false, error, isAnswered: true };
                }
              },
              () => undefined, // unanswered: filled in below
            ),
          );
          if (isSync) {
            const go = session.expectContinuation(tag);
            await session.write(head);
            if (!(await go)) continue;
            await session.write(message.body);
          } else {
            await session.write(head);
            await session.write(message.body);
          }
          await session.write('\r\n');
        }
      } catch {
        // The connection failed while sending; the answers that did arrive still count.
      }
      await Promise.all(waits);
      const lost = session.closedError;
      return answers.map(
        (a) => a ?? { ok: false, error: refusedAll ?? classify(lost ?? connectionError('EConnectionClosed', 'The connection was lost.')), isAnswered: false },
      );
    },
    async close(): Promise<void> {
      if (session.closedError) return;
      const socket = session.socket;
      const timer = setTimeout(() => socket.destroy(), LOGOUT_GRACE_MS);
      timer.unref();
      try {
        await Promise.race([session.command('LOGOUT'), new Promise((r) => setTimeout(r, LOGOUT_GRACE_MS).unref())]);
      } catch {
        // going away either way
      }
      clearTimeout(timer);
      session.fail(connectionError('EConnectionClosed', 'Closed.'));
    },
  };
};

export type { ConnectTimeouts };
