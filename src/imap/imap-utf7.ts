/**
 * Mailbox names on the wire (RFC 3501 §5.1.3, "modified UTF-7"): printable ASCII stays as it
 * is except `&`, which becomes `&-`; any other run of characters is UTF-16BE in base64 with
 * `,` for `/` and no padding, between `&` and `-`.
 */

const isDirect = (code: number): boolean => code >= 0x20 && code <= 0x7e;

/** Encodes a mailbox name for a server that has not enabled UTF8=ACCEPT. */
export const encodeMailboxName = (name: string): string => {
  let out = '';
  let i = 0;
  while (i < name.length) {
    const code = name.charCodeAt(i);
    if (code === 0x26) {
      out += '&-';
      i++;
      continue;
    }
    if (isDirect(code)) {
      out += name[i];
      i++;
      continue;
    }
    let end = i;
    while (end < name.length && !isDirect(name.charCodeAt(end))) end++;
    const utf16 = Buffer.alloc((end - i) * 2);
    for (let k = i; k < end; k++) utf16.writeUInt16BE(name.charCodeAt(k), (k - i) * 2);
    out += `&${utf16.toString('base64').replace(/=+$/, '').replace(/\//g, ',')}-`;
    i = end;
  }
  return out;
};
