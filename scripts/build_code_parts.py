"""Inventory of document-code parts (QĐ, NQ, CP, UBND, TTg ...) in the corpus's train documents.

Counts the letter parts of codes (`restore.rules.code_repair.count_parts`) in every train-split
document of the admin and legal sources of ../shared/corpus (the split that
`vanban.corpus.clean.split_of` gives; valid and test documents are left out) and writes
`part<TAB>count` rows.

    python scripts/build_code_parts.py [--shared ../shared] [--out models/lexicon/code_parts.tsv]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from vanban.corpus.clean import iter_documents, shared_sources, split_of  # noqa: E402
from vanban.restore.rules.code_repair import PARTS_PATH, count_parts, write_parts  # noqa: E402

SOURCES = ("admin", "legal")


def train_lines(shared: Path):
    for source in shared_sources(shared):
        if source.name in SOURCES:
            for index, doc in enumerate(iter_documents(source.path)):
                if split_of(f"{source.name}:{index}") == "train":
                    yield from doc


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--out", type=Path, default=PARTS_PATH)
    ap.add_argument("--min-count", type=int, default=1)
    args = ap.parse_args()
    counts = count_parts(train_lines(args.shared))
    rows = write_parts(counts, args.out, args.min_count)
    top = ", ".join(f"{p} {n}" for p, n in counts.most_common(30))
    print(f"{rows} parts -> {args.out}; most frequent: {top}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
