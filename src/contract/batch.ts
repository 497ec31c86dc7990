/**
 * A batch: many mailboxes moved in one run, one row of a users CSV each (`mailferry batch`, and
 * the app's screen for IT staff). Shared by the engine, the command line and the app.
 */

/** How one mailbox of a batch ended, as the report says it. */
export type MailboxOutcome = 'verified' | 'failed' | 'needs-attention' | 'not-run';

/** Where a mailbox of a batch is now. */
export type MailboxStatus = 'waiting' | 'running' | MailboxOutcome;

/** Mailbox outcomes that count as a success of the batch (exit status 0 only if every row has one). */
export const MAILBOX_SUCCESS: ReadonlySet<MailboxOutcome> = new Set<MailboxOutcome>(['verified']);

/**
 * Something wrong with a users CSV, found before anything starts. `row` is the data row (1 = the
 * first row after the header) and `line` the file line; both are absent for the file as a whole.
 */
export interface BatchInputProblem {
  row?: number;
  line?: number;
  /** The column concerned, when one is. */
  column?: string;
  /** One sentence; never the value of a cell that could hold a secret. */
  reason: string;
}

/** One mailbox of a batch as a person sees it: no secret, only where from and where to. */
export interface BatchMailbox {
  id: string;
  /** The data row (1 = the first row after the header). */
  row: number;
  /** The file line the row starts on. */
  line: number;
  source: string;
  destination: string;
}

/** One line of the batch report (CSV and HTML): how one mailbox ended. */
export interface MailboxSummary {
  id: string;
  row: number;
  status: MailboxOutcome;
  /** Messages of the mailbox on the destination, verified or copied (this run or an earlier one). */
  messages: number;
  /** Bytes of those messages. */
  bytes: number;
  /** Messages the destination refused, or that the source could not deliver intact. */
  refused: number;
  /** Folders that ended without being verified. */
  needsAttentionFolders: string[];
  /** Wall time of this mailbox in this run. */
  durationS: number;
  /** One plain sentence for anything not verified. */
  reason?: string;
}

/** A mailbox's progress in a running batch: absolute numbers, so a lost or repeated event harms nothing. */
export interface MailboxProgress {
  id: string;
  row: number;
  status: MailboxStatus;
  messagesDone: number;
  messagesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  /** The engine job of this mailbox, once it has one (the app opens its folders by it). */
  jobId?: string;
  /** Present once the mailbox has ended. */
  summary?: MailboxSummary;
}
