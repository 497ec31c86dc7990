/** Compact IMAP sequence-set for UIDs: [1,2,3,5,7,8] → "1:3,5,7:8". */
export const toUidSet = (uids: readonly number[]): string => {
  const sorted = [...new Set(uids)].sort((a, b) => a - b);
  const parts: string[] = [];
  let start = sorted[0];
  let previous = start;
  for (let i = 1; i <= sorted.length; i++) {
    const uid = sorted[i];
    if (uid !== undefined && previous !== undefined && uid === previous + 1) {
      previous = uid;
      continue;
    }
    if (start !== undefined && previous !== undefined) parts.push(start === previous ? `${start}` : `${start}:${previous}`);
    start = uid;
    previous = uid;
  }
  return parts.join(',');
};

/** Splits a list into chunks whose UID sets stay short enough for any server's line limit. */
export const chunkUids = (uids: readonly number[], maxPerChunk = 2000): number[][] => {
  const chunks: number[][] = [];
  for (let i = 0; i < uids.length; i += maxPerChunk) chunks.push(uids.slice(i, i + maxPerChunk));
  return chunks;
};

/** "from:to", or "from:*" without an upper bound (which also returns the highest message: filter). */
export const uidRange = (fromUid: number, toUid?: number): string => `${Math.max(1, fromUid)}:${toUid === undefined ? '*' : Math.max(1, toUid)}`;
