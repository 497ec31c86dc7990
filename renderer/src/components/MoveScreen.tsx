/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { memo, useEffect, useState } from 'react';
import { FOLDER_PROBLEM_STATUSES, FOLDER_WAITING_STATUSES, type FolderStatus, type JobStatus } from '../../../src/contract/job.js';
import type { AppFolderProgress as FolderProgress, FolderTarget } from '../../../src/contract/ipc.js';
import { useAppStore, useAppStoreApi } from '../store/context.js';
import { rowKey, TERMINAL_JOB_STATUSES } from '../store/types.js';
import { formatBytes, formatCount, formatEta, formatPercent, formatSpeed, plural } from '../lib/format.js';
import { errorTitle } from '../lib/errors.js';
import { ProgressBar } from './ProgressBar.js';
import { ErrorBox } from './ErrorBox.js';
import { Icon } from './Icons.js';
import { LogView } from './LogView.js';
import { ScreenTitle } from './ScreenTitle.js';

const JOB_HEADLINE: Record<JobStatus, string> = {
  queued: 'Getting ready…',
  scanning: 'Looking at what is already there…',
  copying: 'Moving your mail',
  verifying: 'Checking that everything arrived…',
  paused: 'Paused',
  done: 'All done',
  'needs-attention': 'Finished, but some folders need a look',
  cancelled: 'Stopped',
};

/** Ticks once a second while something shows a countdown; otherwise stays still. */
function useNow(isTicking: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!isTicking) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [isTicking]);
  return now;
}

export function folderStateText(folder: FolderProgress, now: number): string {
  const labels: Record<FolderStatus, string> = {
    waiting: 'Waiting',
    scanning: 'Comparing',
    copying: 'Copying',
    retrying: 'Retrying',
    settling: 'Waiting for the server',
    verifying: 'Verifying',
    verified: 'Done · verified',
    incomplete: 'Incomplete',
    'needs-attention': 'Needs attention',
    paused: 'Paused',
    cancelled: 'Stopped',
  };
  if (folder.status === 'retrying' && folder.retryAt !== undefined) {
    const seconds = Math.max(0, Math.ceil((folder.retryAt - now) / 1000));
    return seconds > 0 ? `Retrying in ${seconds} s` : 'Retrying now';
  }
  if (folder.status === 'settling' && folder.settleUntil !== undefined) {
    const seconds = Math.max(0, Math.ceil((folder.settleUntil - now) / 1000));
    return seconds > 0 ? `Waiting ${seconds} s for the new server to finish an earlier upload` : 'Waiting for the server';
  }
  return labels[folder.status];
}

const TONE: Partial<Record<FolderStatus, 'ok' | 'warn' | 'idle'>> = {
  verified: 'ok',
  'needs-attention': 'warn',
  incomplete: 'warn',
  retrying: 'warn',
  settling: 'idle',
  waiting: 'idle',
  paused: 'idle',
  cancelled: 'idle',
};

export function MoveScreen() {
  const progress = useAppStore((s) => s.progress);
  const jobStatus = useAppStore((s) => s.jobStatus) ?? 'queued';
  const jobError = useAppStore((s) => s.jobError);
  const jobErrorTarget = useAppStore((s) => s.jobErrorTarget);
  const folderOrder = useAppStore((s) => s.folderOrder);
  const folders = useAppStore((s) => s.folders);
  const failures = useAppStore((s) => s.failures.length);
  const isPending = useAppStore((s) => s.isActionPending);
  const { pauseJob, resumeJob, cancelJob, retryFolder, showReport, runAgain, signInAgainAndResume } = useAppStoreApi().getState();
  const [isConfirmingCancel, setConfirmingCancel] = useState(false);
  const isFinished = TERMINAL_JOB_STATUSES.has(jobStatus);
  const isPaused = jobStatus === 'paused';
  // Pause and Resume share one place and keep the keyboard focus: they are never `disabled`
  // (a disabled button drops focus), only marked busy while the engine answers.
  const now = useNow(folderOrder.some((p) => folders[p] !== undefined && FOLDER_WAITING_STATUSES.has(folders[p].status)));

  const bytesDone = progress?.bytesDone ?? 0;
  const bytesTotal = progress?.bytesTotal ?? 0;
  const list = folderOrder.map((p) => folders[p]!).filter(Boolean);
  const verified = list.filter((f) => f.status === 'verified').length;
  const attention = list.filter((f) => FOLDER_PROBLEM_STATUSES.has(f.status)).length;
  // Rows name their destination once any of them goes to the archive.
  const showTarget = list.some((f) => f.target === 'archive');

  return (
    <section className="screen" aria-labelledby="move-title">
      <div className="card overall">
        <div className="overall-head">
          <div>
            <ScreenTitle id="move-title">{JOB_HEADLINE[jobStatus]}</ScreenTitle>
            <p className="muted" data-testid="overall-figures">
              {formatBytes(bytesDone)} of {formatBytes(bytesTotal)} · {formatCount(progress?.messagesDone ?? 0)} of{' '}
              {formatCount(progress?.messagesTotal ?? 0)} messages
            </p>
          </div>
          <p className="overall-percent" aria-hidden="true">
            {formatPercent(bytesDone, bytesTotal)}
          </p>
        </div>
        <ProgressBar done={bytesDone} total={bytesTotal} label="Overall progress" size="large" tone={isFinished ? (attention > 0 ? 'warn' : 'ok') : 'normal'} />
        <dl className="overall-stats">
          <div>
            <dt>Speed</dt>
            <dd>{isFinished || isPaused ? '—' : formatSpeed(progress?.bytesPerSecond ?? 0)}</dd>
          </div>
          <div>
            <dt>Time left</dt>
            <dd data-testid="eta">{isFinished ? 'none' : isPaused ? 'paused' : formatEta(progress?.etaSeconds)}</dd>
          </div>
          <div>
            <dt>Folders</dt>
            <dd>
              {verified} of {list.length} verified
              {attention > 0 && <span className="warn-text"> · {attention} need attention</span>}
            </dd>
          </div>
          <div>
            <dt>Failed messages</dt>
            <dd>{formatCount(failures)}</dd>
          </div>
        </dl>
        {jobError && (
          <ErrorBox error={jobError} target={jobErrorTarget}>
            {jobError.needsSignIn && (
              <div className="sign-in-again" data-testid="sign-in-again">
                <p>Your mail is safe and the move waits where it stopped. Sign in again and it goes on from there.</p>
                <button type="button" className="button primary" aria-disabled={isPending} onClick={() => !isPending && void signInAgainAndResume(jobError.needsSignIn!)}>
                  Sign in again and resume
                </button>
              </div>
            )}
          </ErrorBox>
        )}
        <div className="overall-actions">
          {!isFinished && (
            <>
              {isPaused ? (
                <button type="button" className="button primary" aria-disabled={isPending} onClick={() => !isPending && void resumeJob()}>
                  <Icon name="play" /> Resume
                </button>
              ) : (
                <button type="button" className="button" aria-disabled={isPending} onClick={() => !isPending && void pauseJob()}>
                  <Icon name="pause" /> Pause
                </button>
              )}
              {isConfirmingCancel ? (
                <span className="confirm" role="group" aria-label="Confirm stopping">
                  <span>Stop the move? What has arrived stays; you can run it again later.</span>
                  <button type="button" className="button danger" onClick={() => { setConfirmingCancel(false); void cancelJob(); }}>
                    Stop
                  </button>
                  <button type="button" className="button" onClick={() => setConfirmingCancel(false)}>
                    Keep going
                  </button>
                </span>
              ) : (
                <button type="button" className="button" disabled={isPending} onClick={() => setConfirmingCancel(true)}>
                  Cancel
                </button>
              )}
            </>
          )}
          {isFinished && (
            <>
              <button type="button" className="button primary" onClick={() => void showReport()}>
                See the report
              </button>
              <button type="button" className="button" disabled={isPending} onClick={() => void runAgain()}>
                Run again for new mail
              </button>
            </>
          )}
        </div>
        <p className="muted small awake-note">
          {isFinished
            ? 'Run it again any time: only mail that arrived since is copied.'
            : 'Your computer stays awake while mail is moving. You can close Mailferry; it offers to resume when opened again.'}
        </p>
      </div>

      <h2 className="section-title">Folders</h2>
      <ul className="folder-progress-list" aria-label="Progress per folder">
        {list.map((f) => (
          <FolderProgressRow key={rowKey(f)} folder={f} now={now} showTarget={showTarget} onRetry={() => void retryFolder(f.sourcePath, f.target)} />
        ))}
        {list.length === 0 && <li className="muted">Waiting for the first folder…</li>}
      </ul>
      <LogView />
    </section>
  );
}

type RowProps = { folder: FolderProgress; now: number; showTarget: boolean; onRetry(): void };

export const TARGET_LABEL: Record<FolderTarget, string> = { account: 'New account', archive: 'Archive' };

/** The destination of a row: "New account" or "Archive" with its icon, and the folder's name there. */
export function TargetTag({ target, destinationPath, sourcePath }: { target: FolderTarget | undefined; destinationPath: string; sourcePath: string }) {
  const t = target ?? 'account';
  return (
    <span className="target" data-target={t}>
      <span className={`tag target-tag target-${t}`}>
        <Icon name={t === 'archive' ? 'archive' : 'arrow'} /> {TARGET_LABEL[t]}
      </span>
      {destinationPath !== sourcePath && <span className="muted target-path">{destinationPath}</span>}
    </span>
  );
}

/**
 * Every progress event carries every folder as a new object; with thousands of folders, only rows
 * whose figures changed should render again (and the clock matters only to a retrying row).
 */
const isSameRow = (a: RowProps, b: RowProps): boolean => {
  const f = a.folder;
  const g = b.folder;
  return (
    f.status === g.status &&
    f.bytesDone === g.bytesDone &&
    f.bytesTotal === g.bytesTotal &&
    f.messagesDone === g.messagesDone &&
    f.messagesTotal === g.messagesTotal &&
    f.destinationPath === g.destinationPath &&
    f.target === g.target &&
    a.showTarget === b.showTarget &&
    f.retryAt === g.retryAt &&
    f.attempt === g.attempt &&
    f.lastError?.message === g.lastError?.message &&
    (!FOLDER_WAITING_STATUSES.has(f.status) || a.now === b.now)
  );
};

const FolderProgressRow = memo(function FolderProgressRow({ folder, now, showTarget, onRetry }: RowProps) {
  const stateText = folderStateText(folder, now);
  const where = showTarget ? ` (${TARGET_LABEL[folder.target ?? 'account'].toLowerCase()})` : '';
  const canRetry = FOLDER_PROBLEM_STATUSES.has(folder.status);
  return (
    <li className={`folder-progress status-${folder.status}`} data-path={folder.sourcePath} data-target={folder.target ?? 'account'} data-status={folder.status}>
      <div className="fp-head">
        <span className="fp-name">
          {folder.sourcePath}
          {showTarget && <TargetTag target={folder.target} destinationPath={folder.destinationPath} sourcePath={folder.sourcePath} />}
          {!showTarget && folder.destinationPath !== folder.sourcePath && (
            <span className="muted">
              {' '}
              <Icon name="arrow" className="arrow-icon" /> {folder.destinationPath}
            </span>
          )}
        </span>
        <span className={`pill pill-${TONE[folder.status] ?? 'normal'}`} data-testid="folder-state">
          {folder.status === 'verified' && <Icon name="check" />}
          {stateText}
        </span>
      </div>
      <ProgressBar
        // An empty folder that was verified is complete, not at 0%.
        done={folder.status === 'verified' && folder.bytesTotal === 0 ? 1 : folder.bytesDone}
        total={folder.status === 'verified' && folder.bytesTotal === 0 ? 1 : folder.bytesTotal}
        label={`${folder.sourcePath}${where}: ${stateText}`}
        tone={TONE[folder.status] ?? 'normal'}
      />
      <div className="fp-foot">
        <span className="muted small">
          {folder.messagesTotal === 0 && folder.bytesTotal === 0
            ? 'Empty folder'
            : `${formatCount(folder.messagesDone)} of ${plural(folder.messagesTotal, 'message')} · ${formatBytes(folder.bytesDone)} of ${formatBytes(folder.bytesTotal)}`}
        </span>
        {folder.lastError && (folder.status === 'retrying' || canRetry) && (
          <span className="fp-error small">
            {errorTitle(folder.lastError, folder.target)}
            {folder.attempt !== undefined && folder.status === 'retrying' ? ` (attempt ${folder.attempt})` : ''}
          </span>
        )}
        {canRetry && (
          <button type="button" className="button small" onClick={onRetry} aria-label={`Retry ${folder.sourcePath}${where}`}>
            <Icon name="retry" /> Retry
          </button>
        )}
      </div>
      {canRetry && folder.lastError && <p className="small fp-detail">{folder.lastError.message}</p>}
    </li>
  );
}, isSameRow);
