/** Small helpers shared by the benchmark scripts: medians, table cells, integer options. */

/** The median of the finite values, or undefined when there is none. */
export const median = (xs: number[]): number | undefined => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return undefined;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

/** A table cell: the number with `digits` decimals, or a dash when there is none. */
export const fmt = (x: number | undefined, digits = 1): string => (x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits));

/** A non-negative integer option, or the fallback when it is absent. */
export const intOption = (raw: string | undefined, fallback: number): number => (raw === undefined ? fallback : Math.max(0, Math.floor(Number(raw))));
