/**
 * A certificate fingerprint in groups of four bytes ("3A:9F:1C:44:"), so it can be read out and
 * compared group by group, and a line only ever breaks between groups, never inside a byte.
 * The groups joined give back the fingerprint exactly (copying it copies the real thing).
 */
export const FINGERPRINT_GROUP_BYTES = 4;

export function fingerprintGroups(fingerprint: string): string[] {
  const bytes = fingerprint.split(':');
  const groups: string[] = [];
  for (let i = 0; i < bytes.length; i += FINGERPRINT_GROUP_BYTES) {
    const isLast = i + FINGERPRINT_GROUP_BYTES >= bytes.length;
    groups.push(bytes.slice(i, i + FINGERPRINT_GROUP_BYTES).join(':') + (isLast ? '' : ':'));
  }
  return groups;
}
