/**
 * Label text normalisation, apart from the shaper (text-shaper.ts) so that the content checks at intake
 * (content-checks.ts) use it without loading the fonts (D136).
 */

/**
 * Canonical text for labels: NFC (so "ä" is one glyph, not "a" + a combining mark the layout cannot attach),
 * whitespace runs collapsed to one space, soft hyphens and control characters removed.
 */
export function normaliseText(s: string): string {
  let out = '';
  for (const ch of s.normalize('NFC')) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0x09 || cp === 0x0a || cp === 0x0b || cp === 0x0c || cp === 0x0d) out += ' ';
    else if (cp >= 0x20 && (cp < 0x7f || cp > 0x9f) && cp !== 0xad && cp !== 0x200b) out += ch;
  }
  return out.replace(/ +/g, ' ').trim();
}
