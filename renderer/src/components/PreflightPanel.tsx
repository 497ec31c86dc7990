/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { useId, useState } from 'react';
import { useAppStore, useAppStoreApi } from '../store/context.js';
import type { PreflightView } from '../lib/preflight-view.js';
import { formatBytes, formatDate, formatCount, plural } from '../lib/format.js';
import { decodeMimeWords } from '../lib/mime-words.js';
import { ArchiveFormatOptions } from './ArchiveFormatOptions.js';
import { Icon } from './Icons.js';

/** Messages listed before "and N more". */
export const REFUSED_SHOWN = 3;
/** Renamed folders named in the line; the tree's "Goes to" shows every one. */
const RENAMED_SHOWN = 3;

/** "INBOX, Trash and Junk". */
const listText = (names: readonly string[]): string => (names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`);

/** The quota in plain words, for the summary by the Start button. */
export function quotaSentence(quota: NonNullable<PreflightView['quota']>): string {
  return quota.fits
    ? `It fits: the new account has ${formatBytes(quota.freeBytes)} free, the move adds about ${formatBytes(quota.neededBytes)}.`
    : `It does not fit: the move adds about ${formatBytes(quota.neededBytes)}, the new account has ${formatBytes(quota.freeBytes)} free.`;
}

/**
 * What the move will meet on the new account, known before anything is copied (the engine's
 * pre-flight for the ticked folders): the messages too large for it with the choice of skipping
 * them or keeping them in a local archive, folders that land under another name, and the days a
 * provider's daily limit makes it take. Whether it fits is said by the Start button (quotaSentence).
 */
export function PreflightPanel({ view, canKeepRefused }: { view: PreflightView; canKeepRefused: boolean }) {
  const isLoading = useAppStore((s) => s.planState === 'loading');
  const { checkSelectionAgain } = useAppStoreApi().getState();
  const { refused, renamedFolders, dailyLimit, uncheckedPaths } = view;
  return (
    // A region with a name rather than a heading: it sits just above the Start button and every line counts there.
    <section className="card preflight" role="region" aria-label="Checked before the move" data-testid="preflight">
      {uncheckedPaths.length > 0 && (
        <p className="preflight-item preflight-unchecked" data-testid="preflight-unchecked">
          <Icon name="warning" className="warning-icon" />
          <span>
            These figures are for the folders as first planned: {listText(uncheckedPaths.slice(0, 3))}
            {uncheckedPaths.length > 3 ? ` and ${plural(uncheckedPaths.length - 3, 'other')}` : ''} {uncheckedPaths.length === 1 ? 'was' : 'were'} ticked since.{' '}
            <button type="button" className="button-link" aria-disabled={isLoading} onClick={() => !isLoading && void checkSelectionAgain()}>
              Check again
            </button>
          </span>
        </p>
      )}
      {refused.length > 0 && <RefusedMessages view={view} canKeep={canKeepRefused} />}
      {renamedFolders.length > 0 && (
        <p className="preflight-item" data-testid="preflight-renamed">
          <strong>{plural(renamedFolders.length, 'folder')}</strong> {renamedFolders.length === 1 ? 'lands' : 'land'} under another name, because the new server cannot take{' '}
          {renamedFolders.length === 1 ? 'its' : 'theirs'}:{' '}
          {renamedFolders.slice(0, RENAMED_SHOWN).map((r, i) => (
            <span key={r.folder} className="renamed-pair">
              {i > 0 && ', '}
              {r.folder} <Icon name="arrow" className="arrow-icon" /> <strong>{r.destination}</strong>
            </span>
          ))}
          {renamedFolders.length > RENAMED_SHOWN && ` and ${plural(renamedFolders.length - RENAMED_SHOWN, 'other')} (see “Goes to” in the list)`}.
        </p>
      )}
      {dailyLimit && (
        <p className="preflight-item" data-testid="preflight-days">
          At {dailyLimit.provider}’s limit of {formatBytes(dailyLimit.bytesPerDay)} a day, this move needs about <strong>{plural(dailyLimit.days, 'day')}</strong>; it waits at
          the limit and goes on by itself.
        </p>
      )}
    </section>
  );
}

/** The messages the new account will not take: a short list, and what to do with them. */
function RefusedMessages({ view, canKeep }: { view: PreflightView; canKeep: boolean }) {
  const id = useId();
  const [isOpen, setOpen] = useState(false);
  const choice = useAppStore((s) => s.refusedChoice);
  const path = useAppStore((s) => s.refusedArchivePath);
  const format = useAppStore((s) => s.refusedArchiveFormat);
  const { setRefusedChoice, chooseRefusedArchive, setRefusedArchiveFormat } = useAppStoreApi().getState();
  const { refused } = view;
  const shown = isOpen ? refused : refused.slice(0, REFUSED_SHOWN);
  const limit = view.maxMessageBytes !== undefined ? ` (it takes at most ${formatBytes(view.maxMessageBytes)} for one message)` : '';
  return (
    <div className="preflight-item preflight-refused" data-testid="preflight-refused">
      <p>
        <strong>
          {formatCount(refused.length)} {refused.length === 1 ? 'message is' : 'messages are'} too large for the new account
        </strong>
        {limit}. {refused.length === 1 ? 'It is' : 'They are'} never sent there.
      </p>
      <div className={isOpen ? 'refused-table-wrap open' : 'refused-table-wrap'}>
        <table className="refused-table">
          <caption className="visually-hidden">Messages too large for the new account</caption>
          <thead>
            <tr>
              <th scope="col">Folder</th>
              <th scope="col">Date</th>
              <th scope="col">Subject</th>
              <th scope="col" className="num">
                Size
              </th>
            </tr>
          </thead>
          <tbody>
            {shown.map((m) => (
              <tr key={`${m.folder}\u0000${m.uid}`} data-uid={m.uid} data-folder={m.folder}>
                <td>{m.folder}</td>
                <td className="nowrap">{formatDate(m.date)}</td>
                <td className="refused-subject">{m.subject ? decodeMimeWords(m.subject) : <span className="muted">(no subject)</span>}</td>
                <td className="num nowrap">{formatBytes(m.size)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="refused-actions">
        {refused.length > REFUSED_SHOWN && (
          <button type="button" className="button-link small" aria-expanded={isOpen} onClick={() => setOpen(!isOpen)} data-testid="refused-more">
            {isOpen ? 'Show fewer' : `and ${formatCount(refused.length - REFUSED_SHOWN)} more`}
          </button>
        )}
        {canKeep ? (
          <fieldset className="refused-choice">
            <legend className="refused-legend">What to do with them:</legend>
            <label className={choice === 'skip' ? 'choice chosen' : 'choice'}>
              <input type="radio" name={`${id}-choice`} value="skip" checked={choice === 'skip'} onChange={() => setRefusedChoice('skip')} />
              Skip them
            </label>
            <label className={choice === 'archive' ? 'choice chosen' : 'choice'}>
              <input type="radio" name={`${id}-choice`} value="archive" checked={choice === 'archive'} onChange={() => setRefusedChoice('archive')} />
              Save them to a local archive instead
            </label>
          </fieldset>
        ) : (
          <p className="muted small">They stay where they are and the report lists them.</p>
        )}
      </div>
      {canKeep && choice === 'archive' && (
        <div className="refused-archive">
          <button type="button" className="button small" onClick={() => void chooseRefusedArchive()}>
            {path === null ? 'Choose a folder…' : 'Change…'}
          </button>
          {path !== null ? (
            <code data-testid="refused-archive-path" title={path}>
              {path}
            </code>
          ) : (
            <span className="muted small">Where on this computer should they go?</span>
          )}
          <fieldset className="format-choice compact">
            <legend className="refused-legend">Format:</legend>
            <ArchiveFormatOptions name={`${id}-format`} chosen={format} onChoose={setRefusedArchiveFormat} isCompact />
          </fieldset>
        </div>
      )}
    </div>
  );
}
