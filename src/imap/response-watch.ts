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

/** Tags of commands imapflow sent and has not seen answered (it runs one at a time; a few at most). */
const MAX_OPEN_TAGS = 64;

/**
 * A logger for ImapFlow that counts the untagged responses of each command and calls
 * `onOverrun` once, with the WireProtocolError, when a command gets more than it may. The
 * caller closes the connection there. It logs nothing.
 *
 * imapflow logs what it sends (`src: 'c'`, the command with its tag first) and every response it
 * reads (`src: 's'`), at error level the lines it cannot parse (which it skips). A tagged line
 * starts a command's allowance afresh only when it answers a command imapflow sent; junk, and
 * tagged lines for no command, are counted like untagged ones.
 */
export const createResponseWatch = (onOverrun: (error: WireProtocolError) => void): Logger => {
  const budget = new UntaggedBudget();
  const openTags = new Set<string>();
  let isOver = false;
  const count = (msg: string): void => {
    try {
      budget.count(msg, msg.length);
    } catch (e) {
      isOver = true;
      onOverrun(e as WireProtocolError);
    }
  };
  const watch = (entry: unknown, isUnparsed = false): void => {
    if (isOver || !entry || typeof entry !== 'object') return;
    const { src, msg } = entry as LogEntry;
    if (typeof msg !== 'string') return;
    const tag = /^(\S+) /.exec(msg)?.[1];
    if (src === 'c') {
      if (tag && tag !== '(*' && openTags.size < MAX_OPEN_TAGS) openTags.add(tag);
      return;
    }
    if (src !== 's') return;
    if (!isUnparsed && tag !== undefined && openTags.delete(tag)) {
      budget.reset();
      return;
    }
    count(msg);
  };
  const ignore = (): void => undefined;
  return { trace: (e: unknown) => watch(e), debug: (e: unknown) => watch(e), info: ignore, warn: ignore, error: (e: unknown) => watch(e, true), fatal: ignore };
};
