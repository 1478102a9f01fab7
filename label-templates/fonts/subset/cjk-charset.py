"""The character set of the bundled CJK subset (label-templates/fonts/README.md): one code point per line, U+XXXX."""
import sys

def rows(codec, r0, r1):
    # The two-byte rows r0..r1 (cells 0xA1..0xFE) of a national standard, through Python's own codec tables.
    out = set()
    for hi in range(r0, r1 + 1):
        for lo in range(0xA1, 0xFF):
            try:
                ch = bytes([hi, lo]).decode(codec)
            except UnicodeDecodeError:
                continue
            if len(ch) == 1:
                out.add(ord(ch))
    return out

cps = set()
cps |= rows('gb2312', 0xB0, 0xF7)   # GB 2312 levels 1 and 2: all 6,763 simplified Hanzi of the national standard
cps |= rows('euc_jp', 0xB0, 0xCF)   # JIS X 0208 level 1: 2,965 common Kanji
if '--hangul' in sys.argv:
    cps |= rows('euc_kr', 0xB0, 0xC8)  # KS X 1001: 2,350 common Hangul syllables
cps |= set(range(0x3000, 0x3040))   # CJK symbols and punctuation (、。「」〜)
cps |= set(range(0x3041, 0x3097)) | set(range(0x3099, 0x30A0))  # Hiragana
cps |= set(range(0x30A0, 0x3100))   # Katakana
cps |= set(range(0xFF01, 0xFF61)) | set(range(0xFFE0, 0xFFE7))  # fullwidth forms
cps |= set(range(0xFF61, 0xFFA0))   # halfwidth Katakana
for cp in sorted(cps):
    print('U+%04X' % cp)
