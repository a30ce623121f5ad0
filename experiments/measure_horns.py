"""How often a ? ’ or ' that eng OCR prints right after a word is the horn of its ư/ơ.

For every chunk-aligned eng training pair (true-channel eng runs, seed part 1) whose noisy chunk
has such a mark right after its word: is the mark in the gold text (punctuation) or not (part of
the letter), and what `restore.decoder.lines.is_horn` decides, given the gold word as the
restored one.

Usage: .venv/bin/python experiments/measure_horns.py [--data $VANBAN_DATA]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vanban.restore.decoder.lines import HORN_MARKS, is_horn  # noqa: E402

from vanban.core.files import data_dir  # noqa: E402
from vanban.core.text import normalize, split_chunks  # noqa: E402


def count(paths: list[Path]) -> Counter:
    counts: Counter = Counter()
    for path in paths:
        for line in path.open(encoding="utf-8"):
            fields = line.rstrip("\n").split("\t")
            if len(fields) < 2 or (len(fields) > 6 and fields[6] != "1"):
                continue
            noisy, gold = split_chunks(fields[0]), split_chunks(normalize(fields[1]))
            if len(noisy) != len(gold):
                continue
            for k, (chunk, right) in enumerate(zip(noisy, gold, strict=True)):
                mark = chunk.suffix[:1]
                if not chunk.core or mark not in HORN_MARKS:
                    continue
                truth = "punctuation" if right.suffix[:1] == mark else "letter"
                dropped = is_horn(mark, right.core, noisy[k + 1 :])
                counts[mark, truth, "dropped" if dropped else "kept"] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=data_dir())
    args = parser.parse_args()
    paths = sorted((args.data / "true").glob("eng.train.*.tsv"))
    paths.append(args.data / "pairs" / "real_part1.tsv")
    counts = count(paths)
    print(f"aligned eng training pairs ({len(paths)} files): mark, what it was, what the rule does")
    for key, n in sorted(counts.items()):
        print(f"  {' '.join(key):32} {n:5}")
    for truth in ("letter", "punctuation"):
        total = sum(n for key, n in counts.items() if key[1] == truth)
        dropped = sum(n for key, n in counts.items() if key[1] == truth and key[2] == "dropped")
        print(f"{truth}: {total}, dropped {dropped}")


if __name__ == "__main__":
    main()
