"""What the restorer changes in text that needs no change: clean documents with their marks.

Clean text reads as fresh vie OCR (the `vie` channel profile), so every token the shipped
restorer changes there is either a right word made wrong (what "never make a line worse" is
about) or a typo of the source put right. The script prints each change with its line, for a
reader to sort, and the counts. A window of consecutive lines from each document of at least
50 lines is restored as one batch, like a page range of a scan.

Tuning data only: run it on `clean/valid.txt` (scripts/build_clean_corpus.py), never on test.

Usage: .venv/bin/python experiments/measure_clean_changes.py [--clean $VANBAN_DATA/clean/valid.txt]
           [--window 1000] [--seed 7] [--model models/restorer]
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vanban.restore.api import load_restorer  # noqa: E402
from vanban.restore.profile import detect_profile  # noqa: E402

from vanban.core.files import data_dir  # noqa: E402


def windows(path: Path, size: int, seed: int) -> list[list[str]]:
    """One window of `size` consecutive non-empty lines from each document of 50+ lines."""
    rng = random.Random(seed)
    out = []
    for doc in path.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in doc.split("\n") if line.strip()]
        if len(lines) < 50:
            continue
        start = rng.randrange(0, max(1, len(lines) - size))
        out.append(lines[start : start + size])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clean", type=Path, default=data_dir() / "clean/valid.txt")
    ap.add_argument("--window", type=int, default=1000, help="lines per document")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--model", type=Path, default=None)
    args = ap.parse_args()
    restorer = load_restorer(args.model)
    batches = windows(args.clean, args.window, args.seed)
    profiles: Counter = Counter()
    n_lines = n_tokens = changed_lines = 0
    changes: Counter = Counter()
    for batch in batches:
        profiles[detect_profile(batch)] += 1
        for line, restored in zip(batch, restorer.restore_lines(batch), strict=True):
            changed = [(t.source, t.text) for t in restored.tokens if t.text != t.source]
            n_lines += 1
            n_tokens += len(restored.tokens)
            changed_lines += restored.text != line
            changes.update(changed)
            if changed:
                print(f"  {changed} | {line}")
    print(
        f"{len(batches)} documents ({dict(profiles)}), {n_lines} lines, {n_tokens} tokens: "
        f"{changed_lines} lines and {sum(changes.values())} tokens changed"
    )


if __name__ == "__main__":
    main()
