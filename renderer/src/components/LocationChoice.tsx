/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { useId } from 'react';
import type { ArchiveFormat } from '../../../src/contract/account.js';
import { useAppStore, useAppStoreApi } from '../store/context.js';
import { ArchiveFormatOptions } from './ArchiveFormatOptions.js';
import { Icon } from './Icons.js';

type Kind = 'account' | 'archive';

/** Two places, as one segmented radio group: an account, or an archive on this computer. */
function KindChoice({ legend, labels, kind, onChoose }: { legend: string; labels: Record<Kind, string>; kind: Kind; onChoose(kind: Kind): void }) {
  const name = useId();
  return (
    <fieldset className="source-kind">
      <legend>{legend}</legend>
      <div className="segmented">
        {(['account', 'archive'] as const).map((value) => (
          <label key={value} className={kind === value ? 'segment chosen' : 'segment'}>
            <input type="radio" name={name} value={value} checked={kind === value} onChange={() => onChoose(value)} />
            {labels[value]}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

/** An archive folder on this computer and its format, in place of an account's card. */
function LocalArchiveCard(props: {
  title: string;
  line: string;
  role: string;
  path: string | null;
  format: ArchiveFormat;
  onChooseFolder(): void;
  onChooseFormat(format: ArchiveFormat): void;
}) {
  const id = useId();
  return (
    <section className="card account-card" aria-labelledby={`${id}-title`} data-role={props.role}>
      <div className="card-header">
        <h2 id={`${id}-title`}>{props.title}</h2>
        <p className="muted">{props.line}</p>
      </div>
      <fieldset className="format-choice stacked">
        <legend className="field-legend">Format</legend>
        <ArchiveFormatOptions name={`${id}-format`} chosen={props.format} onChoose={props.onChooseFormat} />
      </fieldset>
      {props.path !== null && (
        <p className="source-archive-path" data-testid={`${props.role}-path`}>
          <Icon name="archive" className="archive-icon" /> <code>{props.path}</code>
        </p>
      )}
      <div className="card-actions">
        <button type="button" className="button" onClick={props.onChooseFolder}>
          {props.path === null ? 'Choose the archive folder…' : 'Choose another folder…'}
        </button>
      </div>
    </section>
  );
}

/** Where the mail is now: the old account (the usual move) or an archive on this computer (a restore). */
export function SourceKindChoice() {
  const kind = useAppStore((s) => s.sourceKind);
  const setSourceKind = useAppStore((s) => s.setSourceKind);
  return <KindChoice legend="Your mail is now" labels={{ account: 'In an account', archive: 'In an archive on this computer' }} kind={kind} onChoose={setSourceKind} />;
}

/** Where the mail goes: the new account (the usual move) or only an archive on this computer (no second account). */
export function DestinationKindChoice() {
  const kind = useAppStore((s) => s.destinationKind);
  const setDestinationKind = useAppStore((s) => s.setDestinationKind);
  return <KindChoice legend="It should go" labels={{ account: 'To a new account', archive: 'To this computer only' }} kind={kind} onChoose={setDestinationKind} />;
}

/** The texts of the two archive cards: the archive a restore reads, and the one an archive-only job writes. */
const ARCHIVE_CARDS = {
  source: { title: 'Archive on this computer', line: 'Mail is copied from here (read only): an archive made by Mailferry, Thunderbird or mutt.', role: 'source-archive' },
  destination: {
    title: 'Save to this computer',
    line: 'The chosen folders are saved here as files, the same folder tree; run it again later to add what is new. No second account is needed.',
    role: 'destination-archive',
  },
} as const;

/** An archive in place of an account's card: the one to restore from, or the one to save to. */
function ArchiveEndCard({ end }: { end: keyof typeof ARCHIVE_CARDS }) {
  const path = useAppStore((s) => (end === 'source' ? s.sourceArchivePath : s.destinationArchivePath));
  const format = useAppStore((s) => (end === 'source' ? s.sourceArchiveFormat : s.destinationArchiveFormat));
  const api = useAppStoreApi().getState();
  return (
    <LocalArchiveCard
      {...ARCHIVE_CARDS[end]}
      path={path}
      format={format}
      onChooseFolder={() => void (end === 'source' ? api.chooseSourceArchive() : api.chooseDestinationArchive())}
      onChooseFormat={end === 'source' ? api.setSourceArchiveFormat : api.setDestinationArchiveFormat}
    />
  );
}

/** The archive to restore from: its folder and format, in place of the old account's card. */
export const SourceArchiveCard = () => <ArchiveEndCard end="source" />;

/** The archive an archive-only job saves the chosen folders to, in place of the new account's card. */
export const DestinationArchiveCard = () => <ArchiveEndCard end="destination" />;
