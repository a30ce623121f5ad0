"""Build $VANBAN_DATA/clean/{train,valid,test}.txt from ../shared/corpus and seed 002.

One wrapped, normalized line per line; documents separated by one empty line.
Usage: python scripts/build_clean_corpus.py [--shared ../shared] [--out $VANBAN_DATA/clean]
       [--jobs 2] [--wiki-share 0.2]
The shipped 4-gram LM counts $VANBAN_DATA/clean_lm/train.txt, built with --wiki-share 1.0 (every
Wikipedia document of the train split); the network's data uses the default 20%.
"""

from __future__ import annotations

import argparse
import sys
from multiprocessing import Pool
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vanban.corpus.clean import (  # noqa: E402
    SPLITS,
    Source,
    iter_source_documents,
    seed_markdown_documents,
    shared_sources,
    split_of,
)

from vanban.core.files import atomic_open, data_dir  # noqa: E402


def build_source(args: tuple[Source, Path]) -> dict[str, int]:
    """Write one source's documents into per-split part files; return line counts."""
    source, parts_dir = args
    handles = {s: open(parts_dir / f"{source.name}.{s}.txt", "w", encoding="utf-8") for s in SPLITS}
    counts = dict.fromkeys(SPLITS, 0)
    for key, lines in iter_source_documents(source):
        split = split_of(key)
        handles[split].write("\n".join(lines) + "\n\n")
        counts[split] += len(lines)
    for handle in handles.values():
        handle.close()
    return {f"{source.name}.{s}": n for s, n in counts.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--shared", type=Path, default=Path(__file__).resolve().parents[1] / "../shared"
    )
    parser.add_argument("--out", type=Path, default=data_dir() / "clean")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--wiki-share", type=float, default=0.2, help="share of Wikipedia docs")
    args = parser.parse_args()
    shared = args.shared.resolve()
    if not (shared / "corpus").is_dir():
        sys.exit(f"{shared}: no corpus/ directory")
    parts = args.out / "parts"
    parts.mkdir(parents=True, exist_ok=True)
    sources = shared_sources(shared, args.wiki_share)
    with Pool(args.jobs) as pool:
        counts = {}
        for result in pool.imap_unordered(build_source, [(s, parts) for s in sources]):
            counts.update(result)
            print(result, flush=True)
    seed_docs = list(seed_markdown_documents(shared))
    for split in SPLITS:
        with atomic_open(args.out / f"{split}.txt") as out:
            if split == "train":
                for _, lines in seed_docs:
                    out.write("\n".join(lines) + "\n\n")
            for source in sources:
                with open(parts / f"{source.name}.{split}.txt", encoding="utf-8") as part:
                    for chunk in iter(lambda: part.read(1 << 20), ""):
                        out.write(chunk)
    for source in sources:
        for split in SPLITS:
            (parts / f"{source.name}.{split}.txt").unlink()
    parts.rmdir()
    print("seed 002 lines:", sum(len(lines) for _, lines in seed_docs))
    for key in sorted(counts):
        print(f"{key}\t{counts[key]}")


if __name__ == "__main__":
    main()
