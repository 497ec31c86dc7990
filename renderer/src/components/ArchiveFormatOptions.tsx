/** @jsxRuntime automatic */
/** @jsxImportSource react */
/** The archive formats as radio options with a line each (the archive destination and the archive source use them). */
import type { ArchiveFormat } from '../../../src/contract/account.js';

/** The three formats, each with the one line a person needs to pick. */
export const ARCHIVE_FORMATS: { format: ArchiveFormat; label: string; line: string }[] = [
  { format: 'mbox', label: 'mbox', line: 'One file per folder. Thunderbird and mutt open it.' },
  { format: 'maildir', label: 'Maildir', line: 'One file per message, flags in the name. Dovecot and mutt read it.' },
  { format: 'eml', label: '.eml files', line: 'One file per message, named by date and subject.' },
];

export const formatLabel = (format: ArchiveFormat): string => ARCHIVE_FORMATS.find((f) => f.format === format)?.label ?? format;

/**
 * The formats as radio options. `isCompact`: one small option per format and only the chosen
 * format's line after them (where every line of height counts, as above the Start button).
 */
export function ArchiveFormatOptions({ name, chosen, onChoose, isCompact = false }: { name: string; chosen: ArchiveFormat | undefined; onChoose: (format: ArchiveFormat) => void; isCompact?: boolean }) {
  const chosenLine = ARCHIVE_FORMATS.find((f) => f.format === chosen)?.line;
  return (
    <>
      {ARCHIVE_FORMATS.map((f) => (
        <label key={f.format} className={f.format === chosen ? 'format-option chosen' : 'format-option'}>
          <input type="radio" name={name} value={f.format} checked={f.format === chosen} onChange={() => onChoose(f.format)} />
          {isCompact ? (
            <span className="format-name">{f.label}</span>
          ) : (
            <span>
              <span className="format-name">{f.label}</span>
              <span className="format-line">{f.line}</span>
            </span>
          )}
        </label>
      ))}
      {isCompact && chosenLine && <span className="format-line">{chosenLine}</span>}
    </>
  );
}
