/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { memo } from 'react';
import type { BatchInputProblem, BatchMailbox, MailboxProgress, MailboxStatus } from '../../../src/contract/batch.js';
import type { AppFolderProgress } from '../../../src/contract/ipc.js';
import { FOLDER_PROBLEM_STATUSES } from '../../../src/contract/job.js';
import { useAppStore, useAppStoreApi } from '../store/context.js';
import { formatBytes, formatCount, formatPercent, plural } from '../lib/format.js';
import { Icon } from './Icons.js';
import { ProgressBar } from './ProgressBar.js';
import { ScreenTitle } from './ScreenTitle.js';

const STATUS_LABEL: Record<MailboxStatus, string> = {
  waiting: 'Waiting',
  running: 'Moving',
  verified: 'Verified',
  failed: 'Failed',
  'needs-attention': 'Needs attention',
  'not-run': 'Not run',
};
const STATUS_TONE: Record<MailboxStatus, 'ok' | 'warn' | 'idle' | ''> = { waiting: 'idle', running: '', verified: 'ok', failed: 'warn', 'needs-attention': 'warn', 'not-run': 'idle' };

/** `Row 5 (line 6), column from` */
const whereOf = (p: BatchInputProblem): string => {
  const parts: string[] = [];
  if (p.row !== undefined) parts.push(`Row ${p.row}${p.line !== undefined ? ` (line ${p.line})` : ''}`);
  else if (p.line !== undefined) parts.push(`Line ${p.line}`);
  if (p.column) parts.push(`column ${p.column}`);
  return parts.join(', ');
};

export function BatchScreen() {
  const batch = useAppStore((s) => s.batch);
  const state = useAppStore((s) => s.batchState);
  const allowPlaintext = useAppStore((s) => s.batchAllowPlaintext);
  const { openBatch, setBatchAllowPlaintext, exportBatch, goTo } = useAppStoreApi().getState();
  const isBusy = state === 'running' || state === 'stopping';

  return (
    <section className="screen batch-screen" aria-labelledby="batch-title">
      <div className="screen-intro report-intro">
        <div>
          <ScreenTitle id="batch-title">Many mailboxes</ScreenTitle>
          <p className="lead">
            {batch === null
              ? 'For IT staff moving a whole office: open a users CSV with one row per mailbox. Each mailbox is moved as a single move is (verified, resumable, never deleting), several at a time.'
              : `${batch.file}: ${plural(batch.mailboxes.length, 'mailbox', 'mailboxes')}.`}
          </p>
        </div>
        <div className="report-actions">
          <button type="button" className="button" disabled={isBusy || state === 'opening'} onClick={() => void openBatch()}>
            {batch === null ? 'Open a users CSV…' : 'Open another CSV…'}
          </button>
          {(state === 'finished' || state === 'ready') && batch !== null && batch.problems.length === 0 && (
            <>
              <button type="button" className="button" disabled={state !== 'finished'} onClick={() => void exportBatch('csv')}>
                Export CSV
              </button>
              <button type="button" className="button" disabled={state !== 'finished'} onClick={() => void exportBatch('html')}>
                Export HTML
              </button>
            </>
          )}
        </div>
      </div>
      <label className="checkbox batch-plaintext">
        <input type="checkbox" checked={allowPlaintext} disabled={isBusy} onChange={(e) => setBatchAllowPlaintext(e.target.checked)} />
        <span>
          Allow unencrypted IMAP for <code>imap://</code> locations (old servers on a trusted network only); applies when the CSV is opened
        </span>
      </label>
      {batch === null && <CsvHelp />}
      {batch !== null && batch.problems.length > 0 && <Problems problems={batch.problems} />}
      {batch !== null && batch.problems.length === 0 && (
        <>
          <BatchSummary />
          <MailboxTable mailboxes={batch.mailboxes} />
        </>
      )}
      <div className="screen-actions">
        <button type="button" className="button-link" disabled={isBusy} onClick={() => goTo('accounts')}>
          Back to a single move
        </button>
      </div>
    </section>
  );
}

function CsvHelp() {
  return (
    <div className="card batch-help">
      <h2>The users CSV</h2>
      <p className="muted">
        A header row, then one row per mailbox; columns in any order. Required: <code>id</code>, <code>from</code>, <code>to</code> (as{' '}
        <code>imaps://user@host</code>, <code>mbox:/path</code>…). Passwords never go in the file: name an environment variable (
        <code>from_password_env</code>, <code>to_password_env</code>) or a file holding only the password (<code>from_password_file</code>,{' '}
        <code>to_password_file</code>). Optional: <code>folder</code> and <code>exclude</code> (separated by <code>;</code>), <code>from_oauth</code>,{' '}
        <code>to_oauth</code>.
      </p>
      <pre className="csv-sample">{'id,from,to,from_password_env,to_password_env\nalice,imaps://alice@imap.old.example.org,imaps://alice@imap.new.example.org,ALICE_OLD,ALICE_NEW'}</pre>
    </div>
  );
}

function Problems({ problems }: { problems: BatchInputProblem[] }) {
  return (
    <div className="error-box" role="alert">
      <Icon name="warning" className="error-icon" />
      <div className="error-body">
        <p className="error-title">This CSV cannot be used yet: {plural(problems.length, 'problem')}. Nothing was started.</p>
        <ul className="problem-list">
          {problems.map((p, i) => (
            <li key={i}>
              {whereOf(p) && <strong>{whereOf(p)}: </strong>}
              {p.reason}
            </li>
          ))}
        </ul>
        <p className="muted small">Fix the file and open it again.</p>
      </div>
    </div>
  );
}

function BatchSummary() {
  const mailboxes = useAppStore((s) => s.mailboxes);
  const state = useAppStore((s) => s.batchState);
  const parallel = useAppStore((s) => s.batchParallel);
  const { startBatch, stopBatch, setBatchParallel } = useAppStoreApi().getState();
  const list = Object.values(mailboxes);
  const count = (status: MailboxStatus): number => list.filter((m) => m.status === status).length;
  const bytesDone = list.reduce((n, m) => n + m.bytesDone, 0);
  const bytesTotal = list.reduce((n, m) => n + m.bytesTotal, 0);
  const problems = count('failed') + count('needs-attention');
  const done = count('verified') + problems;
  return (
    <div className="summary-bar batch-summary" data-batch-state={state}>
      <div className="summary-figures">
        <p className="summary-main">
          <strong>
            {formatCount(done)} of {formatCount(list.length)}
          </strong>{' '}
          mailboxes done: {formatCount(count('verified'))} verified
          {problems > 0 && <span className="warn-text">, {formatCount(count('failed'))} failed, {formatCount(count('needs-attention'))} need attention</span>}
          {count('not-run') > 0 && `; ${formatCount(count('not-run'))} stopped before the end (Run again continues them)`}
          {count('running') > 0 && `; ${formatCount(count('running'))} moving now`}
        </p>
        <ProgressBar done={bytesDone} total={bytesTotal} label="All mailboxes" tone={state === 'finished' ? (problems > 0 ? 'warn' : 'ok') : 'normal'} />
        <p className="muted small">
          {formatBytes(bytesDone)} of {formatBytes(bytesTotal)} so far (sizes are known once a mailbox has started).
        </p>
      </div>
      <div className="summary-settings">
        <label>
          Mailboxes at once
          <select value={parallel} disabled={state === 'running' || state === 'stopping'} onChange={(e) => setBatchParallel(Number(e.target.value))}>
            {[1, 2, 3, 4, 6, 8].map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div className="summary-actions">
        {state === 'running' || state === 'stopping' ? (
          <button type="button" className="button" aria-disabled={state === 'stopping'} onClick={() => state === 'running' && void stopBatch()}>
            <Icon name="pause" /> {state === 'stopping' ? 'Stopping…' : 'Stop'}
          </button>
        ) : (
          <button type="button" className="button primary" onClick={() => void startBatch()}>
            <Icon name="play" /> {state === 'finished' ? 'Run again' : 'Start'}
          </button>
        )}
      </div>
    </div>
  );
}

function MailboxTable({ mailboxes }: { mailboxes: BatchMailbox[] }) {
  return (
    <div className="table-wrap card">
      <table className="report-table batch-table">
        <caption className="visually-hidden">Mailboxes of the batch; choose one to see its folders</caption>
        <thead>
          <tr>
            <th scope="col">Mailbox</th>
            <th scope="col">From → to</th>
            <th scope="col" className="progress-col">
              Progress
            </th>
            <th scope="col">Status</th>
            <th scope="col" className="num">
              Messages
            </th>
            <th scope="col" className="num">
              Size
            </th>
          </tr>
        </thead>
        <tbody>
          {mailboxes.map((m) => (
            <MailboxRow key={m.id} mailbox={m} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

const MailboxRow = memo(function MailboxRow({ mailbox }: { mailbox: BatchMailbox }) {
  const progress = useAppStore((s): MailboxProgress | undefined => s.mailboxes[mailbox.id]);
  const isOpen = useAppStore((s) => s.openMailboxId === mailbox.id);
  const openMailbox = useAppStore((s) => s.openMailbox);
  const status = progress?.status ?? 'waiting';
  const isDone = status === 'verified';
  const hasStarted = status !== 'waiting' && (progress?.messagesTotal ?? 0) + (progress?.summary?.messages ?? 0) > 0;
  const messages = progress?.summary?.messages ?? progress?.messagesDone ?? 0;
  const bytes = progress?.summary?.bytes ?? progress?.bytesDone ?? 0;
  const foldersId = `folders-${mailbox.id}`;
  return (
    <>
      <tr className={`mailbox-row status-${status}${isOpen ? ' open' : ''}`} data-id={mailbox.id} data-status={status}>
        <th scope="row">
          <button type="button" className="button-link mailbox-toggle" aria-expanded={isOpen} aria-controls={isOpen ? foldersId : undefined} onClick={() => void openMailbox(isOpen ? null : mailbox.id)}>
            <Icon name="chevron" className={isOpen ? 'chevron open' : 'chevron'} />
            {mailbox.id}
          </button>
          <span className="muted small block">row {mailbox.row}</span>
        </th>
        <td className="locations">
          <span className="block">{mailbox.source}</span>
          <span className="muted block">→ {mailbox.destination}</span>
        </td>
        <td className="progress-col">
          <ProgressBar
            done={isDone ? 1 : (progress?.bytesDone ?? 0)}
            total={isDone ? 1 : (progress?.bytesTotal ?? 0)}
            label={`${mailbox.id}: progress`}
            tone={isDone ? 'ok' : status === 'failed' || status === 'needs-attention' ? 'warn' : status === 'waiting' || status === 'not-run' ? 'idle' : 'normal'}
          />
          <span className="muted small">{isDone ? '100%' : hasStarted ? formatPercent(progress?.bytesDone ?? 0, progress?.bytesTotal ?? 0) : ''}</span>
        </td>
        <td className="status-col">
          <span className={`pill ${STATUS_TONE[status] ? `pill-${STATUS_TONE[status]}` : ''}`}>
            {isDone && <Icon name="check" />}
            {STATUS_LABEL[status]}
          </span>
          {/* A stopped mailbox's reason is the summary's; the others say what went wrong with this one. */}
          {progress?.summary?.reason && status !== 'not-run' && <span className="small block mailbox-reason">{progress.summary.reason}</span>}
        </td>
        <td className="num">{!hasStarted ? '—' : status === 'running' ? `${formatCount(messages)} of ${formatCount(progress?.messagesTotal ?? 0)}` : formatCount(messages)}</td>
        <td className="num nowrap">{!hasStarted ? '—' : formatBytes(bytes)}</td>
      </tr>
      {isOpen && (
        <tr className="mailbox-folders-row" id={foldersId}>
          <td colSpan={6}>
            <MailboxFolders />
          </td>
        </tr>
      )}
    </>
  );
});

/** Every folder with the levels above it (containers that hold no mail show as names only), INBOX first. */
const treeLines = (folders: AppFolderProgress[], delimiter: string): { path: string; name: string; depth: number; folder?: AppFolderProgress }[] => {
  const byPath = new Map(folders.map((f) => [f.sourcePath, f]));
  const paths = new Set<string>();
  for (const f of folders) {
    const parts = f.sourcePath.split(delimiter);
    for (let i = 1; i <= parts.length; i++) paths.add(parts.slice(0, i).join(delimiter));
  }
  const rank = (segment: string, depth: number): string => (depth === 0 && segment.toUpperCase() === 'INBOX' ? '\u0000' : segment);
  const compare = (a: string, b: string): number => {
    const x = a.split(delimiter);
    const y = b.split(delimiter);
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      const order = rank(x[i] as string, i).localeCompare(rank(y[i] as string, i));
      if (order !== 0) return order;
    }
    return x.length - y.length;
  };
  return [...paths].sort(compare).map((path) => {
    const parts = path.split(delimiter);
    return { path, name: parts.at(-1) ?? path, depth: Math.min(12, parts.length - 1), folder: byPath.get(path) };
  });
};

function MailboxFolders() {
  const id = useAppStore((s) => s.openMailboxId);
  const folders = useAppStore((s) => s.mailboxFolders);
  const lines = folders ? treeLines(folders.folders, folders.delimiter ?? '/') : [];
  return (
    <div className="mailbox-folders" aria-label={`Folders of ${id ?? ''}`}>
      {folders === null ? (
        <p className="loading" role="status">
          <span className="spinner" aria-hidden="true" /> Loading the folders…
        </p>
      ) : folders.folders.length === 0 ? (
        <p className="muted">No folders yet: they are known once this mailbox has started.</p>
      ) : (
        <>
          {folders.source === 'saved-report' && <p className="muted small">As the last run left them.</p>}
          <ul className="mailbox-folder-list">
            {lines.map((line) => (
              <FolderLine key={line.path} name={line.name} depth={line.depth} path={line.path} folder={line.folder} />
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

function FolderLine({ name, depth, path, folder }: { name: string; depth: number; path: string; folder?: AppFolderProgress | undefined }) {
  if (!folder) {
    return (
      <li className="mailbox-folder container" data-path={path}>
        <div className="mailbox-folder-head">
          <span className={`indent depth-${depth}`} aria-hidden="true" />
          <Icon name="folder" className="folder-icon" />
          <span className="name-text muted">{name}</span>
        </div>
      </li>
    );
  }
  const isVerified = folder.status === 'verified';
  const isProblem = FOLDER_PROBLEM_STATUSES.has(folder.status);
  return (
    <li className={`mailbox-folder status-${folder.status}`} data-path={folder.sourcePath} data-status={folder.status}>
      <div className="mailbox-folder-head">
        <span className={`indent depth-${depth}`} aria-hidden="true" />
        <Icon name="folder" className="folder-icon" />
        <span className="name-text" title={folder.sourcePath}>
          {name}
        </span>
        {folder.destinationPath !== folder.sourcePath && <span className="muted small destination-of">→ {folder.destinationPath}</span>}
        <span className="muted small nowrap">
          {formatCount(folder.messagesDone)} of {plural(folder.messagesTotal, 'message')}
        </span>
        <span className={`pill ${isVerified ? 'pill-ok' : isProblem ? 'pill-warn' : 'pill-idle'}`}>{folder.status.replace('-', ' ')}</span>
      </div>
      <div className="mailbox-folder-bar">
        <span className={`indent depth-${depth}`} aria-hidden="true" />
        <ProgressBar
          done={isVerified ? 1 : folder.bytesTotal > 0 ? folder.bytesDone : folder.messagesDone}
          total={isVerified ? 1 : folder.bytesTotal > 0 ? folder.bytesTotal : folder.messagesTotal}
          label={`${folder.sourcePath}: progress`}
          tone={isVerified ? 'ok' : isProblem ? 'warn' : 'normal'}
        />
      </div>
      {folder.lastError && isProblem && <span className="small fp-error">{folder.lastError.message}</span>}
    </li>
  );
}
