/**
 * Subjects as people read them. The engine hands headers on as the message has them, so a
 * subject outside ASCII arrives as RFC 2047 encoded words (`=?UTF-8?B?R3Jvw59l?=`); this decodes
 * them for display. Anything it cannot decode (an unknown charset, a broken word) stays as it is.
 */

const ENCODED_WORD = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;
/** Only white space between two encoded words: RFC 2047 §6.2 says it is not part of the text. */
const BETWEEN_WORDS = /(\?=)\s+(?==\?[^?\s]+\?[BbQq]\?)/g;

const bytesOfBase64 = (text: string): Uint8Array => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

const bytesOfQ = (text: string): Uint8Array => {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (c === '_') bytes.push(0x20);
    else if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(c.charCodeAt(0) & 0xff);
  }
  return Uint8Array.from(bytes);
};

/** Decodes the encoded words of a header value; what does not decode is kept as written. */
export function decodeMimeWords(value: string): string {
  if (!value.includes('=?')) return value;
  return value.replace(BETWEEN_WORDS, '$1').replace(ENCODED_WORD, (word, charset: string, encoding: string, text: string) => {
    try {
      // RFC 2231 allows a language after the charset (`UTF-8*en`).
      const decoder = new TextDecoder(charset.split('*')[0]!.toLowerCase(), { fatal: true });
      return decoder.decode(encoding.toUpperCase() === 'B' ? bytesOfBase64(text) : bytesOfQ(text));
    } catch {
      return word;
    }
  });
}
