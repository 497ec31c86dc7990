/**
 * Holds imapflow to the same per-command allowance of untagged responses as the wire session
 * (server-limits.ts UntaggedBudget). imapflow bounds lines, literals and responses by its own
 * options, but collects every untagged answer of a command until the tagged one: an endless LIST
 * grew its memory and spun the CPU. It has no hook per response except its logger, which it
 * calls for every response it reads (`src: 's'`, the response as text), so the watch is a logger.
 */
import type { Logger } from 'imapflow';
import { UntaggedBudget, type WireProtocolError } from './server-limits.js';

interface LogEntry {
  src?: unknown;
  msg?: unknown;
}

/**
 * A logger for ImapFlow that counts the untagged responses of each command and calls
 * `onOverrun` once, with the WireProtocolError, when a command gets more than it may. The
 * caller closes the connection there. It logs nothing.
 */
export const createResponseWatch = (onOverrun: (error: WireProtocolError) => void): Logger => {
  const budget = new UntaggedBudget();
  let isOver = false;
  const watch = (entry: unknown): void => {
    if (isOver || !entry || typeof entry !== 'object') return;
    const { src, msg } = entry as LogEntry;
    if (src !== 's' || typeof msg !== 'string') return;
    if (!msg.startsWith('* ') && !msg.startsWith('+')) {
      // A tagged answer: the next command starts afresh.
      budget.reset();
      return;
    }
    try {
      budget.count(msg, msg.length);
    } catch (e) {
      isOver = true;
      onOverrun(e as WireProtocolError);
    }
  };
  const ignore = (): void => undefined;
  return { trace: watch, debug: watch, info: ignore, warn: ignore, error: ignore, fatal: ignore };
};
