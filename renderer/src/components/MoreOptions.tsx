/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { useId, type ReactNode } from 'react';
import { useAppStore, useAppStoreApi } from '../store/context.js';
import { ArchiveFormatOptions } from './ArchiveFormatOptions.js';

/** What "recent" may mean for newest mail first, in days. */
const RECENT_DAYS_CHOICES = [7, 14, 30, 90, 365];

/** One setting chosen from a list, with its line. */
function SelectOption(props: { id: string; label: string; line: string; value: number; choices: { value: number; text: string }[]; onChoose(value: number): void }) {
  return (
    <div className="option">
      <label htmlFor={props.id}>{props.label}</label>
      <select id={props.id} value={props.value} aria-describedby={`${props.id}-line`} onChange={(e) => props.onChoose(Number(e.target.value))}>
        {props.choices.map((c) => (
          <option key={c.value} value={c.value}>
            {c.text}
          </option>
        ))}
      </select>
      <p className="option-line" id={`${props.id}-line`}>
        {props.line}
      </p>
    </div>
  );
}

/** One setting that is on or off, with its line (and, when on, whatever refines it). */
function SwitchOption(props: { id: string; label: string; line: string; isOn: boolean; onSwitch(isOn: boolean): void; children?: ReactNode }) {
  return (
    <div className="option">
      <label className="checkbox option-switch">
        <input type="checkbox" checked={props.isOn} aria-describedby={`${props.id}-line`} onChange={(e) => props.onSwitch(e.target.checked)} />
        {props.label}
      </label>
      <p className="option-line" id={`${props.id}-line`}>
        {props.line}
      </p>
      {props.isOn && props.children}
    </div>
  );
}

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
      <SelectOption
        id={`${fieldId}-connections`}
        label="Connections to each server"
        line="More folders at once. Old servers often allow only two; more can make them slow or refuse."
        value={jobSettings.connectionsPerSide}
        choices={[1, 2, 3, 4].map((n) => ({ value: n, text: String(n) }))}
        onChoose={(n) => setJobSettings({ connectionsPerSide: n })}
      />
      <SelectOption
        id={`${fieldId}-speed`}
        label="Speed limit"
        line="Leaves room on your connection for other things while the move runs."
        value={jobSettings.maxMegabytesPerSecond}
        choices={[0, 1, 2, 5, 10].map((n) => ({ value: n, text: n === 0 ? 'No limit' : `${n} MB/s` }))}
        onChoose={(n) => setJobSettings({ maxMegabytesPerSecond: n })}
      />
      {hasAccount && (
        <SwitchOption
          id={`${fieldId}-newest`}
          label="Newest mail first"
          line={`Every folder’s mail of the last ${jobSettings.recentDays} days moves before anything older, so the new account is usable on the first day.`}
          isOn={jobSettings.newestFirst}
          onSwitch={(isOn) => setJobSettings({ newestFirst: isOn })}
        >
          <label className="option-inline">
            Recent means the last{' '}
            <select value={jobSettings.recentDays} onChange={(e) => setJobSettings({ recentDays: Number(e.target.value) })}>
              {[...new Set([...RECENT_DAYS_CHOICES, jobSettings.recentDays])]
                .sort((a, b) => a - b)
                .map((n) => (
                  <option key={n} value={n}>
                    {n} days
                  </option>
                ))}
            </select>
          </label>
        </SwitchOption>
      )}
      {hasAccount && (
        <SwitchOption
          id={`${fieldId}-flags`}
          label="Keep read state up to date on later runs"
          line="Each run marks the copies as read, answered or flagged where the old messages got those marks since. It never removes a mark."
          isOn={jobSettings.syncFlags}
          onSwitch={(isOn) => setJobSettings({ syncFlags: isOn })}
        />
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
