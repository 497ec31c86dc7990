/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { useAppStore, useAppStoreApi } from '../store/context.js';
import { Icon } from './Icons.js';
import { ArchiveFormatOptions } from './ArchiveFormatOptions.js';

/** "Keep some folders on this computer": the archive folder on disk and its format. */
export function ArchivePanel() {
  const archivePath = useAppStore((s) => s.archivePath);
  const archiveFormat = useAppStore((s) => s.archiveFormat);
  const isLoading = useAppStore((s) => s.planState === 'loading');
  const { chooseArchiveFolder, clearArchive, setArchiveFormat } = useAppStoreApi().getState();
  return (
    <section className="card archive-panel" aria-labelledby="archive-title" data-testid="archive-panel">
      <div className="archive-head">
        <Icon name="archive" className="archive-panel-icon" />
        <div className="archive-text">
          <h2 id="archive-title">Keep folders on this computer</h2>
          <p className="muted small">
            {archivePath === null
              ? 'Optional. Choose a folder on disk, then send any folder to the new account, to this archive, or to both.'
              : 'Choose for each folder below: new account, archive, or both.'}
          </p>
        </div>
        <div className="archive-folder">
          {archivePath !== null && (
            <code className="archive-path" data-testid="archive-path" title={archivePath}>
              {archivePath}
            </code>
          )}
          <button type="button" className="button small" aria-disabled={isLoading} onClick={() => !isLoading && void chooseArchiveFolder()}>
            {archivePath === null ? 'Choose a folder…' : 'Change…'}
          </button>
          {archivePath !== null && (
            <button type="button" className="button-link small" onClick={() => void clearArchive()}>
              No archive
            </button>
          )}
        </div>
      </div>
      {archivePath !== null && (
        <fieldset className="format-choice">
          <legend className="visually-hidden">Archive format</legend>
          <ArchiveFormatOptions name="archive-format" chosen={archiveFormat} onChoose={(format) => void setArchiveFormat(format)} />
        </fieldset>
      )}
    </section>
  );
}

