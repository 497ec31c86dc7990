/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { memo, useEffect, useState, type ReactNode } from 'react';
import { FOLDER_WAITING_STATUSES, type FolderStatus, type JobStatus } from '../../../src/contract/job.js';
import type { AppFailedMessage, AppFolderProgress as FolderProgress, FolderTarget } from '../../../src/contract/ipc.js';
import type { MigrationError } from '../../../src/contract/result.js';
import { useAppStore, useAppStoreApi } from '../store/context.js';
import { rowKey, TERMINAL_JOB_STATUSES } from '../store/types.js';
import { formatBytes, formatCount, formatEta, formatPercent, formatSpeed, plural } from '../lib/format.js';
import { errorHeading } from '../lib/errors.js';
import { groupFolders, retryAdvice, shownStatus, type MoveGroup } from '../lib/move-groups.js';
import { ProgressBar } from './ProgressBar.js';
import { ErrorBox } from './ErrorBox.js';
import { Icon } from './Icons.js';
import { LogView } from './LogView.js';
import { ScreenTitle } from './ScreenTitle.js';
import { ActionBar } from './ActionBar.js';
import { SpeedChart } from './SpeedChart.js';

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

const STATUS_LABEL: Record<FolderStatus, string> = {
  waiting: 'Waiting',
  scanning: 'Comparing',
  copying: 'Copying',
  retrying: 'Retrying',
  settling: 'Waiting for the new server',
  verifying: 'Verifying',
  verified: 'Done · verified',
  incomplete: 'Incomplete',
  'needs-attention': 'Needs attention',
  paused: 'Paused',
  cancelled: 'Stopped',
};

/** The state a row shows; `status` is what it shows while the job is paused (see shownStatus). */
export function folderStateText(folder: FolderProgress, now: number, status: FolderStatus = folder.status): string {
  if (status === 'retrying' && folder.retryAt !== undefined) {
    const seconds = Math.max(0, Math.ceil((folder.retryAt - now) / 1000));
    return seconds > 0 ? `Retrying in ${seconds} s` : 'Retrying now';
  }
  if (status === 'settling' && folder.settleUntil !== undefined) {
    const seconds = Math.max(0, Math.ceil((folder.settleUntil - now) / 1000));
    return seconds > 0 ? `Waiting ${seconds} s for the new server to finish an earlier upload` : 'Waiting for the new server';
  }
  if (status === 'waiting' && folder.isOlderMailNext) return 'Recent mail in · older mail next';
  return STATUS_LABEL[status];
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

const GROUP_TITLE: Record<MoveGroup, string> = {
  attention: 'Needs your attention',
  running: 'Moving now',
  waiting: 'Waiting',
  finished: 'Finished',
};

const groupId = (group: MoveGroup): string => `move-group-${group}`;

export function MoveScreen() {
  const progress = useAppStore((s) => s.progress);
  const jobStatus = useAppStore((s) => s.jobStatus) ?? 'queued';
  const jobError = useAppStore((s) => s.jobError);
  const jobErrorTarget = useAppStore((s) => s.jobErrorTarget);
  const folderOrder = useAppStore((s) => s.folderOrder);
  const folders = useAppStore((s) => s.folders);
  const failures = useAppStore((s) => s.failures);
  const isPending = useAppStore((s) => s.isActionPending);
  const speedSamples = useAppStore((s) => s.speedSamples);
  const isRestore = useAppStore((s) => s.sourceKind === 'archive');
  const { pauseJob, resumeJob, cancelJob, retryFolder, showReport, runAgain, signInAgainAndResume } = useAppStoreApi().getState();
  const [isConfirmingCancel, setConfirmingCancel] = useState(false);
  const [isFinishedOpen, setFinishedOpen] = useState(false);
  const isFinished = TERMINAL_JOB_STATUSES.has(jobStatus);
  const isPaused = jobStatus === 'paused';
  const now = useNow(!isPaused && folderOrder.some((p) => folders[p]?.status === 'retrying' || folders[p]?.status === 'settling'));

  const bytesDone = progress?.bytesDone ?? 0;
  const bytesTotal = progress?.bytesTotal ?? 0;
  const list = folderOrder.map((p) => folders[p]!).filter(Boolean);
  const groups = groupFolders(list);
  // Rows name their destination once any of them goes to the archive.
  const showTarget = list.some((f) => f.target === 'archive');
  const percent = formatPercent(bytesDone, bytesTotal);
  const timeLeft = isFinished ? 'none' : isPaused ? 'paused' : formatEta(progress?.etaSeconds);

  /** The header's counts lead to their group: focus moves to its heading (the finished list opens first). */
  const goToGroup = (group: MoveGroup): void => {
    if (group === 'finished') setFinishedOpen(true);
    // After the finished list has rendered open.
    requestAnimationFrame(() => {
      const heading = document.getElementById(groupId(group));
      heading?.scrollIntoView({ block: 'start', behavior: 'auto' });
      heading?.focus({ preventScroll: true });
    });
  };

  const countLinks: { group: MoveGroup; text: string }[] = [
    { group: 'attention', text: `${formatCount(groups.attention.length)} ${groups.attention.length === 1 ? 'needs' : 'need'} attention` },
    { group: 'running', text: `${formatCount(groups.running.length)} ${isPaused ? 'paused' : 'moving'}` },
    { group: 'waiting', text: `${formatCount(groups.waiting.length)} waiting` },
    { group: 'finished', text: `${formatCount(groups.finished.length)} finished` },
  ];

  const rowProps = (f: FolderProgress) => ({
    folder: f,
    now,
    jobStatus,
    showTarget,
    isRestore,
    failures: failures.filter((m) => m.sourcePath === f.sourcePath && (m.target ?? 'account') === (f.target ?? 'account')),
    onRetry: () => void retryFolder(f.sourcePath, f.target),
  });

  const folderGroup = (group: Exclude<MoveGroup, 'finished'>, title?: string) =>
    groups[group].length > 0 && (
      <FolderGroup group={group} count={groups[group].length} title={title}>
        {groups[group].map((f) => (
          <FolderProgressRow key={rowKey(f)} {...rowProps(f)} />
        ))}
      </FolderGroup>
    );

  return (
    <section className="screen screen-move" aria-labelledby="move-title">
      <div className="card overall">
        <div className="overall-head">
          <div>
            <ScreenTitle id="move-title">{JOB_HEADLINE[jobStatus]}</ScreenTitle>
            <p className="muted" data-testid="overall-figures">
              {formatBytes(bytesDone)} of {formatBytes(bytesTotal)}
              {(progress?.messagesTotal ?? 0) > 0 && ` · ${formatCount(progress?.messagesDone ?? 0)} of ${formatCount(progress?.messagesTotal ?? 0)} messages`}
            </p>
          </div>
          <p className="overall-percent" aria-hidden="true">
            {percent}
          </p>
        </div>
        <ProgressBar done={bytesDone} total={bytesTotal} label="Overall progress" size="large" tone={isFinished ? (groups.attention.length > 0 ? 'warn' : 'ok') : isPaused ? 'idle' : 'normal'} />
        <dl className="overall-stats">
          <div>
            <dt>Speed</dt>
            <dd>{isFinished || isPaused ? '—' : formatSpeed(progress?.bytesPerSecond ?? 0)}</dd>
          </div>
          <div>
            <dt>Time left</dt>
            <dd data-testid="eta">{timeLeft}</dd>
          </div>
          <div>
            <dt>Failed messages</dt>
            <dd>{formatCount(failures.length)}</dd>
          </div>
        </dl>
        <nav className="group-links" aria-label="Folders by state">
          <span className="group-links-label">Folders:</span>
          {countLinks.map(({ group, text }) => (
            <button
              key={group}
              type="button"
              className={`button-link group-link group-link-${group}`}
              data-testid={`count-${group}`}
              disabled={groups[group].length === 0}
              onClick={() => goToGroup(group)}
            >
              {group === 'attention' && groups.attention.length > 0 && <Icon name="warning" />}
              {text}
            </button>
          ))}
        </nav>
        {jobError && (
          <ErrorBox error={jobError} target={jobErrorTarget} isRestore={isRestore}>
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
      </div>

      {folderGroup('attention')}
      <SpeedChart samples={speedSamples} isPaused={isPaused} isFinished={isFinished} />
      {folderGroup('running', isPaused ? 'Paused' : undefined)}
      {folderGroup('waiting')}
      {groups.finished.length > 0 && (
        <section className="folder-group finished" aria-labelledby={groupId('finished')}>
          <h2 id={groupId('finished')} tabIndex={-1} className="section-title group-title">
            <Icon name="check" className="ok-icon" />
            {GROUP_TITLE.finished} <span className="group-count">({formatCount(groups.finished.length)})</span>
          </h2>
          <button type="button" className="finished-line" aria-expanded={isFinishedOpen} onClick={() => setFinishedOpen(!isFinishedOpen)} data-testid="finished-line">
            <Icon name="chevron" className={isFinishedOpen ? 'chevron open' : 'chevron'} />
            <span>
              {plural(groups.finished.length, 'folder')} finished ({formatBytes(groups.finished.reduce((n, f) => n + f.bytesTotal, 0))},{' '}
              {plural(groups.finished.reduce((n, f) => n + f.messagesTotal, 0), 'message')})
              {groups.finished.some((f) => f.status === 'cancelled') ? '' : ', each checked on arrival'}
            </span>
            <span className="muted small">{isFinishedOpen ? 'Hide' : 'Show'}</span>
          </button>
          {isFinishedOpen && (
            <ul className="folder-progress-list" aria-label="Finished folders">
              {groups.finished.map((f) => (
                <FolderProgressRow key={rowKey(f)} {...rowProps(f)} />
              ))}
            </ul>
          )}
        </section>
      )}
      {list.length === 0 && <p className="muted">Waiting for the first folder…</p>}
      <LogView />

      <ActionBar
        label="Move controls"
        summary={
          <>
            <p className="action-figures">
              <strong>{percent}</strong> · {formatBytes(bytesDone)} of {formatBytes(bytesTotal)}
              {!isFinished && ` · ${isPaused ? 'paused' : `time left ${timeLeft}`}`}
            </p>
            <p className="muted small awake-note">
              {isFinished
                ? 'Run it again any time: only mail that arrived since is copied.'
                : isPaused
                  ? 'Nothing moves while paused. Resume goes on where it stopped.'
                  : 'Your computer stays awake while mail is moving. You can close Mailferry; it offers to resume when opened again.'}
            </p>
          </>
        }
      >
        {!isFinished && (
          <>
            {isConfirmingCancel ? (
              <span className="confirm" role="group" aria-label="Confirm stopping">
                <span>Stop the move? What has arrived stays.</span>
                <button
                  type="button"
                  className="button danger"
                  onClick={() => {
                    setConfirmingCancel(false);
                    void cancelJob();
                  }}
                >
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
            {/* Pause and Resume share one place and keep the keyboard focus: never `disabled` (that drops focus), only busy. */}
            {isPaused ? (
              <button type="button" className="button primary" aria-disabled={isPending} onClick={() => !isPending && void resumeJob()}>
                <Icon name="play" /> Resume
              </button>
            ) : (
              <button type="button" className="button primary" aria-disabled={isPending} onClick={() => !isPending && void pauseJob()}>
                <Icon name="pause" /> Pause
              </button>
            )}
          </>
        )}
        {isFinished && (
          <>
            <button type="button" className="button" disabled={isPending} onClick={() => void runAgain()}>
              Run again for new mail
            </button>
            <button type="button" className="button primary" onClick={() => void showReport()}>
              See the report
            </button>
          </>
        )}
      </ActionBar>
    </section>
  );
}

function FolderGroup({ group, count, title, children }: { group: MoveGroup; count: number; title?: string | undefined; children: ReactNode }) {
  return (
    <section className={`folder-group group-${group}`} aria-labelledby={groupId(group)} data-group={group}>
      <h2 id={groupId(group)} tabIndex={-1} className="section-title group-title">
        {group === 'attention' && <Icon name="warning" className="warning-icon" />}
        {title ?? GROUP_TITLE[group]} <span className="group-count">({formatCount(count)})</span>
      </h2>
      <ul className="folder-progress-list" aria-label={title ?? GROUP_TITLE[group]}>
        {children}
      </ul>
    </section>
  );
}

type RowProps = {
  folder: FolderProgress;
  now: number;
  jobStatus: JobStatus;
  showTarget: boolean;
  isRestore: boolean;
  failures: AppFailedMessage[];
  onRetry(): void;
};

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
 * whose figures changed should render again (and the clock matters only to a counting-down row).
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
    a.jobStatus === b.jobStatus &&
    a.failures.length === b.failures.length &&
    f.retryAt === g.retryAt &&
    f.settleUntil === g.settleUntil &&
    f.attempt === g.attempt &&
    f.lastError?.message === g.lastError?.message &&
    (!FOLDER_WAITING_STATUSES.has(f.status) || a.now === b.now)
  );
};

/** Why a folder needs attention: its last error, or the messages that failed in it. */
const attentionError = (folder: FolderProgress, failures: AppFailedMessage[]): MigrationError | undefined => {
  if (folder.lastError) return folder.lastError;
  if (failures.length === 0) return undefined;
  // A retry helps if any of the failures may pass next time; otherwise say why it cannot.
  return failures.find((m) => m.error.retryable)?.error ?? failures[0]!.error;
};

const FolderProgressRow = memo(function FolderProgressRow({ folder, now, jobStatus, showTarget, isRestore, failures, onRetry }: RowProps) {
  const status = shownStatus(folder.status, jobStatus);
  const stateText = folderStateText(folder, now, status);
  const where = showTarget ? ` (${TARGET_LABEL[folder.target ?? 'account'].toLowerCase()})` : '';
  const isAttention = folder.status === 'needs-attention' || folder.status === 'incomplete' || folder.lastError?.kind === 'surplus';
  const error = isAttention ? attentionError(folder, failures) : undefined;
  const advice = retryAdvice(error);
  const isTerminal = TERMINAL_JOB_STATUSES.has(jobStatus) || jobStatus === 'paused';
  const isEmptyDone = folder.status === 'verified' && folder.bytesTotal === 0;
  return (
    <li className={`folder-progress status-${status}`} data-path={folder.sourcePath} data-target={folder.target ?? 'account'} data-status={folder.status} data-shown-status={status}>
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
        <span className="muted small fp-figures">
          {folder.messagesTotal === 0 && folder.bytesTotal === 0
            ? 'Empty folder'
            : `${formatCount(folder.messagesDone)} of ${plural(folder.messagesTotal, 'message')} · ${formatBytes(folder.bytesDone)} of ${formatBytes(folder.bytesTotal)}`}
        </span>
        <span className={`pill pill-${TONE[status] ?? 'normal'}`} data-testid="folder-state">
          {status === 'verified' && <Icon name="check" />}
          {stateText}
        </span>
      </div>
      <ProgressBar
        // An empty folder that was verified is complete, not at 0%.
        done={isEmptyDone ? 1 : folder.bytesDone}
        total={isEmptyDone ? 1 : folder.bytesTotal}
        label={`${folder.sourcePath}${where}: ${stateText}`}
        tone={TONE[status] ?? 'normal'}
      />
      {status === 'retrying' && folder.lastError && (
        <p className="fp-error small">
          {errorHeading(folder.lastError, { target: folder.target, isRestore })}
          {folder.attempt !== undefined ? ` (attempt ${folder.attempt})` : ''}
        </p>
      )}
      {isAttention && (
        <div className="fp-attention" data-testid="attention-reason">
          <p className="fp-reason">
            <strong>{error ? errorHeading(error, { target: folder.target, isRestore }) : 'Not every message arrived'}.</strong>{' '}
            {error?.message ?? ''}
            {failures.length > 0 && ` ${plural(failures.length, 'message')} could not be copied; the report lists ${failures.length === 1 ? 'it' : 'them'}.`}
          </p>
          {advice.canRetry ? (
            <div className="fp-actions">
              <span className="muted small">{[advice.hint, isTerminal ? undefined : 'The other folders go on meanwhile.'].filter(Boolean).join(' ')}</span>
              <button type="button" className="button small" onClick={onRetry} aria-label={`Retry ${folder.sourcePath}${where}`}>
                <Icon name="retry" /> Retry
              </button>
            </div>
          ) : (
            <p className="muted small no-retry" data-testid="no-retry">
              {advice.reason}
            </p>
          )}
        </div>
      )}
    </li>
  );
}, isSameRow);
