/** Human-readable text for the CLI: sizes, durations, the plan table and the report. */
import type { CopyPlan, MappingReason } from '../contract/plan.js';
import type { JobProgress, JobReport } from '../contract/job.js';

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
      return reason.detail;
  }
};

const pad = (text: string, width: number): string => (text.length >= width ? text : text + ' '.repeat(width - text.length));
const padLeft = (text: string, width: number): string => (text.length >= width ? text : ' '.repeat(width - text.length) + text);

export const formatPlan = (plan: CopyPlan): string => {
  const rows = plan.folders.map((f) => {
    const mark = !f.source.isSelectable ? ' ' : f.isSelected ? (f.collidesWith.length ? '!' : '+') : '-';
    const why = [
      ...f.reasons.map(describeReason),
      ...(f.collidesWith.length ? [`COLLIDES with ${f.collidesWith.join(', ')}`] : []),
      ...(!f.isSelected && f.defaultUnselectedReason ? [`not selected: ${f.defaultUnselectedReason}`] : []),
      ...(!f.source.isSelectable ? ['container only'] : []),
    ].join('; ');
    return [mark, f.source.path, String(f.source.messages), formatBytes(f.source.sizeBytes), f.destinationPath + (f.destinationExists ? ' (exists)' : ''), why];
  });
  const widths = [1, 8, 8, 8, 8].map((min, i) => Math.min(48, Math.max(min, ...rows.map((r) => (r[i] as string).length))));
  const header = ['', 'Source folder', 'Messages', 'Size', 'Destination', 'Why'];
  const line = (r: string[]) =>
    [pad(r[0] as string, widths[0] as number), pad(r[1] as string, widths[1] as number), padLeft(r[2] as string, widths[2] as number), padLeft(r[3] as string, widths[3] as number), pad(r[4] as string, widths[4] as number), r[5]].join('  ');
  const quota = plan.destination.quota ? `; destination quota: ${formatBytes(plan.destination.quota.usedBytes)} used of ${formatBytes(plan.destination.quota.limitBytes)}` : '';
  const lines = [line(header), ...rows.map(line), '', `Selected: ${plan.selectedMessages} messages, ${formatBytes(plan.selectedBytes)}${quota}.`];
  if (plan.destination.quota && plan.destination.quota.limitBytes - plan.destination.quota.usedBytes < plan.selectedBytes) {
    lines.push('Warning: the destination quota may not hold everything selected.');
  }
  if (plan.hasCollisions) lines.push('Collisions (!) must be resolved (--map SRC=DST or --exclude) before copying.');
  lines.push('(+ copied, - not selected, ! collides)');
  return lines.join('\n');
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
      `${f.sourcePath} → ${f.destinationPath}: ${state}; expected ${f.expected}, copied ${f.copied}, already there ${f.alreadyThere}, skipped ${f.skipped}, failed ${f.failed.length}${f.surplus ? `, extra copies ${f.surplus}` : ''}${f.error ? ` (${f.error.message})` : ''}`,
    );
    for (const m of f.failed) {
      lines.push(`    UID ${m.uid}${m.subject ? ` "${m.subject}"` : ''}${m.date ? ` (${m.date})` : ''}: ${m.error.message}${m.error.serverText ? ` [server: ${m.error.serverText}]` : ''}`);
    }
  }
  const t = report.totals;
  lines.push(`Total: expected ${t.expected}, copied ${t.copied}, already there ${t.alreadyThere}, skipped ${t.skipped}, failed ${t.failed}. Job ${report.status}.`);
  return lines.join('\n');
};
