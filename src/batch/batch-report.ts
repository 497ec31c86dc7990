/**
 * The batch report, one line per mailbox, as CSV (for a spreadsheet or a script) and as a
 * standalone HTML page. Cells a spreadsheet would evaluate are neutralised as in the job report
 * (folder names and server words come from whoever runs the servers); HTML shows text as text.
 */
import type { MailboxSummary } from '../contract/batch.js';
import { csvCell, escapeHtml } from '../service/report-export.js';

/** The CSV columns, in order. */
export const BATCH_REPORT_COLUMNS = ['id', 'row', 'status', 'messages', 'bytes', 'refused', 'needs_attention_folders', 'duration_s', 'reason'] as const;

const cellsOf = (m: MailboxSummary): (string | number)[] => [m.id, m.row, m.status, m.messages, m.bytes, m.refused, m.needsAttentionFolders.join(';'), m.durationS, m.reason ?? ''];

/** The batch report as CSV: the header, then one line per mailbox. */
export const batchReportToCsv = (mailboxes: readonly MailboxSummary[]): string =>
  [BATCH_REPORT_COLUMNS as readonly (string | number)[], ...mailboxes.map(cellsOf)].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';

const STATUS_TEXT: Record<MailboxSummary['status'], string> = { verified: 'verified', failed: 'failed', 'needs-attention': 'needs attention', 'not-run': 'not run' };

/** The batch report as a standalone web page. */
export const batchReportToHtml = (mailboxes: readonly MailboxSummary[], finishedAt: number): string => {
  const count = (status: MailboxSummary['status']): number => mailboxes.filter((m) => m.status === status).length;
  const rows = mailboxes
    .map(
      (m) =>
        `<tr class="${m.status}"><td>${escapeHtml(m.id)}</td><td>${m.row}</td><td>${escapeHtml(STATUS_TEXT[m.status])}</td><td>${m.messages}</td><td>${m.bytes}</td><td>${m.refused}</td><td>${escapeHtml(m.needsAttentionFolders.join('; '))}</td><td>${m.durationS}</td><td>${escapeHtml(m.reason)}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Mailferry batch report</title>
<style>body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1d2330}table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{border-bottom:1px solid #dde2ea;padding:.4rem .6rem;text-align:left;vertical-align:top}th{background:#f3f5f9}tr.failed td,tr.needs-attention td{background:#fff4f2}tr.not-run td{color:#5a6372}</style>
</head><body>
<h1>Mailferry batch report</h1>
<p>${escapeHtml(new Date(finishedAt).toISOString())}: ${mailboxes.length} mailboxes, ${count('verified')} verified, ${count('needs-attention')} need attention, ${count('failed')} failed, ${count('not-run')} not run.</p>
<table><thead><tr><th>Id</th><th>Row</th><th>Status</th><th>Messages</th><th>Bytes</th><th>Refused</th><th>Folders needing attention</th><th>Seconds</th><th>Reason</th></tr></thead><tbody>
${rows}
</tbody></table>
</body></html>
`;
};
