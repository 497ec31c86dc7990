/**
 * What the app saves for the person: a job's report exported as CSV or HTML, and a message that
 * could not be moved saved as an .eml file (read again from the source, never kept in between).
 * Files are written whole (src/fs/write-file-atomic.ts) and readable by the user only.
 */
import type { AppJobReport } from '../contract/ipc.js';
import { err, migrationError, ok } from '../contract/result.js';
import { writeFileAtomic } from '../fs/write-file-atomic.js';
import { loadJobRecord } from '../jobs/job-records.js';
import type { AccountService } from './account-service.js';
import type { ChannelHandlers } from './channel-handlers.js';
import { reportToCsv, reportToHtml } from './report-export.js';
import { joinedBytes } from '../engine/message-bytes.js';

/** What the report concern needs: reports, the source (for .eml), a save dialog. */
export interface ReportServiceDeps {
  stateDir: string;
  accounts: Pick<AccountService, 'jobEnds'>;
  reportOf(jobId: string): Promise<AppJobReport | undefined>;
  /** Asks where to save a file (a dialog in the app); returns the chosen path or undefined if cancelled. */
  chooseSavePath(suggestedName: string): Promise<string | undefined>;
}

/** The channels the report concern answers. */
export type ReportChannel = 'reports:export' | 'messages:saveEml';

/** The report concern. */
export const createReportService = (deps: ReportServiceDeps): ChannelHandlers<ReportChannel> => ({
  async 'reports:export'({ jobId, format }) {
    const report = await deps.reportOf(jobId);
    if (!report) return err(migrationError('not-found', 'There is no report for this move yet.'));
    const target = await deps.chooseSavePath(`mailferry-report-${new Date(report.finishedAt).toISOString().slice(0, 10)}.${format}`);
    if (!target) return err(migrationError('cancelled', 'Not saved.'));
    await writeFileAtomic(target, format === 'csv' ? reportToCsv(report) : reportToHtml(report));
    return ok({ path: target });
  },
  async 'messages:saveEml'({ jobId, sourcePath, uid }) {
    // A restore's messages are read from its archive; otherwise from the old account.
    const record = await loadJobRecord(deps.stateDir, jobId);
    const ends = await deps.accounts.jobEnds({ account: false, source: record?.sourceArchive });
    if (!ends.ok) return ends;
    const source = await ends.value.openSource();
    if (!source.ok) return source;
    try {
      const opened = await source.value.openFolder(sourcePath);
      if (!opened.ok) return opened;
      let body: Buffer | undefined;
      for await (const read of source.value.readBodies(sourcePath, [uid])) {
        if (!read.ok) return err(read.error);
        body = joinedBytes(read.body);
      }
      if (!body) return err(migrationError('not-found', 'The message is no longer on the source.'));
      const target = await deps.chooseSavePath(`message-${uid}.eml`);
      if (!target) return err(migrationError('cancelled', 'Not saved.'));
      await writeFileAtomic(target, body);
      return ok({ path: target });
    } finally {
      await source.value.close();
    }
  },
});
