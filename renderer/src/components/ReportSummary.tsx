/** @jsxRuntime automatic */
/** @jsxImportSource react */
import type { AppJobReport } from '../../../src/contract/ipc.js';
import { formatBytes, formatCount } from '../lib/format.js';

/** The report's categories, each with the sentence that says what it means. */
export const CATEGORIES = [
  { key: 'copied', label: 'Copied', line: 'Sent to the new place by this move and found there when it was checked.' },
  { key: 'alreadyThere', label: 'Already there', line: 'Found on the new account already (the same message), so not sent a second time.' },
  { key: 'skipped', label: 'Skipped', line: 'Left out on purpose: marked as deleted on the old account, waiting to be purged there.' },
  { key: 'failed', label: 'Failed', line: 'Could not be copied; each one is listed below with the reason. Nothing was deleted anywhere.' },
] as const;

/** "Already there" names where it looked: the new account, the archive, or both. */
export function alreadyThereLine(report: AppJobReport): string {
  const hasAccount = report.folders.some((f) => (f.target ?? 'account') === 'account');
  const hasArchive = report.folders.some((f) => f.target === 'archive');
  const where = hasAccount && hasArchive ? 'where it goes (the new account or the archive)' : hasArchive ? 'in the archive' : 'on the new account';
  return `Found ${where} already (the same message), so not sent a second time.`;
}

/** Messages too large for the new account, kept in the local archive the person chose (set-aside-oversized.ts). */
export const ARCHIVED_LINE = 'Too large for the new account, so never sent there: kept in the local archive you chose instead, and counted as done.';

export type CategoryKey = (typeof CATEGORIES)[number]['key'];

export interface CategoryFigures {
  messages: number;
  /** Undefined where the size is not known (skipped messages are never read). */
  bytes: number | undefined;
}

/** Messages and bytes per category, summed over the report's folders. */
export function reportFigures(report: AppJobReport): Record<CategoryKey, CategoryFigures> & { surplus: number; expected: number; archived: number } {
  const sum = (pick: (f: AppJobReport['folders'][number]) => number | undefined): number => report.folders.reduce((n, f) => n + (pick(f) ?? 0), 0);
  const hasBytes = report.folders.every((f) => f.copiedBytes !== undefined);
  return {
    expected: report.totals.expected,
    copied: { messages: report.totals.copied, bytes: hasBytes ? sum((f) => f.copiedBytes) : report.totals.bytesCopied },
    alreadyThere: { messages: report.totals.alreadyThere, bytes: hasBytes ? sum((f) => f.alreadyThereBytes) : undefined },
    skipped: { messages: report.totals.skipped, bytes: undefined },
    failed: { messages: report.totals.failed, bytes: sum((f) => f.failed.reduce((n, m) => n + (m.sizeBytes ?? 0), 0)) },
    surplus: sum((f) => f.surplus),
    archived: sum((f) => f.archived),
  };
}

/**
 * The report at a glance: one bar by size (copied, already there, failed), and each category
 * with its count, its size and one sentence. Skipped messages are never read, so they have a
 * count but no size and no part of the bar.
 */
export function ReportSummary({ report }: { report: AppJobReport }) {
  const figures = reportFigures(report);
  const sized = CATEGORIES.filter((c) => (figures[c.key].bytes ?? 0) > 0);
  const totalBytes = sized.reduce((n, c) => n + (figures[c.key].bytes ?? 0), 0);
  return (
    <section className="card report-summary" aria-labelledby="report-summary-title" data-testid="report-summary">
      <h2 id="report-summary-title">What happened, by size</h2>
      <div className="size-stack" role="img" aria-label={sized.map((c) => `${c.label}: ${formatBytes(figures[c.key].bytes ?? 0)}`).join(', ') || 'Nothing to draw'}>
        {sized.map((c) => (
          <span key={c.key} className={`stack-part stack-${c.key}`} data-category={c.key} style={{ width: `${((figures[c.key].bytes ?? 0) / totalBytes) * 100}%` }} />
        ))}
      </div>
      <dl className="category-list">
        <div className="category category-expected">
          <dt>Expected</dt>
          <dd>
            <span className="category-figure">{formatCount(figures.expected)} messages</span>
            <span className="category-line">In the chosen folders on the old account when the move checked them.</span>
          </dd>
        </div>
        {CATEGORIES.map((c) => (
          <div key={c.key} className={`category category-${c.key}`} data-category={c.key}>
            <dt>
              <span className={`swatch stack-${c.key}`} aria-hidden="true" /> {c.label}
            </dt>
            <dd>
              <span className="category-figure">
                {formatCount(figures[c.key].messages)} {figures[c.key].messages === 1 ? 'message' : 'messages'}
                {figures[c.key].bytes !== undefined && figures[c.key].messages > 0 && <span className="category-bytes">{formatBytes(figures[c.key].bytes!)}</span>}
              </span>
              <span className="category-line">{c.key === 'alreadyThere' ? alreadyThereLine(report) : c.line}</span>
            </dd>
          </div>
        ))}
        {figures.archived > 0 && (
          <div className="category category-archived" data-category="archived">
            <dt>
              <span className="swatch stack-archived" aria-hidden="true" /> Saved to the archive instead
            </dt>
            <dd>
              <span className="category-figure">
                {formatCount(figures.archived)} {figures.archived === 1 ? 'message' : 'messages'}
              </span>
              <span className="category-line">{ARCHIVED_LINE}</span>
            </dd>
          </div>
        )}
        {figures.surplus > 0 && (
          <div className="category category-surplus" data-category="surplus">
            <dt>Extra copies</dt>
            <dd>
              <span className="category-figure">{formatCount(figures.surplus)} on the new account</span>
              <span className="category-line">
                Messages that arrived twice after a connection broke mid-upload. Mailferry never deletes anything; remove the extra copies in your mail program if you want.
              </span>
            </dd>
          </div>
        )}
      </dl>
    </section>
  );
}
