/** A job report as CSV (one row per folder and per failed message) or as a standalone HTML page. */
import type { AppJobReport } from '../contract/ipc.js';

/** 'new account' or 'archive (mbox)': where a report row went. */
const targetText = (report: AppJobReport, target: 'account' | 'archive' | undefined): string =>
  target === 'archive' ? `archive${report.archive ? ` (${report.archive.format})` : ''}` : 'new account';

/**
 * A cell a spreadsheet would read as a formula: one beginning with `=`, `+`, `-` or `@`, their
 * full-width forms (Excel and LibreOffice fold `＝` to `=`), a tab or a line break (OWASP's CSV
 * injection rule). Subjects and server messages are chosen by whoever sent the mail.
 */
const FORMULA_START = /^[=+\-@\t\r\n\uFF1D\uFF0B\uFF0D\uFF20]/;

/** One CSV cell: a would-be formula gets a leading `'` (shown as text, not evaluated), then RFC 4180 quoting. */
export const csvCell = (value: string | number | boolean | undefined): string => {
  const text = value === undefined ? '' : String(value);
  const safe = FORMULA_START.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
};

export const reportToCsv = (report: AppJobReport): string => {
  const rows: (string | number | boolean | undefined)[][] = [
    ['kind', 'source folder', 'goes to', 'destination folder', 'status', 'expected', 'copied', 'already there', 'skipped', 'failed', 'complete', 'uid', 'subject', 'date', 'reason', 'server said'],
  ];
  for (const f of report.folders) {
    rows.push(['folder', f.sourcePath, targetText(report, f.target), f.destinationPath, f.status, f.expected, f.copied, f.alreadyThere, f.skipped, f.failed.length, f.isComplete, '', '', '', f.error?.message, f.error?.serverText]);
    for (const m of f.failed) {
      rows.push(['message', f.sourcePath, targetText(report, f.target), f.destinationPath, 'failed', '', '', '', '', '', '', m.uid, m.subject, m.date, m.error.message, m.error.serverText]);
    }
  }
  return rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
};

/** Text for HTML: markup characters as entities, so a subject or folder name shows as text. */
export const escapeHtml = (value: string | number | undefined): string =>
  String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

export const reportToHtml = (report: AppJobReport): string => {
  const folderRows = report.folders
    .map(
      (f) =>
        `<tr class="${f.isComplete ? 'ok' : 'bad'}"><td>${escapeHtml(f.sourcePath)}</td><td>${escapeHtml(targetText(report, f.target))}</td><td>${escapeHtml(f.destinationPath)}</td><td>${escapeHtml(f.isComplete ? 'complete' : f.status)}</td><td>${f.expected}</td><td>${f.copied}</td><td>${f.alreadyThere}</td><td>${f.skipped}</td><td>${f.failed.length}</td></tr>`,
    )
    .join('\n');
  const failures = report.folders.flatMap((f) =>
    f.failed.map(
      (m) => `<tr><td>${escapeHtml(f.sourcePath)}</td><td>${escapeHtml(m.subject)}</td><td>${escapeHtml(m.date)}</td><td>${escapeHtml(m.error.message)}</td><td>${escapeHtml(m.error.serverText)}</td></tr>`,
    ),
  );
  const t = report.totals;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Mailferry report</title>
<style>body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1d2330}table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{border-bottom:1px solid #dde2ea;padding:.4rem .6rem;text-align:left}th{background:#f3f5f9}tr.bad td{background:#fff4f2}</style>
</head><body>
<h1>Mailferry report</h1>
<p>Job ${escapeHtml(report.jobId)}, ${escapeHtml(new Date(report.startedAt).toISOString())} to ${escapeHtml(new Date(report.finishedAt).toISOString())}: <strong>${escapeHtml(report.status)}</strong>.</p>
<p>Expected ${t.expected}, copied ${t.copied}, already there ${t.alreadyThere}, skipped ${t.skipped}, failed ${t.failed}.</p>
<table><thead><tr><th>Source folder</th><th>Goes to</th><th>Destination folder</th><th>Status</th><th>Expected</th><th>Copied</th><th>Already there</th><th>Skipped</th><th>Failed</th></tr></thead><tbody>
${folderRows}
</tbody></table>
${failures.length ? `<h2>Messages that could not be moved</h2><table><thead><tr><th>Folder</th><th>Subject</th><th>Date</th><th>Reason</th><th>Server said</th></tr></thead><tbody>\n${failures.join('\n')}\n</tbody></table>` : '<p>Every message arrived.</p>'}
</body></html>
`;
};
