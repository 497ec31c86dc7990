/** Job reports for tests of what shows them (CLI text, CSV, HTML): one failed message per folder, with the texts given. */
import type { AppJobReport } from '../../src/contract/ipc.js';

/** Texts a report row carries that come from a server or an archive. */
export interface ReportTexts {
  folder: string;
  subject: string;
  server: string;
  reason: string;
}

/** A finished job with one incomplete folder per entry, each with one failed message (UID 7). */
export const reportWithFailures = (texts: ReportTexts[]): AppJobReport => ({
  jobId: 'job1',
  startedAt: 0,
  finishedAt: 1000,
  status: 'done',
  totals: { expected: texts.length, copied: 0, alreadyThere: 0, skipped: 0, failed: texts.length, bytesCopied: 0 },
  folders: texts.map((t) => ({
    sourcePath: t.folder,
    destinationPath: t.folder,
    status: 'incomplete',
    expected: 1,
    copied: 0,
    alreadyThere: 0,
    skipped: 0,
    isComplete: false,
    error: { kind: 'rejected', message: t.reason, retryable: false, serverText: t.server },
    failed: [{ sourcePath: t.folder, uid: 7, uidValidity: '1', subject: t.subject, date: t.subject, error: { kind: 'rejected', message: t.reason, retryable: false, serverText: t.server } }],
  })),
});
