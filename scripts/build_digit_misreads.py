"""Learn which lone digit tokens English-data OCR prints for syllables (restore.rules.digits).

    python scripts/build_digit_misreads.py --pairs $VANBAN_DATA/pairs/real_part1.tsv \
        $VANBAN_DATA/pairs/true_eng.tsv $VANBAN_DATA/pairs_lead/true_r2_eng.tsv \
        --out models/lexicon/digit_misreads.tsv
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vanban.restore.rules.digits import count_misreads, write_table  # noqa: E402


def read_pairs(paths: list[Path]):
    for path in paths:
        for row in path.read_text(encoding="utf-8").splitlines():
            noisy, tab, clean = row.partition("\t")
            if tab:
                yield noisy, clean.split("\t")[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--pairs", nargs="+", type=Path, required=True, help="noisy<TAB>clean files")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--min-count", type=int, default=3)
    args = ap.parse_args()
    rows = write_table(count_misreads(read_pairs(args.pairs)), args.out, args.min_count)
    print(f"{rows} rows -> {args.out}")


if __name__ == "__main__":
    main()
