/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { useAppStore, useAppStoreApi } from '../store/context.js';
import type { AppFailedMessage as FailedMessage, AppFolderReport as FolderReport } from '../../../src/contract/ipc.js';
import { rowKey } from '../store/types.js';
import { TargetTag } from './MoveScreen.js';
import { formatLabel } from './ArchiveFormatOptions.js';
import { formatBytes, formatCount, formatDateTime, plural } from '../lib/format.js';
import { decodeMimeWords } from '../lib/mime-words.js';
import { errorHeading } from '../lib/errors.js';
import { retryAdvice } from '../lib/move-groups.js';
import { Icon } from './Icons.js';
import { LogView } from './LogView.js';
import { ScreenTitle } from './ScreenTitle.js';
import { ActionBar } from './ActionBar.js';
import { ReportSummary } from './ReportSummary.js';

/** Whether "Retry failed only" can do anything: some failure or unfinished folder may pass next time. */
export function canRetryReport(report: { folders: FolderReport[] }): boolean {
  return report.folders.some((f) => {
    if (f.isComplete) return false;
    if (f.failed.length === 0) return retryAdvice(f.error).canRetry;
    return f.failed.some((m) => retryAdvice(m.error).canRetry);
  });
}

export function ReportScreen() {
  const report = useAppStore((s) => s.report);
  const isPending = useAppStore((s) => s.isActionPending);
  const isRestore = useAppStore((s) => s.sourceKind === 'archive');
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
  const canRetry = canRetryReport(report);
  const archived = report.folders.reduce((n, f) => n + (f.archived ?? 0), 0);
  const archivedText = archived > 0 ? ` ${plural(archived, 'message')} too large for the new account ${archived === 1 ? 'was' : 'were'} saved to your local archive instead.` : '';
  const whyNoRetry = !isAllGood && !canRetry ? 'A retry cannot help here: the new server refuses these messages as they are (for example, too large for it). Save them as files instead; the old account keeps them too.' : undefined;

  return (
    <section className="screen" aria-labelledby="report-title">
      <div className="screen-intro">
        <ScreenTitle id="report-title">{isAllGood ? 'Everything arrived' : 'Report: some mail did not arrive'}</ScreenTitle>
        <p className="lead">
          {isAllGood
            ? `Every selected folder was checked ${showTarget ? `where it went (${report.folders.some((f) => (f.target ?? 'account') === 'account') ? 'the new account and ' : ''}the ${report.archive ? `${formatLabel(report.archive.format)} ` : ''}archive${report.archive ? ` in ${report.archive.path}` : ''})` : 'on the new account'} and holds all its messages.${archivedText} ${formatBytes(totals.bytesCopied)} ${archived > 0 ? 'moved in all, those included' : 'copied'}.`
            : `${formatCount(totals.failed)} ${totals.failed === 1 ? 'message' : 'messages'} could not be copied${incomplete.length > 0 ? ` and ${incomplete.length} ${incomplete.length === 1 ? 'folder is' : 'folders are'} incomplete` : ''}. Nothing was deleted anywhere; ${canRetry ? 'you can retry them or save them as files' : 'you can save them as files'}.`}
        </p>
      </div>

      <ReportSummary report={report} />

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
              {archived > 0 && (
                <th scope="col" className="num">
                  Saved to archive
                </th>
              )}
              <th scope="col">Result</th>
            </tr>
          </thead>
          <tbody>
            {report.folders.map((f) => (
              <FolderReportRow key={rowKey(f)} folder={f} showTarget={showTarget} isRestore={isRestore} showArchived={archived > 0} />
            ))}
          </tbody>
        </table>
      </div>

      {failures.length > 0 && (
        <>
          <h2 className="section-title">Messages that could not be copied</h2>
          <p className="muted small">Each one is still on the old account. “Save as a file” keeps a copy on this computer (an .eml file any mail program opens).</p>
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
                {failures.map((m) => {
                  const advice = retryAdvice(m.error);
                  return (
                    <tr key={`${rowKey(m)}\u0000${m.uid}`} data-uid={m.uid}>
                      <td>{m.subject ? decodeMimeWords(m.subject) : <span className="muted">(no subject)</span>}</td>
                      <td className="nowrap">{formatDateTime(m.date)}</td>
                      <td>
                        {m.sourcePath}
                        {showTarget && <span className="muted small block">{m.target === 'archive' ? 'to the archive' : 'to the new account'}</span>}
                      </td>
                      <td>
                        <strong>{errorHeading(m.error, { target: m.target, isRestore })}.</strong> {m.error.serverText ? `The server said: “${m.error.serverText}”` : m.error.message}
                        {m.sizeBytes !== undefined && <span className="muted small block">Size: {formatBytes(m.sizeBytes)}</span>}
                        <span className="muted small block">{advice.canRetry ? 'A retry may get it through.' : 'A retry cannot help with this one.'}</span>
                      </td>
                      <td>
                        <button type="button" className="button small" onClick={() => void saveEml(m)} aria-label={`Save “${m.subject ? decodeMimeWords(m.subject) : 'message'}” as a file (.eml)`}>
                          Save as a file
                        </button>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </>
      )}

      <LogView />

      <ActionBar
        label="Report actions"
        summary={
          <>
            <p>{isAllGood ? 'Later, run the same move again: only mail that arrived since is copied.' : canRetry ? 'Retry sends only what failed; what arrived stays.' : whyNoRetry}</p>
            <p className="muted small">
              Export the report:{' '}
              <button type="button" className="button-link" onClick={() => void exportReport('csv')}>
                Export CSV
              </button>{' '}
              ·{' '}
              <button type="button" className="button-link" onClick={() => void exportReport('html')}>
                Export HTML
              </button>
            </p>
          </>
        }
      >
        <button type="button" className="button" onClick={() => goTo('folders')}>
          Change folders
        </button>
        {!isAllGood && canRetry && (
          <>
            <button type="button" className="button" disabled={isPending} onClick={() => void runAgain()}>
              Run again for new mail
            </button>
            <button type="button" className="button primary" disabled={isPending} onClick={() => void retryFailed()}>
              <Icon name="retry" /> Retry failed only
            </button>
          </>
        )}
        {(isAllGood || !canRetry) && (
          <button type="button" className="button primary" disabled={isPending} onClick={() => void runAgain()}>
            Run again for new mail
          </button>
        )}
      </ActionBar>
    </section>
  );
}

function FolderReportRow({ folder, showTarget, isRestore, showArchived }: { folder: FolderReport; showTarget: boolean; isRestore: boolean; showArchived: boolean }) {
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
      {showArchived && <td className="num">{formatCount(folder.archived ?? 0)}</td>}
      <td>
        {folder.isComplete && !folder.surplus ? (
          <span className="pill pill-ok">
            <Icon name="check" /> Verified
          </span>
        ) : (
          <span className="pill pill-warn">{folder.error ? errorHeading(folder.error, { target: folder.target, isRestore }) : folder.surplus ? `${formatCount(folder.surplus)} extra copies` : 'Incomplete'}</span>
        )}
      </td>
    </tr>
  );
}
