/**
 * A fault-injecting TCP proxy for IMAP tests: it sits between a client (imapflow) and a real
 * server on 127.0.0.1 and drops, stalls, slows, refuses or answers on the server's behalf, and it
 * records the client's commands on the wire ({@link WireLog}).
 *
 * ```ts
 * const proxy = await startFaultProxy({ targetHost: '127.0.0.1', targetPort: dovecot.port });
 * const [drop] = proxy.setFaults([
 *   { kind: 'drop', direction: 'server-to-client', onCommand: /^\S+ (UID )?FETCH /i, afterBytes: 2000 },
 * ]);
 * const client = new ImapFlow({ host: '127.0.0.1', port: proxy.port, ... });
 * // ... the fetch fails with a connection error ...
 * assert.equal(drop.firedCount, 1);                  // the fault really happened
 * assert.deepEqual(proxy.wire().destructive().destructive, []);
 * await proxy.stop();
 * ```
 *
 * Fault kinds (see {@link Fault}): `drop`, `stall`, `latency`, `bandwidth`, `slow-link`, `refuse`,
 * `inject`.
 * `setFaults` replaces the plan at any time, also while connections are open; `clearFaults`
 * removes it and lifts any stall. Byte counts are counted in one direction, from the moment the
 * fault applies to a connection (the later of: connection accepted, plan installed, matching
 * command seen). Random points come from a seeded generator, so a plan with the same seed fires
 * at the same bytes for the same sequence of connections.
 *
 * How the bytes move: each direction of each connection is a FIFO queue of byte chunks and
 * actions (drop, stall, end). Latency stamps each entry with a ready time that never goes
 * backwards, so order is kept; bandwidth is a token bucket in front of the write; one timer per
 * direction at most. Client lines are held until their CRLF (bounded) so that a command can be
 * matched before any of it is passed on. All timers are cleared on close and on `stop()`.
 */
import net from 'node:net';
import { WireLog, type ClientSegment, type ConnectionRecorder, type WireCommand } from './imap-wire.js';

export type Direction = 'client-to-server' | 'server-to-client';

/** Shared options of faults that fire at a byte count or on a command. */
interface TriggeredFault {
  /** How many times the fault may fire in all (default 1). `Infinity`: every time it can. */
  times?: number;
  /** Only on this connection (numbered from 1 in order of acceptance). */
  connection?: number;
  /**
   * Arm the fault when the client sends a command whose first line (up to its first literal,
   * without CRLF) matches. Without it the fault is armed on every connection from its start.
   */
  onCommand?: RegExp;
  /**
   * Bytes to let through in `direction` before firing, counted from when the fault was armed.
   * With `onCommand` and `client-to-server`, counting starts after the matched line, so
   * `afterBytes: K` on an APPEND fires K bytes into its literal. Default 0.
   */
  afterBytes?: number;
  /** Instead of `afterBytes`: a seeded random count in this closed range, drawn at each arming. */
  randomBetween?: readonly [number, number];
  /** Seed for `randomBetween` (default 1). */
  seed?: number;
}

/** Close both sockets after some bytes in one direction. */
export interface DropFault extends TriggeredFault {
  kind: 'drop';
  direction: Direction;
  /** Send RST instead of FIN to both sides. */
  reset?: boolean;
}

/** Stop forwarding both ways, sockets left open, for `durationMs` or until cleared. */
export interface StallFault extends TriggeredFault {
  kind: 'stall';
  /**
   * With `onCommand`: stall just before the last bytes of the matching command (its final CRLF)
   * are passed on, instead of counting bytes. The server then holds all of the command but
   * cannot act on it: an APPEND it will commit the moment the stall ends.
   */
  beforeCommandEnd?: boolean;
  /** Where `afterBytes` is counted (default `server-to-client`). */
  direction?: Direction;
  /** Omitted: stall until `clearFaults()` / `setFaults()`. */
  durationMs?: number;
}

/** Add `ms` to every chunk in the given direction(s). */
export interface LatencyFault {
  kind: 'latency';
  ms: number;
  direction?: Direction | 'both';
}

/** Cap each connection's throughput in the given direction(s). */
export interface BandwidthFault {
  kind: 'bandwidth';
  bytesPerSecond: number;
  direction?: Direction | 'both';
}

/**
 * A slow link that buffers like a real one (a slow uplink's socket buffers, a corporate proxy, an
 * antivirus filter): the proxy reads whatever the client writes at once, up to `bufferBytes`
 * per connection, and delivers it to the server at `bytesPerSecond`. It keeps delivering after
 * the client's FIN, and with `deliversAfterReset` even after the client's RST, as a middlebox
 * that read the bytes already does; only then does it end the server side. Client to server.
 */
export interface SlowLinkFault {
  kind: 'slow-link';
  bytesPerSecond: number;
  /** Default 256 MiB. */
  bufferBytes?: number;
  deliversAfterReset?: boolean;
}

/**
 * Accept and at once close new connections: for the next `connections` ones, and/or for
 * `forMs` from when the plan is set (both given: both must hold; neither: until cleared).
 */
export interface RefuseFault {
  kind: 'refuse';
  connections?: number;
  forMs?: number;
  /** Sent before closing, e.g. `* BYE [UNAVAILABLE] Too many connections\r\n`. */
  greeting?: string;
  /** Reset (RST) instead of a clean close; ignored when there is a greeting. */
  reset?: boolean;
}

/**
 * Answer a matching command instead of the server: the command is not forwarded. `response` is
 * a template where `{tag}` is the command's tag (CRLF added when missing), for instance
 * `{tag} NO [LIMIT] Too many commands`. A synchronizing literal is refused by answering instead
 * of `+` (RFC 3501 §7.5), so the client never sends it; a non-synchronizing one (`{N+}`) is
 * swallowed and the answer sent after it. With `close` (default: when the response contains a
 * `* BYE` line) the connection is closed after the answer; `response: ''` with `close: true`
 * drops the connection before the command reaches the server.
 */
export interface InjectFault {
  kind: 'inject';
  onCommand: RegExp;
  response: string;
  close?: boolean;
  /** How many matching commands to answer (default 1). */
  times?: number;
  connection?: number;
}

export type Fault = DropFault | StallFault | LatencyFault | BandwidthFault | SlowLinkFault | RefuseFault | InjectFault;

/** One firing of a fault. */
export interface FaultEvent {
  kind: Fault['kind'];
  /** Index of the fault in the plan passed to `setFaults`. */
  index: number;
  /** Connection number, 0 for none. */
  connection: number;
  /** Milliseconds since the proxy started. */
  atMs: number;
  detail: string;
}

/** What a test holds to see whether (and how often) a fault fired. */
export interface FaultHandle {
  readonly fault: Fault;
  /**
   * Times fired. For `latency` and `bandwidth`: chunks delayed. Drops and stalls count when
   * their byte point is reached, a little before queued bytes ahead of them are delivered.
   */
  readonly firedCount: number;
  /** Events of this fault (none for `latency` / `bandwidth`). */
  readonly events: readonly FaultEvent[];
  /** Resolves once `firedCount` reaches `count` (default 1); rejects after `timeoutMs` or on stop. */
  whenFired(count?: number, timeoutMs?: number): Promise<void>;
}

export interface FaultProxyOptions {
  targetHost: string;
  targetPort: number;
  /** Default 0: any free port. */
  listenPort?: number;
}

export interface FaultProxy {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Replaces the fault plan (lifting any stall) and returns one handle per fault, in order. */
  setFaults(plan: readonly Fault[]): FaultHandle[];
  /** Removes every fault and lifts any stall. */
  clearFaults(): void;
  /** Connections accepted so far, refused ones included. */
  connections(): number;
  /** Connections currently open. */
  openConnections(): number;
  /** Every fault event since the start, in order. */
  events(): FaultEvent[];
  /**
   * Resolves with the command once a client has sent the whole of a command whose first line
   * matches `pattern` (the proxy has read it; the server may not have it yet).
   */
  whenCommandSent(pattern: RegExp): Promise<WireCommand>;
  /**
   * Resolves once no connection is open any more: everything the proxy read has been delivered
   * (or dropped by a fault) and both sides are closed. Rejects after `timeoutMs`.
   */
  whenIdle(timeoutMs: number): Promise<void>;
  /** The recorder of everything clients sent (and server status lines). */
  wire(): WireLog;
  /** Closes every open connection now (FIN), without a fault. */
  dropAll(): void;
  /** Stops listening, closes every connection and clears every timer. */
  stop(): Promise<void>;
}

/** Paused reading from a socket when this much is queued towards its peer. */
const QUEUE_HIGH_WATER_BYTES = 1024 * 1024;
const QUEUE_LOW_WATER_BYTES = 256 * 1024;
/** A bandwidth bucket holds at most this much time's worth of bytes. */
const BANDWIDTH_BURST_MS = 50;
/** What a buffering slow link reads ahead of the server by default. */
const DEFAULT_SLOW_LINK_BUFFER_BYTES = 256 * 1024 * 1024;
/** Queue entries handled per pump turn before yielding to the event loop. */
const MAX_ENTRIES_PER_PUMP = 1000;
/** Longest single timer (setTimeout overflows above 2^31-1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** mulberry32: small, fast, deterministic. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A fault of the current plan with its counters. */
class ActiveFault implements FaultHandle {
  firedCount = 0;
  readonly events: FaultEvent[] = [];
  /** Connections refused so far (refuse). */
  refused = 0;
  readonly installedAt = Date.now();
  private readonly random: () => number;
  private waiters: { count: number; resolve: () => void; reject: (error: Error) => void; timer?: NodeJS.Timeout }[] = [];

  constructor(
    readonly fault: Fault,
    readonly index: number,
    private readonly proxyEvents: FaultEvent[],
    private readonly startedAt: number,
  ) {
    this.random = seededRandom('seed' in fault && fault.seed !== undefined ? fault.seed : 1);
  }

  get timesLeft(): number {
    const times = 'times' in this.fault && this.fault.times !== undefined ? this.fault.times : 1;
    return times - this.firedCount;
  }

  appliesTo(connection: number): boolean {
    return !('connection' in this.fault) || this.fault.connection === undefined || this.fault.connection === connection;
  }

  /** Bytes to let through before firing, for one arming. */
  drawAfterBytes(): number {
    const fault = this.fault as TriggeredFault;
    if (fault.randomBetween) {
      const [low, high] = fault.randomBetween;
      return low + Math.floor(this.random() * (high - low + 1));
    }
    return fault.afterBytes ?? 0;
  }

  fire(connection: number, detail: string, withEvent = true): void {
    this.firedCount++;
    if (withEvent) {
      const event: FaultEvent = { kind: this.fault.kind, index: this.index, connection, atMs: Date.now() - this.startedAt, detail };
      this.events.push(event);
      this.proxyEvents.push(event);
    }
    for (const waiter of [...this.waiters]) {
      if (this.firedCount >= waiter.count) {
        this.settleWaiter(waiter);
        waiter.resolve();
      }
    }
  }

  whenFired(count = 1, timeoutMs?: number): Promise<void> {
    if (this.firedCount >= count) {
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiter: (typeof this.waiters)[number] = { count, resolve, reject };
      if (timeoutMs !== undefined) {
        waiter.timer = setTimeout(() => {
          this.settleWaiter(waiter);
          reject(new Error(`fault ${this.index} (${this.fault.kind}) fired ${this.firedCount} of ${count} times within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.waiters.push(waiter);
    });
  }

  /** Rejects waiters that can no longer be satisfied (plan replaced, proxy stopped). */
  abandon(reason: string): void {
    for (const waiter of [...this.waiters]) {
      this.settleWaiter(waiter);
      waiter.reject(new Error(`fault ${this.index} (${this.fault.kind}): ${reason} after firing ${this.firedCount} of ${waiter.count} times`));
    }
  }

  private settleWaiter(waiter: (typeof this.waiters)[number]): void {
    clearTimeout(waiter.timer);
    this.waiters = this.waiters.filter((other) => other !== waiter);
  }
}

/** A byte countdown of a drop or stall fault on one connection. */
interface Countdown {
  fault: ActiveFault;
  direction: Direction;
  left: number;
  reason: string;
}

type QueueEntry = { readyAt: number } & ({ type: 'data'; bytes: Buffer } | { type: 'action'; run: () => void });

/** One direction of one connection: source socket → queue → destination socket. */
class Pipe {
  private readonly queue: QueueEntry[] = [];
  private queuedBytes = 0;
  private lastReadyAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private waitingForDrain = false;
  private tokens = 0;
  private tokensAt = Date.now();
  private sourcePaused = false;

  constructor(
    private readonly conn: Connection,
    readonly direction: Direction,
    private readonly source: net.Socket,
    private readonly destination: net.Socket,
  ) {}

  get isEmpty(): boolean {
    return this.queue.length === 0;
  }

  pushData(bytes: Buffer): void {
    if (bytes.length === 0) {
      return;
    }
    this.queue.push({ type: 'data', bytes, readyAt: this.readyAt(true) });
    this.queuedBytes += bytes.length;
    if (this.queuedBytes > this.highWaterBytes() && !this.sourcePaused) {
      this.sourcePaused = true;
      this.source.pause();
    }
    this.pump();
  }

  /** A buffering slow link reads ahead up to its buffer; otherwise little is held. */
  private highWaterBytes(): number {
    return this.conn.proxy.slowLinkFor(this.direction)?.bufferBytes ?? QUEUE_HIGH_WATER_BYTES;
  }

  pushAction(run: () => void): void {
    this.queue.push({ type: 'action', run, readyAt: this.readyAt(false) });
    this.pump();
  }

  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
    this.queuedBytes = 0;
  }

  /** Ready time for a new entry: now plus latency, never before the previous entry. */
  private readyAt(countAsDelayed: boolean): number {
    const latency = this.conn.proxy.latencyFor(this.direction);
    let readyAt = Date.now();
    if (latency) {
      readyAt += latency.ms;
      if (countAsDelayed) {
        latency.fault.fire(this.conn.id, '', false);
      }
    }
    this.lastReadyAt = Math.max(this.lastReadyAt, readyAt);
    return this.lastReadyAt;
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, Math.min(Math.max(0, Math.ceil(ms)), MAX_TIMER_MS));
  }

  pump(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (let handled = 0; handled < MAX_ENTRIES_PER_PUMP; handled++) {
      if (this.conn.isClosed || this.waitingForDrain) {
        return;
      }
      const entry = this.queue[0];
      if (!entry) {
        return;
      }
      const now = Date.now();
      if (this.conn.stalledUntil > now) {
        if (Number.isFinite(this.conn.stalledUntil)) {
          this.schedule(this.conn.stalledUntil - now);
        }
        return;
      }
      if (entry.readyAt > now) {
        this.schedule(entry.readyAt - now);
        return;
      }
      if (entry.type === 'action') {
        this.queue.shift();
        entry.run();
        continue;
      }
      let size = entry.bytes.length;
      const bandwidth = this.conn.proxy.bandwidthFor(this.direction);
      if (bandwidth) {
        const rate = bandwidth.bytesPerSecond;
        const capacity = Math.max(1, (rate * BANDWIDTH_BURST_MS) / 1000);
        this.tokens = Math.min(capacity, this.tokens + ((now - this.tokensAt) * rate) / 1000);
        this.tokensAt = now;
        if (this.tokens < 1) {
          this.schedule(((1 - this.tokens) * 1000) / rate);
          return;
        }
        size = Math.min(size, Math.floor(this.tokens));
        this.tokens -= size;
        bandwidth.fault.fire(this.conn.id, '', false);
      } else {
        this.tokens = 0;
        this.tokensAt = now;
      }
      const piece = entry.bytes.subarray(0, size);
      if (size < entry.bytes.length) {
        entry.bytes = entry.bytes.subarray(size);
      } else {
        this.queue.shift();
      }
      this.queuedBytes -= size;
      if (this.sourcePaused && this.queuedBytes < Math.min(QUEUE_LOW_WATER_BYTES, this.highWaterBytes() / 2)) {
        this.sourcePaused = false;
        this.source.resume();
      }
      if (!this.destination.write(piece)) {
        this.waitingForDrain = true;
        this.destination.once('drain', () => {
          this.waitingForDrain = false;
          this.pump();
        });
        return;
      }
    }
    this.schedule(0);
  }
}

/** One accepted client and its upstream connection. */
class Connection {
  readonly toServer: Pipe;
  readonly toClient: Pipe;
  readonly recorder: ConnectionRecorder;
  isClosed = false;
  /** Forwarding stops both ways until this time (Infinity: until cleared). */
  stalledUntil = 0;
  private countdowns: Countdown[] = [];
  /** A drop has been decided: further input is discarded. */
  private dropping = false;
  /** Swallowing the rest of a command answered by an inject fault (LITERAL+). */
  private swallowing: Injection | undefined;
  /**
   * Injected answers waiting until the server has answered every earlier command and is
   * between lines, so a made-up reply never lands inside or ahead of a real one.
   */
  private pendingInjections: Injection[] = [];
  private clientClosed = false;
  private upstreamClosed = false;
  private clientFlushed = false;

  constructor(
    readonly proxy: ProxyState,
    readonly id: number,
    readonly client: net.Socket,
    readonly upstream: net.Socket,
  ) {
    this.toServer = new Pipe(this, 'client-to-server', client, upstream);
    this.toClient = new Pipe(this, 'server-to-client', upstream, client);
    this.recorder = proxy.wireLog.connection(id);
    for (const fault of proxy.faults) {
      this.armFromStart(fault);
    }

    client.on('data', (chunk: Buffer) => this.fromClient(chunk));
    upstream.on('data', (chunk: Buffer) => this.fromServer(chunk));
    client.on('end', () => {
      this.flushClientRemainder();
      this.toServer.pushAction(() => upstream.end());
    });
    upstream.on('end', () => this.toClient.pushAction(() => client.end()));
    client.on('error', () => {
      // A middlebox that read the client's bytes delivers them even after the client's RST.
      if (this.proxy.slowLinkFor('client-to-server')?.deliversAfterReset && !this.upstreamClosed) {
        this.flushClientRemainder();
        return; // 'close' follows: afterSocketClose ends the server side after the queue
      }
      this.destroy(false);
    });
    upstream.on('error', () => this.destroy(false));
    client.on('close', () => {
      this.clientClosed = true;
      this.afterSocketClose();
    });
    upstream.on('close', () => {
      this.upstreamClosed = true;
      this.afterSocketClose();
    });
  }

  /** Passes on what the recorder still holds of the client stream (a line without its CRLF). */
  private flushClientRemainder(): void {
    if (this.clientFlushed) return;
    this.clientFlushed = true;
    for (const segment of this.recorder.endClient()) {
      this.forward(this.toServer, segment.bytes);
    }
  }

  /** Arms a byte-count fault that applies from the connection's start (or from now). */
  armFromStart(fault: ActiveFault): void {
    if ((fault.fault.kind === 'drop' || fault.fault.kind === 'stall') && !fault.fault.onCommand && fault.appliesTo(this.id)) {
      this.arm(fault, 'byte count');
    }
  }

  /** Drops countdowns of faults no longer in the plan. */
  forgetFaults(): void {
    this.countdowns = [];
    this.stalledUntil = 0;
    this.toServer.pump();
    this.toClient.pump();
  }

  private arm(fault: ActiveFault, reason: string): void {
    if (fault.timesLeft <= 0 || this.countdowns.some((countdown) => countdown.fault === fault)) {
      return;
    }
    const spec = fault.fault as DropFault | StallFault;
    const direction = spec.kind === 'drop' ? spec.direction : (spec.direction ?? 'server-to-client');
    const countdown: Countdown = { fault, direction, left: fault.drawAfterBytes(), reason };
    this.countdowns.push(countdown);
    if (countdown.left <= 0) {
      this.fireCountdown(countdown);
    }
  }

  private fromClient(chunk: Buffer): void {
    if (this.dropping) {
      return;
    }
    for (const segment of this.recorder.client(chunk)) {
      this.clientSegment(segment);
      if (this.dropping || this.isClosed) {
        return;
      }
    }
  }

  private clientSegment(segment: ClientSegment): void {
    if (this.swallowing) {
      // A synchronizing literal further on (MULTIAPPEND) would wait for "+": answer now.
      if (segment.endsCommand || segment.literal?.synchronizing) {
        const injection = this.swallowing;
        this.swallowing = undefined;
        this.inject(injection);
      }
      return;
    }
    const isCommandLine = segment.kind === 'line' && segment.startsCommand && segment.command;
    const firstLine = segment.text ?? '';
    if (isCommandLine && segment.command) {
      const injector = this.proxy.faults.find(
        (fault) => fault.fault.kind === 'inject' && fault.timesLeft > 0 && fault.appliesTo(this.id) && matches(fault.fault.onCommand, firstLine),
      );
      if (injector && injector.fault.kind === 'inject') {
        const spec = injector.fault;
        const response = renderResponse(spec.response, segment.command.tag);
        const close = spec.close ?? /(^|\n)\* BYE/i.test(response);
        segment.command.answeredByProxy = true;
        injector.fire(this.id, `answered ${segment.command.tag} ${segment.command.name}${response ? `: ${response.trim()}` : ''}`);
        const injection: Injection = { command: segment.command, response, close };
        if (segment.literal && !segment.literal.synchronizing && segment.literal.size > 0) {
          this.swallowing = injection;
        } else {
          // Whole command, or a synchronizing literal: answering instead of "+" means the client
          // will not send the literal (the recorder learns this from the injected reply).
          this.inject(injection);
        }
        return;
      }
    }
    if (segment.endsCommand && segment.command) {
      this.stallBeforeCommandEnd(segment.command);
    }
    this.forward(this.toServer, segment.bytes);
    if (segment.endsCommand && segment.command) {
      this.proxy.commandSent(segment.command);
    }
    if (isCommandLine) {
      for (const fault of this.proxy.faults) {
        const spec = fault.fault;
        const isByteCount = spec.kind === 'drop' || (spec.kind === 'stall' && !spec.beforeCommandEnd);
        if (isByteCount && spec.onCommand && fault.appliesTo(this.id) && matches(spec.onCommand, firstLine)) {
          this.arm(fault, `after ${firstLine.split(' ').slice(0, 3).join(' ')}`);
        }
      }
    }
  }

  /** Fires a `beforeCommandEnd` stall whose command this is, ahead of the command's last bytes. */
  private stallBeforeCommandEnd(command: WireCommand): void {
    for (const fault of this.proxy.faults) {
      const spec = fault.fault;
      if (spec.kind !== 'stall' || !spec.beforeCommandEnd || !spec.onCommand || fault.timesLeft <= 0 || !fault.appliesTo(this.id)) continue;
      if (!matches(spec.onCommand, command.line)) continue;
      fault.fire(this.id, `stalled ${spec.durationMs === undefined ? 'until cleared' : `${spec.durationMs} ms`} before the end of ${command.tag} ${command.name}`);
      this.toServer.pushAction(() => {
        this.stalledUntil = spec.durationMs === undefined ? Infinity : Date.now() + spec.durationMs;
      });
      return;
    }
  }

  private fromServer(chunk: Buffer): void {
    if (this.dropping) {
      return;
    }
    this.recorder.server(chunk);
    if (this.clientClosed) {
      return; // late answers to a client that is gone (a slow link still delivering)
    }
    this.forward(this.toClient, chunk);
    this.flushInjections();
  }

  /** Queues an answer made up by the proxy, at a line boundary of the server stream. */
  private inject(injection: Injection): void {
    this.pendingInjections.push(injection);
    this.flushInjections();
  }

  private flushInjections(): void {
    // Bounded by the number of pending injections: each pass sends one or returns.
    while (this.pendingInjections.length > 0) {
      const injection = this.pendingInjections[0];
      if (!injection || !this.recorder.serverAtLineStart || this.recorder.hasUnansweredBefore(injection.command)) {
        return;
      }
      this.pendingInjections.shift();
      const bytes = Buffer.from(injection.response, 'utf8');
      this.recorder.server(bytes, { injected: true });
      this.toClient.pushData(bytes);
      if (injection.close) {
        this.dropping = true;
        this.toClient.pushAction(() => {
          this.client.end();
          this.upstream.destroy();
        });
        return;
      }
    }
  }

  /** Passes bytes to a pipe, firing drop/stall countdowns of that direction at their byte. */
  private forward(pipe: Pipe, input: Buffer): void {
    let bytes = input;
    // Each pass either consumes all bytes or fires (and removes) one countdown.
    for (;;) {
      if (this.dropping) {
        return;
      }
      const mine = this.countdowns.filter((countdown) => countdown.direction === pipe.direction);
      const next = mine.reduce<Countdown | undefined>((best, countdown) => (!best || countdown.left < best.left ? countdown : best), undefined);
      if (!next || next.left > bytes.length) {
        for (const countdown of mine) {
          countdown.left -= bytes.length;
        }
        pipe.pushData(bytes);
        return;
      }
      const cut = next.left;
      pipe.pushData(bytes.subarray(0, cut));
      for (const countdown of mine) {
        countdown.left -= cut;
      }
      bytes = bytes.subarray(cut);
      this.fireCountdown(next);
    }
  }

  private fireCountdown(countdown: Countdown): void {
    this.countdowns = this.countdowns.filter((other) => other !== countdown);
    const { fault } = countdown;
    if (fault.timesLeft <= 0) {
      return;
    }
    const spec = fault.fault;
    const pipe = countdown.direction === 'client-to-server' ? this.toServer : this.toClient;
    if (spec.kind === 'drop') {
      this.dropping = true;
      fault.fire(this.id, `dropped ${countdown.direction} (${countdown.reason})`);
      pipe.pushAction(() => this.destroy(spec.reset === true));
    } else if (spec.kind === 'stall') {
      fault.fire(this.id, `stalled ${spec.durationMs === undefined ? 'until cleared' : `${spec.durationMs} ms`} (${countdown.reason})`);
      pipe.pushAction(() => {
        this.stalledUntil = spec.durationMs === undefined ? Infinity : Date.now() + spec.durationMs;
        // The other pipe must notice the stall on its next turn; it checks before each entry.
      });
    }
  }

  private afterSocketClose(): void {
    if (this.clientClosed && this.upstreamClosed) {
      this.destroy(false);
    } else if (this.clientClosed) {
      // Nobody to deliver to any more; let what is queued for the server go, then end it.
      this.toClient.clear();
      this.toServer.pushAction(() => this.upstream.end());
    } else if (this.upstreamClosed) {
      this.toServer.clear();
      this.toClient.pushAction(() => this.client.end());
    }
  }

  destroy(reset: boolean): void {
    if (this.isClosed) {
      return;
    }
    this.isClosed = true;
    this.toServer.clear();
    this.toClient.clear();
    for (const socket of [this.client, this.upstream]) {
      if (reset && !socket.destroyed && typeof socket.resetAndDestroy === 'function') {
        socket.resetAndDestroy();
      } else {
        socket.destroy();
      }
    }
    this.proxy.open.delete(this);
    this.proxy.checkIdle();
  }
}

/** `RegExp.test` without the state a `g` or `y` flag would carry from one call to the next. */
function matches(pattern: RegExp, text: string): boolean {
  pattern.lastIndex = 0;
  return pattern.test(text);
}

interface Injection {
  command: WireCommand;
  response: string;
  close: boolean;
}

function renderResponse(template: string, tag: string): string {
  if (template === '') {
    return '';
  }
  const text = template.replaceAll('{tag}', tag);
  return text.endsWith('\r\n') ? text : `${text.replace(/\r?\n?$/, '')}\r\n`;
}

/** What connections need from the proxy. */
class ProxyState {
  faults: ActiveFault[] = [];
  readonly open = new Set<Connection>();
  /** Refused sockets still closing (closed by `stop()` if the peer lingers). */
  readonly refusedSockets = new Set<net.Socket>();
  readonly allEvents: FaultEvent[] = [];
  readonly wireLog = new WireLog();
  readonly startedAt = Date.now();
  accepted = 0;

  latencyFor(direction: Direction): { ms: number; fault: ActiveFault } | undefined {
    let best: { ms: number; fault: ActiveFault } | undefined;
    for (const fault of this.faults) {
      const spec = fault.fault;
      if (spec.kind === 'latency' && matchesDirection(spec.direction, direction) && spec.ms > 0) {
        best = best && best.ms >= spec.ms ? best : { ms: spec.ms, fault };
      }
    }
    return best;
  }

  bandwidthFor(direction: Direction): { bytesPerSecond: number; fault: ActiveFault } | undefined {
    let best: { bytesPerSecond: number; fault: ActiveFault } | undefined;
    for (const fault of this.faults) {
      const spec = fault.fault;
      const applies = (spec.kind === 'bandwidth' && matchesDirection(spec.direction, direction)) || (spec.kind === 'slow-link' && direction === 'client-to-server');
      if (applies && (spec.kind === 'bandwidth' || spec.kind === 'slow-link') && spec.bytesPerSecond > 0) {
        best = best && best.bytesPerSecond <= spec.bytesPerSecond ? best : { bytesPerSecond: spec.bytesPerSecond, fault };
      }
    }
    return best;
  }

  /** The buffering slow link of this direction, if the plan has one. */
  slowLinkFor(direction: Direction): { bufferBytes: number; deliversAfterReset: boolean } | undefined {
    if (direction !== 'client-to-server') return undefined;
    const spec = this.faults.map((f) => f.fault).find((f): f is SlowLinkFault => f.kind === 'slow-link');
    return spec ? { bufferBytes: spec.bufferBytes ?? DEFAULT_SLOW_LINK_BUFFER_BYTES, deliversAfterReset: spec.deliversAfterReset === true } : undefined;
  }

  private commandWaiters: { pattern: RegExp; resolve: (command: WireCommand) => void }[] = [];
  private idleWaiters: (() => void)[] = [];

  whenCommandSent(pattern: RegExp): Promise<WireCommand> {
    return new Promise((resolve) => this.commandWaiters.push({ pattern, resolve }));
  }

  commandSent(command: WireCommand): void {
    const first = command.line;
    for (const waiter of [...this.commandWaiters]) {
      if (matches(waiter.pattern, first)) {
        this.commandWaiters = this.commandWaiters.filter((w) => w !== waiter);
        waiter.resolve(command);
      }
    }
  }

  whenIdle(): Promise<void> {
    if (this.open.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  checkIdle(): void {
    if (this.open.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** The refuse fault that turns this new connection away, if any. */
  refuser(): ActiveFault | undefined {
    const now = Date.now();
    return this.faults.find((fault) => {
      const spec = fault.fault;
      if (spec.kind !== 'refuse') {
        return false;
      }
      const countOk = spec.connections === undefined || fault.refused < spec.connections;
      const windowOk = spec.forMs === undefined || now - fault.installedAt < spec.forMs;
      return countOk && windowOk;
    });
  }
}

function matchesDirection(wanted: Direction | 'both' | undefined, direction: Direction): boolean {
  return wanted === undefined || wanted === 'both' || wanted === direction;
}

function validate(fault: Fault): void {
  const fail = (why: string): never => {
    throw new Error(`invalid ${fault.kind} fault: ${why}`);
  };
  if (fault.kind === 'drop' || fault.kind === 'stall') {
    if (fault.randomBetween) {
      const [low, high] = fault.randomBetween;
      if (!(Number.isInteger(low) && Number.isInteger(high) && low >= 0 && high >= low)) {
        fail('randomBetween must be integers 0 <= a <= b');
      }
    } else if (fault.afterBytes !== undefined && !(Number.isInteger(fault.afterBytes) && fault.afterBytes >= 0)) {
      fail('afterBytes must be an integer >= 0');
    }
    if (fault.kind === 'stall' && fault.durationMs !== undefined && !(fault.durationMs >= 0)) {
      fail('durationMs must be >= 0');
    }
  } else if (fault.kind === 'latency' && !(fault.ms >= 0)) {
    fail('ms must be >= 0');
  } else if ((fault.kind === 'bandwidth' || fault.kind === 'slow-link') && !(fault.bytesPerSecond > 0)) {
    fail('bytesPerSecond must be > 0');
  }
}

/** Starts a proxy on 127.0.0.1 that forwards to `targetHost:targetPort`. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const state = new ProxyState();
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: false }, (client) => {
    const id = ++state.accepted;
    client.on('error', () => {
      // A refused or dropped client may reset; nothing to do.
    });
    const refuser = state.refuser();
    if (refuser && refuser.fault.kind === 'refuse') {
      const spec = refuser.fault;
      refuser.refused++;
      refuser.fire(id, spec.greeting ? `refused with ${spec.greeting.trim()}` : spec.reset ? 'refused with reset' : 'refused');
      if (spec.greeting) {
        client.end(spec.greeting);
      } else if (spec.reset) {
        client.resetAndDestroy();
      } else {
        client.end();
      }
      state.refusedSockets.add(client);
      client.on('close', () => state.refusedSockets.delete(client));
      return;
    }
    const upstream = net.connect({ host: options.targetHost, port: options.targetPort, allowHalfOpen: true });
    state.open.add(new Connection(state, id, client, upstream));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listenPort ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (!address || typeof address === 'string') {
    throw new Error('fault proxy: no TCP address');
  }

  const proxy: FaultProxy = {
    host: '127.0.0.1',
    port: address.port,
    setFaults(plan) {
      plan.forEach(validate);
      for (const fault of state.faults) {
        fault.abandon('plan replaced');
      }
      state.faults = plan.map((fault, index) => new ActiveFault(fault, index, state.allEvents, state.startedAt));
      for (const conn of state.open) {
        conn.forgetFaults();
        for (const fault of state.faults) {
          conn.armFromStart(fault);
        }
      }
      return [...state.faults];
    },
    clearFaults() {
      proxy.setFaults([]);
    },
    connections: () => state.accepted,
    openConnections: () => state.open.size,
    events: () => [...state.allEvents],
    whenCommandSent: (pattern) => state.whenCommandSent(pattern),
    whenIdle(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      return Promise.race([
        state.whenIdle(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`fault proxy: ${state.open.size} connection(s) still open after ${timeoutMs} ms`)), timeoutMs);
        }),
      ]).finally(() => clearTimeout(timer));
    },
    wire: () => state.wireLog,
    dropAll() {
      for (const conn of [...state.open]) {
        conn.destroy(false);
      }
      for (const socket of state.refusedSockets) {
        socket.destroy();
      }
    },
    async stop() {
      for (const fault of state.faults) {
        fault.abandon('proxy stopped');
      }
      state.faults = [];
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      proxy.dropAll();
      await closed;
    },
  };
  return proxy;
}
