#!/usr/bin/env bash
# Rebuilds NotoSansCJKsc-Regular-subset.otf (label-templates/fonts/README.md, docs/decisions.md D69).
# Needs Debian bookworm's fonts-noto-cjk (1:20220127+repack1-1) and python3-fonttools (4.38.0):
#   apt-get install fonts-noto-cjk python3-fonttools
set -euo pipefail
cd "$(dirname "$0")"
/usr/bin/python3 cjk-charset.py --hangul > cjk-unicodes.txt
/usr/bin/python3 -m fontTools.subset /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc --font-number=2 \
  --unicodes-file=cjk-unicodes.txt --layout-features='*' --no-hinting --output-file=../NotoSansCJKsc-Regular-subset.otf
sha256sum ../NotoSansCJKsc-Regular-subset.otf
