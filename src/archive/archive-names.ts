/**
 * Folder names ↔ file names for local archives, safe on Windows, macOS and Linux at once.
 *
 * A folder name from IMAP can hold anything: `/`, `:`, `?`, a trailing dot, `CON`. Each level of a
 * folder path becomes one file or directory name, and that name must be valid on all three
 * systems, because an archive written on one is read on another. The mapping is reversible
 * (`fileNameToSegment(segmentToFileName(s)) === s`) except for names too long for any file
 * system, which are cut and made unique with a hash; the archive's index keeps the real name.
 *
 * Rules (escapes are `%XX`, the UTF-8 bytes of one character, uppercase hex; `%` itself is
 * escaped, so decoding is unambiguous):
 * - characters no Windows file name may hold (`< > : " / \ | ? *`) and control characters;
 * - a leading `.` (hidden on Unix, ignored by Thunderbird, a hierarchy level in Maildir++) and
 *   a leading `~` (home-directory expansion in shells and Dovecot);
 * - trailing dots and spaces (Windows drops them silently, so `a.` and `a` would be one file);
 * - Windows device names (`CON`, `PRN`, `AUX`, `NUL`, `COM1`–`COM9`, `LPT1`–`LPT9`, also with
 *   superscript digits, `CONIN$`, `CONOUT$`), with or without an extension (`aux.txt`), in any
 *   case: their first character is escaped;
 * - with `escapeDots` (Maildir++, where `.` separates levels) every `.`;
 * - with `reservedSuffixes` (Thunderbird mbox: `.sbd`, `.msf`, ...) the dot before such a suffix.
 * Letters of any script stay as they are (NFC), so names remain readable.
 */
import { createHash } from 'node:crypto';

/** Longest encoded name, in UTF-8 bytes: 255 is the limit of ext4/APFS, minus room for suffixes we add. */
export const MAX_NAME_BYTES = 200;

export interface NameOptions {
  /** Escape every `.` (Maildir++ levels). */
  escapeDots?: boolean;
  /** File-name endings another program reads a meaning into; the dot before them is escaped. */
  reservedSuffixes?: readonly string[];
}

/** Endings Thunderbird gives a meaning to in a Local Folders tree; a folder must not end so. */
export const THUNDERBIRD_RESERVED_SUFFIXES = ['.sbd', '.msf', '.snm', '.toc', '.dat', '.html', '.htm', '.mozmsgs', '.json', '.sqlite'] as const;

const WINDOWS_FORBIDDEN = new Set(['<', '>', ':', '"', '/', '\\', '|', '?', '*', '%']);
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)(\.|$)/i;

const escapeChar = (ch: string): string =>
  [...Buffer.from(ch, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');

/** Cuts a name to MAX_NAME_BYTES at a character boundary and appends a short hash of the whole. */
const shorten = (name: string): string => {
  if (Buffer.byteLength(name, 'utf8') <= MAX_NAME_BYTES) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 10);
  let cut = '';
  for (const ch of name) {
    if (Buffer.byteLength(cut + ch, 'utf8') > MAX_NAME_BYTES - 12) break;
    cut += ch;
  }
  // An escape must not be cut in half, and the cut must not end in a dot or space.
  cut = cut.replace(/%[0-9A-F]?$/, '').replace(/[. ]+$/, '');
  return `${cut}~${hash}`;
};

/** The file name for one level of a folder path. */
export const segmentToFileName = (segment: string, options: NameOptions = {}): string => {
  const chars = [...segment.normalize('NFC')];
  const out = chars.map((ch, i) => {
    const code = ch.codePointAt(0) as number;
    if (code < 0x20 || code === 0x7f || WINDOWS_FORBIDDEN.has(ch)) return escapeChar(ch);
    if (i === 0 && (ch === '.' || ch === '~')) return escapeChar(ch);
    if (options.escapeDots && ch === '.') return escapeChar(ch);
    return ch;
  });
  // Trailing dots and spaces: Windows strips them.
  for (let i = out.length - 1; i >= 0 && (out[i] === '.' || out[i] === ' '); i--) out[i] = escapeChar(out[i] as string);
  // map-folders never yields an empty level; keep the file name non-empty all the same.
  if (out.length === 0) return '_';
  let name = out.join('');
  if (WINDOWS_DEVICE.test(name)) name = escapeChar(name[0] as string) + name.slice(1);
  for (const suffix of options.reservedSuffixes ?? []) {
    if (name.toLowerCase().endsWith(suffix)) {
      const at = name.length - suffix.length;
      name = name.slice(0, at) + escapeChar('.') + name.slice(at + 1);
    }
  }
  return shorten(name);
};

/** The folder level a file name stands for (inverse of segmentToFileName for names it made). */
export const fileNameToSegment = (fileName: string): string => {
  // Runs of %XX escapes are decoded together: one character can be several UTF-8 bytes.
  const decoded = fileName.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    const bytes = Buffer.from(run.replace(/%/g, ''), 'hex');
    return bytes.toString('utf8');
  });
  return decoded.normalize('NFC');
};

/** Case- and normalization-insensitive key: two names equal under it are one file on Windows and macOS. */
export const fileNameKey = (fileName: string): string => fileName.normalize('NFC').toLowerCase();

/**
 * A readable, safe file name for one message: `2004-03-02 140509 Subject words.eml`. Not
 * reversible (the index keeps the facts); collisions are resolved by the caller.
 */
export const messageFileName = (internalDate: Date, subject: string | undefined, extension = '.eml'): string => {
  const iso = Number.isNaN(internalDate.getTime()) ? '0000-00-00T000000' : internalDate.toISOString().replace(/:/g, '').slice(0, 17);
  const stamp = iso.replace('T', ' ');
  const cleaned = (subject ?? '')
    .normalize('NFC')
    .replace(/[\u0000-\u001f\u007f<>:"/\\|?*%]/g, '_')
    .replace(/\s+/g, ' ')
    .trim();
  let words = '';
  for (const ch of cleaned) {
    if (Buffer.byteLength(words + ch, 'utf8') > 120) break;
    words += ch;
  }
  words = words.replace(/[. ]+$/, '');
  return `${stamp}${words ? ` ${words}` : ''}${extension}`;
};
