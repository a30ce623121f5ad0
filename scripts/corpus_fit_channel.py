"""Fit the statistical noise channels and save them as JSON.

eng channel: true-channel eng pairs (train documents) + the real seed part-1 pairs (weighted up
per syllable).
vie channel: true-channel vie pairs only (light noise).
Usage: .venv/bin/python scripts/corpus_fit_channel.py [--true-dir $VANBAN_DATA/true]
       [--shared ../shared]
       [--out $VANBAN_DATA]   -> $VANBAN_DATA/channel.json, $VANBAN_DATA/channel_vie.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vanban.corpus.channel import NoiseChannel  # noqa: E402
from vanban.corpus.real import real_part1_pairs  # noqa: E402
from vanban.corpus.true_channel import aligned_pairs, printed_in_capitals  # noqa: E402

from vanban.core.files import data_dir  # noqa: E402

REAL_CHAR_SHARE = 0.1


def read_true_pairs(paths: list[Path]) -> list[tuple[str, str]]:
    """Chunk-aligned (noisy, clean) pairs of true-channel TSV files."""
    return [pair for path in paths for pair in aligned_pairs(path)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--true-dir", type=Path, default=data_dir() / "true")
    parser.add_argument(
        "--shared", type=Path, default=Path(__file__).resolve().parents[1] / "../shared"
    )
    parser.add_argument("--out", type=Path, default=data_dir())
    parser.add_argument("--no-real", action="store_true", help="eng channel from rendering only")
    args = parser.parse_args()
    real = [] if args.no_real else real_part1_pairs(args.shared.resolve())
    plan = [("eng", "channel", True), ("vie", "channel_vie", False)]
    for lang, name, use_real in plan[:1] if args.no_real else plan:
        found = sorted(args.true_dir.glob(f"{lang}.train.*.tsv"))
        files = [p for p in found if not printed_in_capitals(p)]  # restorer channel only
        true = read_true_pairs(files)
        meta = {
            "lang": lang,
            "true_files": [f.name for f in files],
            "true_pairs": len(true),
            "real_pairs": len(real) if use_real else 0,
        }
        channel = NoiseChannel.fit(
            true,
            real if use_real else [],
            real_char_share=REAL_CHAR_SHARE if use_real and real else 0.0,
            meta=meta,
        )
        suffix = "_noreal" if args.no_real and lang == "eng" else ""
        out = args.out / f"{name}{suffix}.json"
        channel.to_json(out)
        print(f"{out}: {len(channel.tokens)} syllables, {len(channel.chars)} chars, {meta}")


if __name__ == "__main__":
    main()
