/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { useId } from 'react';
import { useAppStore, useAppStoreApi } from '../store/context.js';
import { ArchiveFormatOptions } from './ArchiveFormatOptions.js';

/**
 * Settings most people never need, each with the one line that says what it does: how many
 * connections each side gets, a speed limit, and (with an archive) the archive's format.
 */
export function MoreOptions({ id, hasArchive }: { id: string; hasArchive: boolean }) {
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
      {hasArchive && (
        <fieldset className="option format-choice stacked">
          <legend className="option-legend">Archive format</legend>
          <ArchiveFormatOptions name="archive-format" chosen={archiveFormat} onChoose={(format) => void setArchiveFormat(format)} />
        </fieldset>
      )}
    </div>
  );
}
