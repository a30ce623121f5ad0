"""Numbers and codes the restorer changes in clean text (the target: none).

Runs the shipped restorer over windows of clean documents (one batch per window, like a page
range of a scan) twice: as printed (read as fresh vie OCR), and with every mark stripped (read
like eng OCR, where digits may be read as words and codes repaired). Counts the chunks that hold
a digit or are a document code (letters joined by - or /) and that the input had right: every
one the output changes is a number or code the restorer broke. Prints each change.

Documents: the valid and test splits of the admin and legal sources of ../shared/corpus (never
trained on), a window of `--window` lines from each (a fixed hashed start).

Usage: nice -n 10 .venv/bin/python scripts/measure_number_changes.py [--window 300] [--docs 40]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import regex  # noqa: E402
from vanban.corpus.channel import strip_accents_line  # noqa: E402
from vanban.corpus.clean import iter_source_documents, shared_sources, split_of  # noqa: E402
from vanban.restore import load_restorer  # noqa: E402

from vanban.core.text import split_chunks  # noqa: E402

_CODE = regex.compile(r"[\p{L}\p{N}]+(?:[-/][\p{L}\p{N}]+)+")


def is_number_or_code(core: str) -> bool:
    return any(ch.isdigit() for ch in core) or (
        bool(_CODE.fullmatch(core)) and any(ch.isupper() for ch in core)
    )


def windows(shared: Path, size: int, docs: int) -> list[list[str]]:
    out = []
    for source in shared_sources(shared):
        if source.name not in ("admin", "legal"):
            continue
        for key, lines in iter_source_documents(source):
            if split_of(key) in ("valid", "test") and len(out) < docs:
                start = random.Random(key).randrange(max(1, len(lines) - size))
                out.append(lines[start : start + size])
    return out


def compare(inputs: list[str], outputs: list[str], gold: list[str], show: bool) -> tuple[int, int]:
    """(number/code chunks the input had right, how many of them the output changed)."""
    right = changed = 0
    for given, out, ref in zip(inputs, outputs, gold, strict=True):
        triples = [split_chunks(x) for x in (given, out, ref)]
        if len({len(t) for t in triples}) != 1:
            continue
        for a, b, g in zip(*triples, strict=True):
            if is_number_or_code(g.core) and a.core == g.core:
                right += 1
                if b.core != g.core:
                    changed += 1
                    if show:
                        print(f"  {a.core} -> {b.core} | {given}")
    return right, changed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--window", type=int, default=300)
    ap.add_argument("--docs", type=int, default=40)
    ap.add_argument("--model", type=Path, default=None)
    args = ap.parse_args()
    restorer = load_restorer(args.model)
    batches = windows(args.shared, args.window, args.docs)
    for name, noise in (("as printed", lambda x: x), ("marks stripped", strip_accents_line)):
        right = changed = lines = 0
        for batch in batches:
            given = [noise(x) for x in batch]
            outputs = [r.text for r in restorer.restore_lines(given)]
            found = compare(given, outputs, batch, show=True)
            right, changed, lines = right + found[0], changed + found[1], lines + len(batch)
        print(f"{name}: {len(batches)} documents, {lines} lines: {changed} of {right} numbers "
              f"and codes changed")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
