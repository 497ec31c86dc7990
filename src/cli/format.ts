/**
 * Human-readable text for the CLI: sizes, durations, the plan table and the report, and the
 * escaping that keeps text from servers and archives (folder names, subjects, server messages)
 * from acting on the terminal.
 */
import type { CopyPlan, MappingReason, Preflight } from '../contract/plan.js';
import type { JobProgress, JobReport } from '../contract/job.js';

/**
 * Characters that act on a terminal or hide text instead of showing: C0 controls (ESC starts
 * the sequences that move the cursor, recolour, retitle the window or write to the clipboard),
 * DEL, C1 controls (U+009B is a one-character CSI on some terminals), and the Unicode marks
 * that reorder or hide what follows (bidi overrides and isolates, zero-width characters, the
 * line and paragraph separators).
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
const UNSAFE_EXCEPT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

const escapeChar = (c: string): string => {
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
};

/** One piece of text from a server or an archive, safe to print: every unsafe character (a newline too) shown as `\x1b`, `\u202e`. */
export const shown = (text: string): string => text.replace(UNSAFE, escapeChar);

/** Whole lines of human output, safe to print: as `shown`, but newlines are kept (the net under the per-field escaping). */
export const terminalSafe = (text: string): string => text.replace(UNSAFE_EXCEPT_NEWLINE, escapeChar);

/**
 * One line of `--json` output. JSON.stringify escapes C0 controls but writes DEL, C1 controls
 * and U+2028/U+2029 as they are; those are escaped too (`\u009b`), which is the same JSON value.
 */
export const jsonLine = (value: unknown): string =>
  JSON.stringify(value).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) + '\n';

export const formatBytes = (bytes: number): string => {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
};

export const formatDuration = (seconds: number): string => {
  if (seconds < 60) return `${Math.max(0, Math.round(seconds))} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  const h = Math.floor(seconds / 3600);
  return `${h} h ${Math.round((seconds - h * 3600) / 60)} min`;
};

export const describeReason = (reason: MappingReason): string => {
  switch (reason.kind) {
    case 'same-name':
      return 'same name';
    case 'hierarchy':
      return 'separator/prefix translated';
    case 'special-use':
      return `${reason.use.slice(1)} folder${reason.existing ? " (the destination's own)" : ''}`;
    case 'renamed-by-user':
      return 'renamed by you';
    case 'sanitized':
      return shown(reason.detail);
  }
};

const pad = (text: string, width: number): string => (text.length >= width ? text : text + ' '.repeat(width - text.length));
const padLeft = (text: string, width: number): string => (text.length >= width ? text : ' '.repeat(width - text.length) + text);

export const formatPlan = (plan: CopyPlan): string => {
  const rows = plan.folders.map((f) => {
    const mark = !f.source.isSelectable ? ' ' : f.isSelected ? (f.collidesWith.length ? '!' : '+') : '-';
    const why = [
      ...f.reasons.map(describeReason),
      ...(f.collidesWith.length ? [`COLLIDES with ${f.collidesWith.map(shown).join(', ')}`] : []),
      ...(!f.isSelected && f.defaultUnselectedReason ? [`not selected: ${shown(f.defaultUnselectedReason)}`] : []),
      ...(!f.source.isSelectable ? ['container only'] : []),
    ].join('; ');
    return [mark, shown(f.source.path), String(f.source.messages), formatBytes(f.source.sizeBytes), shown(f.destinationPath) + (f.destinationExists ? ' (exists)' : ''), why];
  });
  const widths = [1, 8, 8, 8, 8].map((min, i) => Math.min(48, Math.max(min, ...rows.map((r) => (r[i] as string).length))));
  const header = ['', 'Source folder', 'Messages', 'Size', 'Destination', 'Why'];
  const line = (r: string[]) =>
    [pad(r[0] as string, widths[0] as number), pad(r[1] as string, widths[1] as number), padLeft(r[2] as string, widths[2] as number), padLeft(r[3] as string, widths[3] as number), pad(r[4] as string, widths[4] as number), r[5]].join('  ');
  // The space on the destination is the pre-flight's to say (formatPreflight), with what it knows of earlier runs.
  const lines = [line(header), ...rows.map(line), '', `Selected: ${plan.selectedMessages} messages, ${formatBytes(plan.selectedBytes)}.`];
  if (plan.hasCollisions) lines.push('Collisions (!) must be resolved (--map SRC=DST or --exclude) before copying.');
  lines.push('(+ copied, - not selected, ! collides)');
  return lines.join('\n');
};

/** The pre-flight under the plan: what will not fit or will be refused, before anything is copied. */
export const formatPreflight = (p: Preflight, hasRefusedArchive: boolean): string => {
  const lines: string[] = ['', 'Before copying:'];
  if (p.quota) {
    const free = Math.max(0, p.quota.limitBytes - p.quota.usedBytes);
    lines.push(
      p.quota.fits
        ? `  Space: the new account has ${formatBytes(free)} free; the move adds about ${formatBytes(p.quota.neededBytes)}. It fits.`
        : `  Space: the new account has ${formatBytes(free)} free, but the move adds about ${formatBytes(p.quota.neededBytes)}. It does not fit: free space there, or leave folders out.`,
    );
  } else lines.push('  Space: the new account does not say how much room it has.');
  if (p.refused.length > 0) {
    const fate = hasRefusedArchive ? 'they go to the archive given with --refused-to instead' : 'they are left out and listed in the report (use --refused-to to keep them in a local archive)';
    lines.push(`  Too large: ${p.refused.length} message(s), ${formatBytes(p.refusedBytes)}, are over the new account's limit; ${fate}:`);
    for (const m of p.refused.slice(0, 50)) {
      lines.push(`    ${shown(m.folder)}  UID ${m.uid}  ${m.date?.slice(0, 10) ?? ''}  ${formatBytes(m.size)}  ${shown(m.subject ?? '(no subject)')}`);
    }
    if (p.refused.length > 50) lines.push(`    … and ${p.refused.length - 50} more (all of them in --json).`);
  } else if (p.maxMessageBytes !== undefined) lines.push(`  Size: every selected message is within the new account's ${formatBytes(p.maxMessageBytes)} limit.`);
  for (const r of p.renamedFolders) lines.push(`  Name: ${shown(r.folder)} lands as ${shown(r.destination)} (${shown(r.reason)}).`);
  if (p.dailyLimit) {
    lines.push(
      p.dailyLimit.days > 1
        ? `  Time: ${p.dailyLimit.provider} takes about ${formatBytes(p.dailyLimit.bytesPerDay)} a day over IMAP, so this move needs about ${p.dailyLimit.days} days. Mailferry waits at the limit and goes on by itself; you can also stop and run the same command again.`
        : `  Time: within ${p.dailyLimit.provider}'s daily upload limit of ${formatBytes(p.dailyLimit.bytesPerDay)}.`,
    );
  }
  return lines.join('\n') + '\n';
};

export const formatProgressLine = (p: JobProgress): string => {
  const percent = p.bytesTotal > 0 ? Math.floor((p.bytesDone / p.bytesTotal) * 100) : 100;
  const rate = p.bytesPerSecond > 0 ? `, ${formatBytes(p.bytesPerSecond)}/s` : '';
  const eta = p.etaSeconds !== null && p.etaSeconds > 0 ? `, about ${formatDuration(p.etaSeconds)} left` : '';
  return `${percent}%: ${p.messagesDone}/${p.messagesTotal} messages, ${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}${rate}${eta}`;
};

export const formatReport = (report: JobReport): string => {
  const lines: string[] = [];
  for (const f of report.folders) {
    const state = f.isComplete ? 'complete' : f.status;
    lines.push(
      `${shown(f.sourcePath)} → ${shown(f.destinationPath)}: ${state}; expected ${f.expected}, copied ${f.copied}, already there ${f.alreadyThere}, skipped ${f.skipped}, failed ${f.failed.length}${f.surplus ? `, extra copies ${f.surplus}` : ''}${f.flagsUpdated ? `, flags brought up to date on ${f.flagsUpdated}` : ''}${f.error ? ` (${shown(f.error.message)})` : ''}`,
    );
    for (const m of f.failed) {
      lines.push(
        `    UID ${m.uid}${m.subject ? ` "${shown(m.subject)}"` : ''}${m.date ? ` (${shown(m.date)})` : ''}: ${shown(m.error.message)}${m.error.serverText ? ` [server: ${shown(m.error.serverText)}]` : ''}`,
      );
    }
  }
  const t = report.totals;
  lines.push(`Total: expected ${t.expected}, copied ${t.copied}, already there ${t.alreadyThere}, skipped ${t.skipped}, failed ${t.failed}. Job ${report.status}.`);
  return lines.join('\n');
};
