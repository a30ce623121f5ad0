"""Learn which Đ-less code segments are known abbreviations with Đ (restore.rules.codes).

    python scripts/build_code_segments.py --clean $VANBAN_DATA/clean/train.txt \
        --out models/lexicon/code_segments.tsv
"""

from __future__ import annotations

import argparse
import sys
from itertools import islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vanban.restore.rules.codes import count_segments, write_table  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--clean", type=Path, required=True, help="clean corpus lines")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--max-lines", type=int, default=2_000_000)
    args = ap.parse_args()
    with args.clean.open(encoding="utf-8") as lines:
        with_d, plain = count_segments(islice(lines, args.max_lines))
    print(f"{write_table(with_d, plain, args.out)} abbreviations -> {args.out}")


if __name__ == "__main__":
    main()
