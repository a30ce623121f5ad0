"""How often restore.rules.numerals repairs a number printed with letters, and how often it is
right.

On aligned training pairs (true-channel runs, seed part 1), per kind of repair: how many firings
gave the gold token, changed a token that was right, or left a wrong one wrong. On clean text:
every firing (each would change a correct token, unless the source has a typo like "l5%").
The CERTAINTY table in restore/numerals.py comes from this report.

Usage: .venv/bin/python experiments/measure_numerals.py [--data $VANBAN_DATA] [--clean-lines 800000]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vanban.restore.decoder.lines import as_read  # noqa: E402
from vanban.restore.rules import numerals  # noqa: E402

from vanban.core.files import data_dir  # noqa: E402
from vanban.core.text import normalize, split_chunks  # noqa: E402


def pages(path: Path) -> Iterator[list[tuple[str, str | None]]]:
    """(noisy, clean or None when not chunk-aligned) lines of a pairs file, page by page."""
    rows: list[tuple[str, str | None]] = []
    page = None
    for line in path.open(encoding="utf-8"):
        fields = line.rstrip("\n").split("\t")
        if len(fields) < 2:
            continue
        page_id = fields[7] if len(fields) > 7 else path.name
        clean = fields[1] if len(fields) < 7 or fields[6] == "1" else None
        if page_id != page and rows:
            yield rows
            rows = []
        page = page_id
        rows.append((fields[0], clean))
    if rows:
        yield rows


def score_pairs(paths: list[Path]) -> Counter:
    counts: Counter = Counter()
    for path in paths:
        for page in pages(path):
            chunked = [split_chunks(as_read(noisy)) for noisy, _ in page]
            for (i, k), (digits, kind) in numerals.read_document(chunked).items():
                clean = page[i][1]
                gold = split_chunks(normalize(clean)) if clean is not None else []
                if len(gold) != len(chunked[i]):
                    continue
                printed, right = chunked[i][k].core, gold[k].core
                outcome = "right" if digits == right else "broke" if printed == right else "wrong"
                counts[kind, outcome] += 1
    return counts


def clean_firings(path: Path, max_lines: int) -> tuple[int, Counter, list[str]]:
    lines = [line.rstrip("\n") for line in islice(path.open(encoding="utf-8"), max_lines)]
    counts: Counter = Counter()
    examples = []
    document: list[str] = []
    for line in [*lines, ""]:
        if line:
            document.append(line)
            continue
        chunked = [split_chunks(text) for text in document]
        for (i, k), (digits, kind) in numerals.read_document(chunked).items():
            counts[kind] += 1
            examples.append(f"{kind}: {chunked[i][k].core} -> {digits} | {document[i][:70]}")
        document = []
    return len(lines), counts, examples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=data_dir())
    parser.add_argument("--clean-lines", type=int, default=800_000)
    args = parser.parse_args()
    paths = sorted((args.data / "true").glob("*.train.*.tsv"))
    paths += sorted((args.data / "true").glob("*.valid.*.tsv"))
    paths.append(args.data / "pairs" / "real_part1.tsv")
    counts = score_pairs(paths)
    print(f"aligned training pairs ({len(paths)} files)")
    for kind in numerals.CERTAINTY:
        right, wrong, broke = (counts[kind, o] for o in ("right", "wrong", "broke"))
        total = right + wrong + broke
        share = right / total if total else 0.0
        print(f"  {kind:10} fired {total:4}  gold {right:4} ({share:.0%})  "
              f"left wrong {wrong:3}  broke a right token {broke:3}")  # fmt: skip
    n_lines, fired, examples = clean_firings(args.data / "clean" / "train.txt", args.clean_lines)
    print(f"clean text, first {n_lines:,} lines of clean/train.txt: {dict(fired)}")
    for example in examples:
        print("  " + example)


if __name__ == "__main__":
    main()
