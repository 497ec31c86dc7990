/**
 * IMAP's modified UTF-7 (RFC 3501 §5.1.3), the encoding Dovecot and Courier use for Maildir++
 * folder names on disk by default: printable ASCII stands for itself, `&` is `&-`, anything
 * else is `&` + base64 of UTF-16BE with `,` for `/` + `-`.
 */

const isDirect = (code: number): boolean => code >= 0x20 && code <= 0x7e;

/** Unicode text → modified UTF-7 (ASCII only). */
export const encodeModifiedUtf7 = (text: string): string => {
  let out = '';
  let pending: number[] = [];
  const flush = (): void => {
    if (pending.length === 0) return;
    const bytes = Buffer.alloc(pending.length * 2);
    pending.forEach((unit, i) => bytes.writeUInt16BE(unit, i * 2));
    out += `&${bytes.toString('base64').replace(/=+$/, '').replace(/\//g, ',')}-`;
    pending = [];
  };
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (isDirect(unit)) {
      flush();
      out += unit === 0x26 ? '&-' : text[i];
    } else pending.push(unit);
  }
  flush();
  return out;
};

/** Modified UTF-7 → Unicode text; anything not a valid `&...-` run is left as it is. */
export const decodeModifiedUtf7 = (text: string): string =>
  text.replace(/&([A-Za-z0-9+,]*)-/g, (_, b64: string) => {
    if (b64 === '') return '&';
    const bytes = Buffer.from(b64.replace(/,/g, '/'), 'base64');
    let s = '';
    for (let i = 0; i + 1 < bytes.length; i += 2) s += String.fromCharCode(bytes.readUInt16BE(i));
    return s;
  });
