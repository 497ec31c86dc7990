/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { useId } from 'react';
import { useAppStore, useAppStoreApi } from '../store/context.js';
import { ArchiveFormatOptions } from './ArchiveFormatOptions.js';

/** What "recent" may mean for newest mail first, in days. */
const RECENT_DAYS_CHOICES = [7, 14, 30, 90, 365];

/**
 * Settings most people never need, each with the one line that says what it does: how many
 * connections each side gets, a speed limit, (with an archive) the archive's format, and (when
 * mail goes to a new account) newest mail first and read state that follows.
 */
export function MoreOptions({ id, hasArchive, hasAccount }: { id: string; hasArchive: boolean; hasAccount: boolean }) {
  const jobSettings = useAppStore((s) => s.jobSettings);
  const archiveFormat = useAppStore((s) => s.archiveFormat);
  const { setJobSettings, setArchiveFormat } = useAppStoreApi().getState();
  const fieldId = useId();
  return (
    <div className="more-options" id={id} role="group" aria-label="More options" data-testid="more-options">
      <div className="option">
        <label htmlFor={`${fieldId}-connections`}>Connections to each server</label>
        <select id={`${fieldId}-connections`} value={jobSettings.connectionsPerSide} aria-describedby={`${fieldId}-connections-line`} onChange={(e) => setJobSettings({ connectionsPerSide: Number(e.target.value) })}>
          {[1, 2, 3, 4].map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
        <p className="option-line" id={`${fieldId}-connections-line`}>
          More folders at once. Old servers often allow only two; more can make them slow or refuse.
        </p>
      </div>
      <div className="option">
        <label htmlFor={`${fieldId}-speed`}>Speed limit</label>
        <select id={`${fieldId}-speed`} value={jobSettings.maxMegabytesPerSecond} aria-describedby={`${fieldId}-speed-line`} onChange={(e) => setJobSettings({ maxMegabytesPerSecond: Number(e.target.value) })}>
          {[0, 1, 2, 5, 10].map((n) => (
            <option key={n} value={n}>
              {n === 0 ? 'No limit' : `${n} MB/s`}
            </option>
          ))}
        </select>
        <p className="option-line" id={`${fieldId}-speed-line`}>
          Leaves room on your connection for other things while the move runs.
        </p>
      </div>
      {hasAccount && (
        <div className="option">
          <label className="checkbox option-switch">
            <input type="checkbox" checked={jobSettings.newestFirst} aria-describedby={`${fieldId}-newest-line`} onChange={(e) => setJobSettings({ newestFirst: e.target.checked })} />
            Newest mail first
          </label>
          <p className="option-line" id={`${fieldId}-newest-line`}>
            Every folder’s mail of the last {jobSettings.recentDays} days moves before anything older, so the new account is usable on the first day.
          </p>
          {jobSettings.newestFirst && (
            <label className="option-inline">
              Recent means the last{' '}
              <select value={jobSettings.recentDays} onChange={(e) => setJobSettings({ recentDays: Number(e.target.value) })}>
                {[...new Set([...RECENT_DAYS_CHOICES, jobSettings.recentDays])].sort((a, b) => a - b).map((n) => (
                  <option key={n} value={n}>
                    {n} days
                  </option>
                ))}
              </select>
            </label>
          )}
        </div>
      )}
      {hasAccount && (
        <div className="option">
          <label className="checkbox option-switch">
            <input type="checkbox" checked={jobSettings.syncFlags} aria-describedby={`${fieldId}-flags-line`} onChange={(e) => setJobSettings({ syncFlags: e.target.checked })} />
            Keep read state up to date on later runs
          </label>
          <p className="option-line" id={`${fieldId}-flags-line`}>
            Each run marks the copies as read, answered or flagged where the old messages got those marks since. It never removes a mark.
          </p>
        </div>
      )}
      {hasArchive && (
        <fieldset className="option format-choice stacked">
          <legend className="option-legend">Archive format</legend>
          <ArchiveFormatOptions name="archive-format" chosen={archiveFormat} onChoose={(format) => void setArchiveFormat(format)} />
        </fieldset>
      )}
    </div>
  );
}
