/**
 * A scriptable IMAP server on 127.0.0.1 for the hostile-server tests: by default it behaves like
 * a small honest server (one account, INBOX and a few folders, LITERAL+, optional STARTTLS),
 * enough for `mailferry plan` and `copy` through both imapflow and the wire session; a script
 * can take over any moment of any connection to stall, flood, send giant lines or literals or
 * garbage.
 *
 * ```ts
 * const server = await startHostileImap({
 *   script: (event, conn) => {
 *     if (event.kind === 'command' && event.name === 'EXAMINE') return conn.flood(() => '* OK still here');
 *     return 'default';
 *   },
 * });
 * ```
 * The script sees `greeting` (before the greeting is sent), every `command` (name upper-cased,
 * `UID FETCH` as one name), and `handshake` (after STARTTLS was answered OK, before the TLS
 * handshake). It returns 'default' to let the honest server answer, or handles the event itself
 * (returning anything else, or a promise of it). Helpers on the connection stream with
 * backpressure, so a flood costs the server no memory, and stop when the client goes.
 *
 * `startUnacceptingListener()` is a port whose accept queue is full: a TCP connect to it never
 * completes (the connect phase's own stall).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';

/** What the script is asked about. */
export type HostileEvent =
  | { kind: 'greeting' }
  | { kind: 'command'; tag: string; name: string; args: string; isTls: boolean }
  | { kind: 'handshake' };

export type HostileScript = (event: HostileEvent, conn: HostileConnection) => unknown;

export interface HostileImapOptions {
  /** Raw messages of INBOX (UIDs 1..n). Default: two small messages. */
  messages?: Buffer[];
  /** Further folders (empty). Default: Sent, Archive. */
  folders?: string[];
  /** Offer STARTTLS with this certificate. */
  tls?: { key: string; cert: string };
  /** Extra capabilities after login. */
  extraCapabilities?: string[];
  /**
   * Refuse a message over this size on the size its literal announces (`NO [LIMIT]`, without
   * saying APPENDLIMIT first), as a careless server does: a synchronizing literal is refused
   * instead of `+`, but a non-synchronizing one is not skipped, so its bytes are read as commands.
   */
  appendLimitBytes?: number;
  /** Capabilities not to offer (e.g. MULTIAPPEND). */
  withoutCapabilities?: string[];
  script?: HostileScript;
}

/** What the server saw of one connection, for assertions. */
export interface HostileRecord {
  /** When the client connected (ms since epoch). */
  openedAt: number;
  /** Every command as `NAME args` (LOGIN/AUTHENTICATE arguments redacted), whether it came over TLS, and when. */
  commands: { name: string; line: string; isTls: boolean; at: number }[];
  /** When the client's side of the connection ended (ms since epoch), if it did. */
  closedAt?: number;
  /** Bytes the script and the honest server wrote. */
  bytesSent: number;
}

export interface HostileImapServer {
  readonly port: number;
  /** One record per connection, in order. */
  readonly connections: readonly HostileRecord[];
  /** Resolves once some connection has seen a command of this name (upper case). */
  commandSeen(name: string): Promise<void>;
  stop(): Promise<void>;
}

const DEFAULT_MESSAGES = [
  'From: Ann <ann@old.example>\r\nTo: me@old.example\r\nSubject: first\r\nMessage-ID: <one@old.example>\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\nHello.\r\n',
  'From: Bob <bob@old.example>\r\nTo: me@old.example\r\nSubject: second\r\nMessage-ID: <two@old.example>\r\nDate: Tue, 2 Jan 2024 10:00:00 +0000\r\n\r\nHello again.\r\n',
].map((m) => Buffer.from(m, 'latin1'));

const BASE_CAPABILITIES = ['IMAP4rev1', 'LITERAL+', 'SASL-IR', 'AUTH=PLAIN', 'NAMESPACE', 'UIDPLUS', 'UNSELECT', 'MULTIAPPEND'];

/** A connection as the script drives it. */
export class HostileConnection {
  socket: net.Socket | tls.TLSSocket;
  isTls = false;
  isClosed = false;

  constructor(
    socket: net.Socket,
    readonly record: HostileRecord,
    /** Which connection this is, from 0, in the order they came. */
    readonly index: number,
  ) {
    this.socket = socket;
  }

  /** Writes, waiting while the client does not read (false once the client is gone). */
  async send(data: string | Buffer): Promise<boolean> {
    if (this.isClosed) return false;
    this.record.bytesSent += data.length;
    if (this.socket.write(data)) return true;
    return new Promise<boolean>((resolve) => {
      const done = (ok: boolean) => () => {
        this.socket.off('drain', onDrain);
        this.socket.off('close', onClose);
        resolve(ok);
      };
      const onDrain = done(true);
      const onClose = done(false);
      this.socket.once('drain', onDrain);
      this.socket.once('close', onClose);
    });
  }

  /** Never answers: the client waits (until its deadline). */
  stall(): Promise<void> {
    return new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
  }

  /** Lines without end (`line(i)` without CRLF), as fast as the client reads them. */
  async flood(line: (i: number) => string): Promise<void> {
    for (let i = 0; !this.isClosed; i++) {
      // Many lines per write: a flood the client must parse line by line.
      let batch = '';
      for (let j = 0; j < 200; j++) batch += `${line(i * 200 + j)}\r\n`;
      if (!(await this.send(batch))) return;
    }
  }

  /** `bytes` bytes of `fill` with no CRLF (a giant line, or a literal's content), in 64 KB writes. */
  async stream(bytes: number, fill = 'x'): Promise<boolean> {
    const chunk = Buffer.alloc(64 * 1024, fill);
    for (let sent = 0; sent < bytes; sent += chunk.length) {
      if (!(await this.send(chunk.subarray(0, Math.min(chunk.length, bytes - sent))))) return false;
    }
    return true;
  }

  /** A byte every `intervalMs` for ever: keeps a socket's idle timer from firing. */
  async trickle(intervalMs: number, byte = '*'): Promise<void> {
    while (!this.isClosed) {
      if (!(await this.send(byte))) return;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}

/** Expands a sequence set against 1..max. */
const expandSet = (set: string, max: number): number[] => {
  const out: number[] = [];
  for (const part of set.split(',')) {
    const [a, b] = part.split(':');
    const from = a === '*' ? max : Number(a);
    const to = b === undefined ? from : b === '*' ? max : Number(b);
    for (let n = Math.max(1, Math.min(from, to)); n <= Math.min(max, Math.max(from, to)); n++) out.push(n);
  }
  return out;
};

const headerOf = (raw: Buffer): Buffer => {
  const end = raw.indexOf('\r\n\r\n');
  return end < 0 ? raw : raw.subarray(0, end + 4);
};

export const startHostileImap = async (options: HostileImapOptions = {}): Promise<HostileImapServer> => {
  /** Folder → its messages (UIDs 1..n); CREATE and APPEND add to it. */
  const store = new Map<string, Buffer[]>([['INBOX', [...(options.messages ?? DEFAULT_MESSAGES)]], ...(options.folders ?? ['Sent', 'Archive']).map((f): [string, Buffer[]] => [f, []])]);
  const connections: HostileRecord[] = [];
  const open = new Set<net.Socket>();
  const seen = new Map<string, (() => void)[]>();
  const seenNames = new Set<string>();
  const markSeen = (name: string): void => {
    seenNames.add(name);
    for (const resolve of seen.get(name) ?? []) resolve();
    seen.delete(name);
  };

  const capabilities = (conn: HostileConnection, isAuthenticated: boolean): string =>
    [...BASE_CAPABILITIES.filter((c) => !options.withoutCapabilities?.includes(c)), ...(options.tls && !conn.isTls && !isAuthenticated ? ['STARTTLS'] : []), ...(isAuthenticated ? (options.extraCapabilities ?? []) : [])].join(' ');

  const handle = (socket: net.Socket): void => {
    const record: HostileRecord = { openedAt: Date.now(), commands: [], bytesSent: 0 };
    connections.push(record);
    open.add(socket);
    const conn = new HostileConnection(socket, record, connections.length - 1);
    let isAuthenticated = false;
    let selected: string | undefined;
    let buffer = Buffer.alloc(0);
    /** A command whose literal is still arriving (MULTIAPPEND: one part per message). */
    let pending: { head: string; need: number; parts: Buffer[] } | undefined;
    /**
     * A literal announced at the end of `line`: its size, and whether it may be read. A refused
     * one (appendLimitBytes) is answered NO here; its bytes, if the client sends them, stay input.
     */
    const announced = (tag: string, isAppend: boolean, line: string): { size: number; isRefused: boolean } | undefined => {
      const literal = /\{(\d+)(\+?)\}$/.exec(line);
      if (!literal) return undefined;
      const size = Number(literal[1]);
      if (isAppend && options.appendLimitBytes !== undefined && size > options.appendLimitBytes) {
        void conn.send(`${tag} NO [LIMIT] Message is larger than this server takes\r\n`);
        return { size, isRefused: true };
      }
      if (literal[2] !== '+') void conn.send('+ go ahead\r\n');
      return { size, isRefused: false };
    };
    let queue = Promise.resolve();

    const onClose = (): void => {
      conn.isClosed = true;
      record.closedAt ??= Date.now();
      open.delete(socket);
    };
    socket.on('close', onClose);
    socket.on('error', () => undefined);

    const run = async (event: HostileEvent, honest: () => Promise<void>): Promise<void> => {
      const handled = options.script ? await options.script(event, conn) : 'default';
      if (handled === 'default') await honest();
    };

    const listAnswer = async (tag: string, verb: 'LIST' | 'LSUB'): Promise<void> => {
      for (const f of store.keys()) await conn.send(`* ${verb} (\\HasNoChildren) "/" "${f}"\r\n`);
      await conn.send(`${tag} OK ${verb} done\r\n`);
    };

    const fetchAnswer = async (tag: string, args: string): Promise<void> => {
      const m = /^(\S+)\s+(.*)$/s.exec(args);
      const set = m?.[1] ?? '';
      const items = (m?.[2] ?? '').toUpperCase();
      const messages = (selected !== undefined ? store.get(selected) : undefined) ?? [];
      for (const n of expandSet(set, messages.length)) {
        const raw = messages[n - 1] as Buffer;
        const parts: (string | Buffer)[] = [`* ${n} FETCH (UID ${n}`];
        if (items.includes('RFC822.SIZE')) parts.push(` RFC822.SIZE ${raw.length}`);
        if (items.includes('FLAGS')) parts.push(' FLAGS (\\Seen)');
        if (items.includes('INTERNALDATE')) parts.push(' INTERNALDATE "01-Jan-2024 10:00:00 +0000"');
        const fields = /BODY(?:\.PEEK)?\[HEADER\.FIELDS \(([^)]*)\)\]/.exec(items);
        if (fields) {
          const header = headerOf(raw);
          parts.push(` BODY[HEADER.FIELDS (${fields[1]})] {${header.length}}\r\n`, header);
        }
        if (/BODY(?:\.PEEK)?\[\]/.test(items)) parts.push(` BODY[] {${raw.length}}\r\n`, raw);
        parts.push(')\r\n');
        if (!(await conn.send(Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p)))))) return;
      }
      await conn.send(`${tag} OK FETCH done\r\n`);
    };

    const honestAnswer = async (tag: string, name: string, args: string, literals?: Buffer[]): Promise<void> => {
      // The first argument: a quoted string or an atom.
      const first = /^"((?:[^"\\]|\\.)*)"|^(\S+)/.exec(args);
      const box = (first?.[1] ?? first?.[2] ?? '').replace(/\\(.)/g, '$1');
      switch (name) {
        case 'CAPABILITY':
          await conn.send(`* CAPABILITY ${capabilities(conn, isAuthenticated)}\r\n${tag} OK done\r\n`);
          return;
        case 'NOOP':
        case 'CHECK':
        case 'SUBSCRIBE':
          await conn.send(`${tag} OK done\r\n`);
          return;
        case 'CREATE':
          if (!store.has(box)) store.set(box, []);
          await conn.send(`${tag} OK done\r\n`);
          return;
        case 'ID':
          await conn.send(`* ID NIL\r\n${tag} OK done\r\n`);
          return;
        case 'ENABLE':
          await conn.send(`* ENABLED\r\n${tag} OK done\r\n`);
          return;
        case 'STARTTLS': {
          if (!options.tls || conn.isTls) {
            await conn.send(`${tag} BAD not now\r\n`);
            return;
          }
          await conn.send(`${tag} OK Begin TLS negotiation now\r\n`);
          await run({ kind: 'handshake' }, async () => {
            // Stop reading plain text: whatever came after STARTTLS is the client's handshake.
            socket.removeListener('data', onData);
            const secure = new tls.TLSSocket(socket, { isServer: true, key: options.tls?.key, cert: options.tls?.cert });
            secure.on('error', () => undefined);
            conn.socket = secure;
            conn.isTls = true;
            buffer = Buffer.alloc(0);
            secure.on('data', onData);
          });
          return;
        }
        case 'LOGIN':
        case 'AUTHENTICATE':
          isAuthenticated = true;
          await conn.send(`${tag} OK [CAPABILITY ${capabilities(conn, true)}] Logged in\r\n`);
          return;
        case 'NAMESPACE':
          await conn.send(`* NAMESPACE (("" "/")) NIL NIL\r\n${tag} OK done\r\n`);
          return;
        case 'LIST':
        case 'LSUB':
          await listAnswer(tag, name);
          return;
        case 'STATUS': {
          const count = store.get(box)?.length ?? 0;
          await conn.send(`* STATUS ${box} (MESSAGES ${count} UIDNEXT ${count + 1} UIDVALIDITY 7)\r\n${tag} OK done\r\n`);
          return;
        }
        case 'SELECT':
        case 'EXAMINE': {
          if (!store.has(box)) {
            await conn.send(`${tag} NO [NONEXISTENT] no such folder\r\n`);
            return;
          }
          selected = box;
          const count = store.get(box)?.length ?? 0;
          await conn.send(
            `* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft)\r\n* ${count} EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT ${count + 1}] ok\r\n${tag} OK [${name === 'EXAMINE' ? 'READ-ONLY' : 'READ-WRITE'}] done\r\n`,
          );
          return;
        }
        case 'CLOSE':
        case 'UNSELECT':
          selected = undefined;
          await conn.send(`${tag} OK done\r\n`);
          return;
        case 'UID SEARCH':
        case 'SEARCH': {
          const all = selected !== undefined && !/DELETED/i.test(args) ? (store.get(selected) ?? []).map((_, i) => i + 1) : [];
          await conn.send(`* SEARCH${all.map((n) => ` ${n}`).join('')}\r\n${tag} OK done\r\n`);
          return;
        }
        case 'UID FETCH':
        case 'FETCH':
          await fetchAnswer(tag, args);
          return;
        case 'APPEND': {
          const messages = store.get(box);
          if (!messages || !literals?.length) {
            await conn.send(`${tag} NO [TRYCREATE] no such folder\r\n`);
            return;
          }
          const first = messages.length + 1;
          messages.push(...literals);
          await conn.send(`${tag} OK [APPENDUID 7 ${first === messages.length ? first : `${first}:${messages.length}`}] done\r\n`);
          return;
        }
        case 'LOGOUT':
          await conn.send(`* BYE bye\r\n${tag} OK done\r\n`);
          conn.socket.end();
          return;
        default:
          await conn.send(`${tag} BAD unknown command\r\n`);
      }
    };

    const dispatch = (line: string, literals?: Buffer[]): void => {
      const m = /^(\S+) (UID \S+|\S+)(?: (.*))?$/is.exec(line);
      if (!m) return;
      const tag = m[1] as string;
      const name = (m[2] as string).toUpperCase();
      const args = m[3] ?? '';
      const shown = name === 'LOGIN' || name === 'AUTHENTICATE' ? `${name} (redacted)` : `${name} ${args}`.trim();
      record.commands.push({ name, line: shown, isTls: conn.isTls, at: Date.now() });
      markSeen(name);
      queue = queue.then(() => run({ kind: 'command', tag, name, args, isTls: conn.isTls }, () => honestAnswer(tag, name, args, literals))).catch(() => undefined);
    };

    function onData(chunk: Buffer): void {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (pending) {
          if (buffer.length < pending.need) return;
          pending.parts.push(buffer.subarray(0, pending.need));
          buffer = buffer.subarray(pending.need);
          const { head, parts } = pending;
          pending = undefined;
          // The rest of the command line after the literal (usually just CRLF; in a
          // MULTIAPPEND the next message's flags, date and literal).
          const eol = buffer.indexOf('\r\n');
          if (eol < 0) {
            pending = { head, need: 0, parts };
            return;
          }
          const rest = buffer.toString('latin1', 0, eol);
          buffer = buffer.subarray(eol + 2);
          const next = announced(head.split(' ')[0] ?? '*', /^\S+ APPEND /i.test(head), rest);
          if (next?.isRefused) continue;
          if (next) {
            pending = { head, need: next.size, parts };
            continue;
          }
          dispatch(head, parts);
          continue;
        }
        const eol = buffer.indexOf('\r\n');
        if (eol < 0) return;
        const line = buffer.toString('latin1', 0, eol);
        buffer = buffer.subarray(eol + 2);
        const literal = announced(line.split(' ')[0] ?? '*', /^\S+ APPEND /i.test(line), line);
        if (literal?.isRefused) continue;
        if (literal) {
          pending = { head: line.slice(0, line.lastIndexOf('{')).trim(), need: literal.size, parts: [] };
          continue;
        }
        dispatch(line);
      }
    }

    socket.on('data', onData);
    queue = queue.then(() => run({ kind: 'greeting' }, async () => void (await conn.send(`* OK [CAPABILITY ${capabilities(conn, false)}] hostile test server ready\r\n`))));
  };

  const server = net.createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    connections,
    commandSeen: (name) =>
      seenNames.has(name)
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            seen.set(name, [...(seen.get(name) ?? []), resolve]);
          }),
    stop: async () => {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

/** Runs `work` against a fresh server, and stops the server afterwards whatever happened. */
export const withHostileImap = async <T>(options: HostileImapOptions, work: (server: HostileImapServer) => Promise<T>): Promise<T> => {
  const server = await startHostileImap(options);
  try {
    return await work(server);
  } finally {
    await server.stop();
  }
};

/**
 * A port on 127.0.0.1 that never accepts: a child process listens with a backlog of one and
 * blocks; two connections fill its queue, and every later SYN is dropped.
 */
export const startUnacceptingListener = async (): Promise<{ port: number; stop(): Promise<void> }> => {
  const child: ChildProcess = spawn(
    process.execPath,
    ['-e', "const s=require('net').createServer();s.listen({port:0,host:'127.0.0.1',backlog:1},()=>{process.stdout.write(s.address().port+'\\n');Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0)})"],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
    child.once('exit', () => reject(new Error('the listener exited')));
  });
  const fillers: net.Socket[] = [];
  for (let i = 0; i < 2; i++) {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    fillers.push(socket);
  }
  return {
    port,
    stop: async () => {
      for (const s of fillers) s.destroy();
      child.kill('SIGKILL');
      await new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
    },
  };
};
