/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { useId } from 'react';
import { useAppStore, useAppStoreApi } from '../store/context.js';
import { ArchiveFormatOptions } from './ArchiveFormatOptions.js';
import { Icon } from './Icons.js';

/** Where the mail is now: the old account (the usual move) or an archive on this computer (a restore). */
export function SourceKindChoice() {
  const kind = useAppStore((s) => s.sourceKind);
  const setSourceKind = useAppStore((s) => s.setSourceKind);
  const name = useId();
  return (
    <fieldset className="source-kind">
      <legend>Your mail is now</legend>
      <div className="segmented">
        {(
          [
            ['account', 'In an account'],
            ['archive', 'In an archive on this computer'],
          ] as const
        ).map(([value, label]) => (
          <label key={value} className={kind === value ? 'segment chosen' : 'segment'}>
            <input type="radio" name={name} value={value} checked={kind === value} onChange={() => setSourceKind(value)} />
            {label}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

/** The archive to restore from: its folder and format, in place of the old account's card. */
export function SourceArchiveCard() {
  const path = useAppStore((s) => s.sourceArchivePath);
  const format = useAppStore((s) => s.sourceArchiveFormat);
  const { chooseSourceArchive, setSourceArchiveFormat } = useAppStoreApi().getState();
  const id = useId();
  return (
    <section className="card account-card" aria-labelledby={`${id}-title`} data-role="source-archive">
      <div className="card-header">
        <h2 id={`${id}-title`}>Archive on this computer</h2>
        <p className="muted">Mail is copied from here (read only): an archive made by Mailferry, Thunderbird or mutt.</p>
      </div>
      <fieldset className="format-choice stacked">
        <legend className="field-legend">Format</legend>
        <ArchiveFormatOptions name={`${id}-format`} chosen={format} onChoose={setSourceArchiveFormat} />
      </fieldset>
      {path !== null && (
        <p className="source-archive-path" data-testid="source-archive-path">
          <Icon name="archive" className="archive-icon" /> <code>{path}</code>
        </p>
      )}
      <div className="card-actions">
        <button type="button" className="button" onClick={() => void chooseSourceArchive()}>
          {path === null ? 'Choose the archive folder…' : 'Choose another folder…'}
        </button>
      </div>
    </section>
  );
}
