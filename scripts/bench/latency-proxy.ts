/**
 * A TCP proxy that adds a fixed delay to every chunk in each direction: a slow link (say 25 ms
 * each way, 50 ms round trip) without a bandwidth cap, for the benchmark's slow-link case.
 *
 * Each direction of each connection is a FIFO of (ready time, chunk); ready times never go
 * backwards, so bytes keep their order. Reading pauses while a lot is queued towards the peer,
 * so a fast sender cannot fill memory. One timer per direction at most.
 */
import net from 'node:net';

/** Stop reading from a side while this much is queued towards the other. */
const HIGH_WATER_BYTES = 8 * 1024 * 1024;
const LOW_WATER_BYTES = 2 * 1024 * 1024;

export interface LatencyProxy {
  readonly port: number;
  stop(): Promise<void>;
}

/** Delivers `from`'s bytes to `to` `delayMs` after they arrived. */
const pipeDelayed = (from: net.Socket, to: net.Socket, delayMs: number): (() => void) => {
  const queue: { at: number; chunk: Buffer }[] = [];
  let queuedBytes = 0;
  let timer: NodeJS.Timeout | undefined;
  let isEnded = false;

  const pump = (): void => {
    timer = undefined;
    const now = performance.now();
    while (queue.length > 0 && (queue[0] as { at: number }).at <= now) {
      const { chunk } = queue.shift() as { chunk: Buffer };
      queuedBytes -= chunk.length;
      if (!to.destroyed) to.write(chunk);
    }
    if (queuedBytes < LOW_WATER_BYTES && from.isPaused()) from.resume();
    if (queue.length > 0) timer = setTimeout(pump, Math.max(0, (queue[0] as { at: number }).at - now));
    else if (isEnded && !to.destroyed) to.end();
  };

  from.on('data', (chunk: Buffer) => {
    const last = queue[queue.length - 1];
    queue.push({ at: Math.max(performance.now() + delayMs, last?.at ?? 0), chunk });
    queuedBytes += chunk.length;
    if (queuedBytes > HIGH_WATER_BYTES) from.pause();
    if (!timer) timer = setTimeout(pump, delayMs);
  });
  from.on('end', () => {
    isEnded = true;
    if (!timer) timer = setTimeout(pump, delayMs);
  });
  return () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
  };
};

/** Listens on a free port of 127.0.0.1 and forwards to target, `delayMs` each way. */
export const startLatencyProxy = async (targetPort: number, delayMs: number): Promise<LatencyProxy> => {
  const sockets = new Set<net.Socket>();
  const cleanups = new Set<() => void>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    sockets.add(client);
    sockets.add(upstream);
    const stopA = pipeDelayed(client, upstream, delayMs);
    const stopB = pipeDelayed(upstream, client, delayMs);
    cleanups.add(stopA);
    cleanups.add(stopB);
    const close = (): void => {
      stopA();
      stopB();
      cleanups.delete(stopA);
      cleanups.delete(stopB);
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', () => setTimeout(close, delayMs + 5));
    upstream.on('close', () => setTimeout(close, delayMs + 5));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('latency proxy has no port');
  return {
    port: address.port,
    stop: async () => {
      for (const c of cleanups) c();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
