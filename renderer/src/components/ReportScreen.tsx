/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { useAppStore, useAppStoreApi } from '../store/context.js';
import type { AppFailedMessage as FailedMessage, AppFolderReport as FolderReport } from '../../../src/contract/ipc.js';
import { rowKey } from '../store/types.js';
import { TargetTag } from './MoveScreen.js';
import { formatLabel } from './ArchiveFormatOptions.js';
import { formatBytes, formatCount, formatDateTime } from '../lib/format.js';
import { errorTitle } from '../lib/errors.js';
import { Icon } from './Icons.js';
import { LogView } from './LogView.js';
import { ScreenTitle } from './ScreenTitle.js';

export function ReportScreen() {
  const report = useAppStore((s) => s.report);
  const isPending = useAppStore((s) => s.isActionPending);
  const { retryFailed, exportReport, saveEml, runAgain, goTo, loadReport } = useAppStoreApi().getState();

  if (report === null) {
    return (
      <section className="screen" aria-labelledby="report-title">
        <ScreenTitle id="report-title">Report</ScreenTitle>
        <p className="loading" role="status">
          <span className="spinner" aria-hidden="true" /> Putting the report together…
        </p>
        <button type="button" className="button" onClick={() => void loadReport()}>
          Load again
        </button>
      </section>
    );
  }

  const { totals } = report;
  // Failed messages carry the target of the folder row they belong to.
  const failures: FailedMessage[] = report.folders.flatMap((f) => f.failed.map((m) => ({ ...m, target: f.target })));
  const showTarget = report.folders.some((f) => f.target === 'archive');
  const incomplete = report.folders.filter((f) => !f.isComplete);
  const isAllGood = totals.failed === 0 && incomplete.length === 0;

  return (
    <section className="screen" aria-labelledby="report-title">
      <div className="screen-intro report-intro">
        <div>
          <ScreenTitle id="report-title">{isAllGood ? 'Everything arrived' : 'Report: some mail did not arrive'}</ScreenTitle>
          <p className="lead">
            {isAllGood
              ? `Every selected folder was checked ${showTarget ? `where it went (${report.folders.some((f) => (f.target ?? 'account') === 'account') ? 'the new account and ' : ''}the ${report.archive ? `${formatLabel(report.archive.format)} ` : ''}archive${report.archive ? ` in ${report.archive.path}` : ''})` : 'on the new account'} and holds all its messages. ${formatBytes(totals.bytesCopied)} copied.`
              : `${formatCount(totals.failed)} ${totals.failed === 1 ? 'message' : 'messages'} could not be copied${incomplete.length > 0 ? ` and ${incomplete.length} ${incomplete.length === 1 ? 'folder is' : 'folders are'} incomplete` : ''}. Nothing was deleted anywhere; you can retry them or save them as files.`}
          </p>
        </div>
        <div className="report-actions">
          <button type="button" className="button primary" disabled={isPending || (totals.failed === 0 && incomplete.length === 0)} onClick={() => void retryFailed()}>
            <Icon name="retry" /> Retry failed only
          </button>
          <button type="button" className="button" onClick={() => void exportReport('csv')}>
            Export CSV
          </button>
          <button type="button" className="button" onClick={() => void exportReport('html')}>
            Export HTML
          </button>
        </div>
      </div>

      <dl className="totals">
        <Total label="Expected" value={totals.expected} />
        <Total label="Copied" value={totals.copied} tone="ok" />
        <Total label="Already there" value={totals.alreadyThere} />
        <Total label="Skipped" value={totals.skipped} />
        <Total label="Failed" value={totals.failed} tone={totals.failed > 0 ? 'warn' : undefined} />
      </dl>

      <div className="table-wrap card">
        <table className="report-table">
          <caption className="visually-hidden">Result per folder</caption>
          <thead>
            <tr>
              <th scope="col">Folder</th>
              <th scope="col" className="num">Expected</th>
              <th scope="col" className="num">Copied</th>
              <th scope="col" className="num">Already there</th>
              <th scope="col" className="num">Skipped</th>
              <th scope="col" className="num">Failed</th>
              <th scope="col">Result</th>
            </tr>
          </thead>
          <tbody>
            {report.folders.map((f) => (
              <FolderReportRow key={rowKey(f)} folder={f} showTarget={showTarget} />
            ))}
          </tbody>
        </table>
      </div>

      {failures.length > 0 && (
        <>
          <h2 className="section-title">Messages that could not be copied</h2>
          <div className="table-wrap card">
            <table className="report-table failures">
              <caption className="visually-hidden">Failed messages</caption>
              <thead>
                <tr>
                  <th scope="col">Subject</th>
                  <th scope="col">Date</th>
                  <th scope="col">Folder</th>
                  <th scope="col">Reason</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {failures.map((m) => (
                  <tr key={`${rowKey(m)}\u0000${m.uid}`} data-uid={m.uid}>
                    <td>{m.subject || <span className="muted">(no subject)</span>}</td>
                    <td className="nowrap">{formatDateTime(m.date)}</td>
                    <td>
                      {m.sourcePath}
                      {showTarget && <span className="muted small block">{m.target === 'archive' ? 'to the archive' : 'to the new account'}</span>}
                    </td>
                    <td>
                      <strong>{errorTitle(m.error, m.target)}.</strong> {m.error.serverText ? `The server said: “${m.error.serverText}”` : m.error.message}
                    </td>
                    <td>
                      <button type="button" className="button small" onClick={() => void saveEml(m)} aria-label={`Save “${m.subject ?? 'message'}” as a file`}>
                        Save .eml
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}

      <div className="screen-actions">
        <p className="muted">Later, run the same move again: only mail that arrived since is copied.</p>
        <button type="button" className="button" onClick={() => goTo('folders')}>
          Change folders
        </button>
        <button type="button" className="button" disabled={isPending} onClick={() => void runAgain()}>
          Run again for new mail
        </button>
      </div>
      <LogView />
    </section>
  );
}

function Total({ label, value, tone }: { label: string; value: number; tone?: 'ok' | 'warn' | undefined }) {
  return (
    <div className={`total ${tone ? `total-${tone}` : ''}`}>
      <dt>{label}</dt>
      <dd>{formatCount(value)}</dd>
    </div>
  );
}

function FolderReportRow({ folder, showTarget }: { folder: FolderReport; showTarget: boolean }) {
  return (
    <tr data-path={folder.sourcePath} data-target={folder.target ?? 'account'}>
      <th scope="row">
        {folder.sourcePath}
        {showTarget ? (
          <span className="block">
            <TargetTag target={folder.target} destinationPath={folder.destinationPath} sourcePath={folder.sourcePath} />
          </span>
        ) : (
          folder.destinationPath !== folder.sourcePath && <span className="muted small block">→ {folder.destinationPath}</span>
        )}
      </th>
      <td className="num">{formatCount(folder.expected)}</td>
      <td className="num">{formatCount(folder.copied)}</td>
      <td className="num">{formatCount(folder.alreadyThere)}</td>
      <td className="num">{formatCount(folder.skipped)}</td>
      <td className="num">{formatCount(folder.failed.length)}</td>
      <td>
        {folder.isComplete ? (
          <span className="pill pill-ok">
            <Icon name="check" /> Verified
          </span>
        ) : (
          <span className="pill pill-warn">{folder.error ? errorTitle(folder.error, folder.target) : 'Incomplete'}</span>
        )}
      </td>
    </tr>
  );
}
