/** Human-readable sizes, counts, speeds and durations for the UI. */

const UNITS = ['bytes', 'KB', 'MB', 'GB', 'TB'] as const;

/** 0 → "0 bytes", 1536 → "1.5 KB", 3_500_000_000 → "3.3 GB" (binary multiples, as mail clients show them). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes <= 0) return '0 bytes';
  if (bytes < 1024) return `${Math.round(bytes)} ${bytes === 1 ? 'byte' : 'bytes'}`;
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = value < 10 ? 1 : 0;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

export function formatSpeed(bytesPerSecond: number): string {
  if (!Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) return '—';
  return `${formatBytes(bytesPerSecond)}/s`;
}

const numberFormat = new Intl.NumberFormat('en');
export function formatCount(n: number): string {
  return numberFormat.format(n);
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** An estimate in words: "less than a minute", "about 3 min", "about 2 h 10 min". */
export function formatEta(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds) || seconds < 0) return 'working it out…';
  if (seconds < 45) return 'less than a minute';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `about ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours >= 24) {
    const days = Math.round(hours / 24);
    return `about ${days} ${days === 1 ? 'day' : 'days'}`;
  }
  // Past an hour, five-minute steps are as honest as an estimate gets.
  const roundedRest = Math.round(rest / 5) * 5;
  return roundedRest === 0 || roundedRest === 60 ? `about ${hours + (roundedRest === 60 ? 1 : 0)} h` : `about ${hours} h ${roundedRest} min`;
}

export function formatPercent(done: number, total: number): string {
  if (total <= 0) return done > 0 ? '100%' : '0%';
  const p = Math.min(100, Math.max(0, (done / total) * 100));
  // Never show 100% before the last byte is there.
  return `${p >= 99.5 && done < total ? 99 : Math.round(p)}%`;
}

export function formatDateTime(value: string | number | undefined): string {
  if (value === undefined || value === '') return '—';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return d.toLocaleString('en-GB', { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** A day without the time: "14 Mar 2020". */
export function formatDate(value: string | undefined): string {
  if (value === undefined || value === '') return '—';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return d.toLocaleDateString('en-GB', { year: 'numeric', month: 'short', day: 'numeric' });
}
