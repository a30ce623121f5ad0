"""Choose the margin a digit in running text must be beaten by (restore.rules.digit_words.MARGIN).

Tuning data only: the eng-OCR documents of $VANBAN_DATA/heldout/tune (build_heldout_sets.py) and,
as real pairs that may be trained on, seed 000 part 1. For each margin: pooled syllable accuracy,
digit-for-word errors fixed, and numbers the input had right that the output broke.

Usage: nice -n 10 .venv/bin/python scripts/tune_digit_words.py [--margins 3,6,10] [--part1]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from eval_restore import HELDOUT_DIR, evaluate_documents, heldout_sets, seed_sets  # noqa: E402
from vanban.restore import load_restorer  # noqa: E402
from vanban.restore.rules.digit_words import DigitWords  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--heldout-dir", type=Path, default=HELDOUT_DIR)
    ap.add_argument("--margins", default="3,6,10")
    ap.add_argument("--part1", action="store_true", help="also seed 000 part 1")
    args = ap.parse_args()
    docs = [s for s in heldout_sets(args.heldout_dir, "tune") if s.group.endswith("-eng")]
    part1 = [s for s in seed_sets(args.shared) if s.name == "seed000-part1" and args.part1]
    for s in part1:
        s.group = "seed000-part1"
    restorer = load_restorer()
    print("| margin | set | syllable acc | digit-for-word sites | fixed | numbers broken |")
    print("|---|---|---|---|---|---|")
    for margin in (float(x) for x in args.margins.split(",")):
        restorer.decoder.digit_words = DigitWords(restorer.decoder.lm, margin=margin)
        for group in (docs, part1):
            if not group:
                continue
            row = evaluate_documents(restorer, group)[0]
            cells = [f"{margin:g}", row["set"], f"{100 * row['syllable_accuracy']:.2f}%",
                     row["digit_word_sites"], row["digit_word_fixed"],
                     f"{row['numbers_broken']} of {row['numbers_right_in_input']}"]  # fmt: skip
            print("| " + " | ".join(map(str, cells)) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
