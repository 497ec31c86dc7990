/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { useAppStore, useAppStoreApi } from '../store/context.js';
import { Icon } from './Icons.js';
import { formatLabel } from './ArchiveFormatOptions.js';

/** "Keep some folders on this computer": the archive folder on disk and its format. */
export function ArchivePanel() {
  const archivePath = useAppStore((s) => s.archivePath);
  const archiveFormat = useAppStore((s) => s.archiveFormat);
  const isLoading = useAppStore((s) => s.planState === 'loading');
  const { chooseArchiveFolder, clearArchive } = useAppStoreApi().getState();
  if (archivePath === null) {
    // Optional, so it takes one place in the toolbar until it is chosen.
    return (
      <div className="archive-inline" role="group" aria-labelledby="archive-title" data-testid="archive-panel">
        <Icon name="archive" className="archive-panel-icon" />
        <span id="archive-title" className="archive-inline-text" title="Send any folder to an archive on disk instead of, or as well as, the new account.">
          Keep some on this computer too?
        </span>
        <button type="button" className="button small" aria-disabled={isLoading} onClick={() => !isLoading && void chooseArchiveFolder()}>
          Choose a folder…
        </button>
      </div>
    );
  }
  return (
    <section className="card archive-panel" aria-labelledby="archive-title" data-testid="archive-panel">
      <div className="archive-head">
        <Icon name="archive" className="archive-panel-icon" />
        <div className="archive-text">
          <h2 id="archive-title">Keep folders on this computer</h2>{' '}
          <span className="muted small">
            {archivePath === null
              ? 'Optional: send any folder to an archive on disk instead of, or as well as, the new account.'
              : `Choose for each folder below: new account, archive, or both. Format: ${formatLabel(archiveFormat)} (see More options).`}
          </span>
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
    </section>
  );
}

