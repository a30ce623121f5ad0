"""Build the restorer's training mix and evaluation pairs from $VANBAN_DATA (clean text, channels).

Writes (noisy<TAB>clean, one line pair per row, chunk-aligned):
  pairs/train.tsv        shuffled mix: statistical eng channel, true-channel eng,
                         true-channel vie + vie-like channel, accent-stripped (--shares)
  pairs/real_part1.tsv   the real seed 000 part-1 pairs (non-empty lines, document order)
  pairs/true_{eng,vie}.tsv   every chunk-aligned true-channel pair of train documents
  eval/eng.tsv, eval/vie.tsv   true-channel pairs of held-out (test) documents
  eval/eng-caps.tsv, eval/vie-caps.tsv   the same, of pages printed in capitals
  eval/stripped.tsv      accent-stripped lines of held-out documents
Usage: .venv/bin/python scripts/build_pairs.py [--total 1200000] [--jobs 2] [--data $VANBAN_DATA]
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from multiprocessing import Pool
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vanban.corpus.channel import NoiseChannel, strip_accents_line  # noqa: E402
from vanban.corpus.real import real_part1_pairs  # noqa: E402
from vanban.corpus.true_channel import (  # noqa: E402
    aligned_pairs,
    is_chunk_aligned,
    printed_in_capitals,
)

from vanban.core.files import atomic_open, data_dir  # noqa: E402

KINDS = ("stat_eng", "true_eng", "true_vie", "vie_like", "stripped")
_CHANNELS: dict[str, NoiseChannel] = {}


def read_clean_lines(path: Path) -> list[str]:
    with open(path, encoding="utf-8") as handle:
        return [line.rstrip("\n") for line in handle if line.strip()]


def read_true(data: Path, lang: str, split: str, capitals: bool = False) -> list[tuple[str, str]]:
    """Chunk-aligned (noisy, clean) true-channel pairs of one language and split, all runs; with
    `capitals`, the runs of pages printed in capitals (the network's pairs leave them out)."""
    pairs = []
    for path in sorted((data / "true").glob(f"{lang}.{split}.*.tsv")):
        if printed_in_capitals(path) != capitals:
            continue
        pairs += [(noisy, clean) for noisy, clean in aligned_pairs(path) if clean.strip()]
    return pairs


def _init_worker(channel_paths: dict[str, str]) -> None:
    for name, path in channel_paths.items():
        _CHANNELS[name] = NoiseChannel.from_json(Path(path))


def _corrupt_block(args: tuple[str, int, list[str]]) -> list[tuple[str, str]]:
    kind, seed, lines = args
    rng = random.Random(seed)
    if kind == "stripped":
        return [(strip_accents_line(line), line) for line in lines]
    channel = _CHANNELS["eng" if kind == "stat_eng" else "vie"]
    return [(channel.corrupt(line, rng), line) for line in lines]


def plan_counts(
    total: int, shares: dict[str, float], n_true_eng: int, n_true_vie: int
) -> dict[str, int]:
    """Pairs per kind: true-channel pairs as available (up to their share), the rest synthetic."""
    true_eng = min(n_true_eng, round(total * shares["true_eng"]))
    true_vie = min(n_true_vie, round(total * shares["vie"]))
    vie_like = round(total * shares["vie"]) - true_vie
    stripped = round(total * shares["stripped"])
    stat_eng = total - true_eng - true_vie - vie_like - stripped
    return {
        "stat_eng": stat_eng,
        "true_eng": true_eng,
        "true_vie": true_vie,
        "vie_like": vie_like,
        "stripped": stripped,
    }


def write_tsv(path: Path, pairs: list[tuple[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path) as handle:
        for noisy, clean in pairs:
            handle.write(f"{noisy.replace(chr(9), ' ')}\t{clean.replace(chr(9), ' ')}\n")


def build_train(
    args, counts: dict[str, int], true_eng, true_vie
) -> tuple[list[tuple[str, str]], Counter]:
    rng = random.Random(args.seed)
    clean = read_clean_lines(args.data / "clean" / "train.txt")
    need = counts["stat_eng"] + counts["vie_like"] + counts["stripped"]
    picked = (
        rng.sample(clean, need) if need <= len(clean) else [rng.choice(clean) for _ in range(need)]
    )
    del clean
    blocks, start = [], 0
    for kind in ("stat_eng", "vie_like", "stripped"):
        lines = picked[start : start + counts[kind]]
        start += counts[kind]
        blocks += [
            (kind, rng.getrandbits(32), lines[i : i + 5000]) for i in range(0, len(lines), 5000)
        ]
    channels = {"eng": str(args.data / "channel.json"), "vie": str(args.data / "channel_vie.json")}
    pairs = rng.sample(true_eng, counts["true_eng"]) + rng.sample(true_vie, counts["true_vie"])
    kinds = Counter({"true_eng": counts["true_eng"], "true_vie": counts["true_vie"]})
    with Pool(args.jobs, initializer=_init_worker, initargs=(channels,)) as pool:
        for (kind, _, _), result in zip(blocks, pool.imap(_corrupt_block, blocks), strict=True):
            kept = [p for p in result if is_chunk_aligned(*p)]
            kinds[kind] += len(kept)
            kinds["dropped_not_chunk_aligned"] += len(result) - len(kept)
            pairs += kept
    rng.shuffle(pairs)
    return pairs, kinds


def build_eval(args) -> dict[str, int]:
    sizes = {}
    for lang in ("eng", "vie"):
        pairs = read_true(args.data, lang, "test")
        write_tsv(args.data / "eval" / f"{lang}.tsv", pairs)
        sizes[f"eval/{lang}.tsv"] = len(pairs)
        if capitals := read_true(args.data, lang, "test", capitals=True):
            write_tsv(args.data / "eval" / f"{lang}-caps.tsv", capitals)
            sizes[f"eval/{lang}-caps.tsv"] = len(capitals)
    rng = random.Random(args.seed + 1)
    test = read_clean_lines(args.data / "clean" / "test.txt")
    lines = rng.sample(test, min(args.eval_stripped, len(test)))
    write_tsv(args.data / "eval" / "stripped.tsv", [(strip_accents_line(x), x) for x in lines])
    sizes["eval/stripped.tsv"] = len(lines)
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=data_dir())
    parser.add_argument(
        "--shared", type=Path, default=Path(__file__).resolve().parents[1] / "../shared"
    )
    parser.add_argument("--total", type=int, default=1_200_000)
    parser.add_argument(
        "--shares",
        default="true_eng=0.15,vie=0.10,stripped=0.15",
        help="shares of true-channel eng, vie (true + vie-like), stripped; rest statistical eng",
    )
    parser.add_argument("--eval-stripped", type=int, default=5000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20251123)
    parser.add_argument("--no-train", action="store_true", help="rewrite all but train.tsv")
    args = parser.parse_args()
    shares = {k: float(v) for k, v in (item.split("=") for item in args.shares.split(","))}
    true_eng, true_vie = read_true(args.data, "eng", "train"), read_true(args.data, "vie", "train")
    counts = plan_counts(args.total, shares, len(true_eng), len(true_vie))
    print("plan:", counts, flush=True)
    real = [(n, c) for n, c in real_part1_pairs(args.shared.resolve()) if n.strip() or c.strip()]
    write_tsv(args.data / "pairs" / "real_part1.tsv", real)
    print(
        "pairs/real_part1.tsv:",
        len(real),
        "pairs,",
        sum(is_chunk_aligned(n, c) for n, c in real),
        "chunk-aligned",
        flush=True,
    )
    for lang, pairs in (("eng", true_eng), ("vie", true_vie)):
        write_tsv(
            args.data / "pairs" / f"true_{lang}.tsv",
            random.Random(args.seed).sample(pairs, len(pairs)),
        )
        print(f"pairs/true_{lang}.tsv: {len(pairs)} pairs (all true-channel {lang} train pairs)")
    for name, size in build_eval(args).items():
        print(f"{name}: {size} pairs", flush=True)
    if args.no_train:
        return
    pairs, kinds = build_train(args, counts, true_eng, true_vie)
    write_tsv(args.data / "pairs" / "train.tsv", pairs)
    print("pairs/train.tsv:", len(pairs), "pairs")
    for kind in (*KINDS, "dropped_not_chunk_aligned"):
        print(f"  {kind}\t{kinds[kind]}\t{kinds[kind] / max(1, len(pairs)):.1%}")


if __name__ == "__main__":
    main()
