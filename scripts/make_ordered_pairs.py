"""Noisy/clean pairs in document order, for training the restorer with neighbouring-line context.

Reads clean lines (documents separated by an empty line, as `corpus/clean.py` writes them),
corrupts each document with one channel: the fitted statistical eng-OCR channel
(`corpus.channel.NoiseChannel`), accent stripping, or a light channel (a few words corrupted,
like fresh `vie` OCR), and writes `noisy<TAB>clean` rows with an empty row between documents.

    python scripts/make_ordered_pairs.py --clean $VANBAN_DATA/clean/train.txt \
        --channel $VANBAN_DATA/channel.json --out $VANBAN_DATA/pairs/ordered.tsv --lines 400000
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vanban.corpus.channel import NoiseChannel, strip_accents_line  # noqa: E402

from vanban.core.files import atomic_open
from vanban.core.text import normalize, split_chunks  # noqa: E402


def documents(path: Path, max_doc_lines: int):
    """Yield documents as lists of lines, long ones cut into pieces of `max_doc_lines`."""
    doc: list[str] = []
    with path.open(encoding="utf-8") as fh:
        for raw in fh:
            line = raw.rstrip("\n")
            if not line.strip():
                if doc:
                    yield doc
                doc = []
                continue
            doc.append(normalize(line))
            if len(doc) >= max_doc_lines:
                yield doc
                doc = []
    if doc:
        yield doc


def light(channel: NoiseChannel, line: str, rng: random.Random, rate: float) -> str:
    """Corrupt only a few words of a line (fresh vie OCR makes few errors)."""
    parts = []
    for chunk in split_chunks(line):
        core = chunk.core
        if core and rng.random() < rate:
            corrupt = rng.random() < 0.5
            core = channel.corrupt_word(core, rng) if corrupt else strip_accents_line(core)
        parts.append(chunk.space_before + chunk.prefix + core + chunk.suffix)
    return "".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--clean", type=Path, required=True)
    ap.add_argument("--channel", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--lines", type=int, default=400_000)
    ap.add_argument("--skip-docs", type=float, default=0.5, help="share of documents skipped")
    ap.add_argument("--mix", default="eng:0.7,strip:0.2,light:0.1")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    channel = NoiseChannel.from_json(args.channel)
    mix = [(k, float(w)) for k, w in (p.split(":") for p in args.mix.split(","))]
    kinds, weights = [k for k, _ in mix], [w for _, w in mix]
    written = 0
    with atomic_open(args.out) as out:
        for doc in documents(args.clean, max_doc_lines=60):
            if rng.random() < args.skip_docs:
                continue
            kind = rng.choices(kinds, weights)[0]
            for line in doc:
                if kind == "eng":
                    noisy = channel.corrupt(line, rng)
                elif kind == "strip":
                    noisy = strip_accents_line(line)
                else:
                    noisy = light(channel, line, rng, rate=0.08)
                out.write(f"{noisy}\t{line}\n".replace("\r", " "))
            out.write("\n")
            written += len(doc)
            if written >= args.lines:
                break
    print(f"wrote {written} lines to {args.out}")


if __name__ == "__main__":
    main()
