"""How much of the real seed's OCR noise do our channels reproduce?

Real error tokens: chunk pairs (gold core -> OCR core) that differ, in the chunk-aligned lines of
seed 000 part 1 (the only real pairs we may use). A channel reproduces one when, at the same
position, its reading of the gold line gives exactly the same OCR token. Printed per channel: exact
rate of one sample, coverage over several samples/styles (any of them matches), and type coverage
(the gold->OCR pair seen anywhere in the readings).
Usage: .venv/bin/python experiments/corpus_channel_coverage.py
       [--channel $VANBAN_DATA/channel.json ...] [--render freeserif:13:0,mix6] [--samples 10]
"""

from __future__ import annotations

import argparse
import random
import sys
from multiprocessing import Pool
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vanban.corpus.channel import NoiseChannel, is_corruptible, word_pairs  # noqa: E402
from vanban.corpus.real import real_part1_pairs  # noqa: E402
from vanban.corpus.render import PageStyle, lines_per_page, random_style  # noqa: E402
from vanban.corpus.true_channel import PageJob, ocr_page  # noqa: E402

from vanban.core.files import data_dir  # noqa: E402
from vanban.core.text import split_chunks  # noqa: E402

Position = tuple[int, int]


def real_errors(pairs: list[tuple[str, str]]) -> dict[Position, tuple[str, str]]:
    """(line, chunk) -> (gold core, OCR core) for every real error token on a corruptible word."""
    errors = {}
    for i, (noisy, clean) in enumerate(pairs):
        n_chunks, c_chunks = split_chunks(noisy), split_chunks(clean)
        if len(n_chunks) != len(c_chunks):
            continue
        for j, (n, c) in enumerate(zip(n_chunks, c_chunks, strict=True)):
            if n.core != c.core and is_corruptible(c.core):
                errors[(i, j)] = (c.core, n.core)
    return errors


def readings_hits(
    readings: dict[int, str], errors: dict[Position, tuple[str, str]]
) -> set[Position]:
    """Error positions where a synthetic reading of the line gives exactly the real OCR token."""
    hits = set()
    for (i, j), (_, ocr) in errors.items():
        if i in readings:
            chunks = split_chunks(readings[i])
            if j < len(chunks) and chunks[j].core == ocr:
                hits.add((i, j))
    return hits


def type_hits(all_readings: list[dict[int, str]], pairs, errors) -> float:
    """Share of real error occurrences whose gold->OCR pair appears anywhere in the readings."""
    seen = set()
    for readings in all_readings:
        for i, text in readings.items():
            n_chunks, c_chunks = split_chunks(text), split_chunks(pairs[i][1])
            if len(n_chunks) == len(c_chunks):
                seen.update((c.core, n.core) for n, c in zip(n_chunks, c_chunks, strict=True))
    return sum(pair in seen for pair in errors.values()) / len(errors)


def rendered_readings(pairs, style: PageStyle, seed: int, pool: Pool) -> dict[int, str]:
    """Print the gold lines in order with one style, OCR with eng, map readings to line numbers."""
    gold = [(i, clean) for i, (_, clean) in enumerate(pairs) if clean.strip()]
    size = lines_per_page(style)
    jobs = []
    for start in range(0, len(gold), size):
        block = gold[start : start + size]
        jobs.append(PageJob(f"cov{start}", tuple(c for _, c in block), style, "eng", seed + start))
    readings: dict[int, str] = {}
    for job, result in zip(jobs, pool.map(ocr_page, jobs), strict=True):
        index = {line: n for n, line in enumerate(job.lines)}
        numbers = [i for i, _ in gold[int(job.page_id[3:]) : int(job.page_id[3:]) + len(job.lines)]]
        for pair in result:
            readings.setdefault(numbers[index[pair.clean]], pair.noisy)
    return readings


def heldout_agreement(channel: NoiseChannel, path: Path, samples: int) -> tuple[float, ...]:
    """Held-out true-channel pairs: word error rates (true, channel), exact readings (1 / any)."""
    rows = [line.rstrip("\n").split("\t") for line in open(path, encoding="utf-8")]
    rng = random.Random(3)
    words = true_errors = channel_errors = exact = covered = 0
    for noisy, clean in (r[:2] for r in rows if len(r) >= 2):
        truth = word_pairs(noisy, clean)
        readings = [word_pairs(channel.corrupt(clean, rng), clean) for _ in range(samples)]
        if not truth or any(len(r) != len(truth) for r in readings):
            continue
        for k, (clean_core, ocr_core) in enumerate(truth):
            words += 1
            channel_errors += readings[0][k][1] != clean_core
            if ocr_core != clean_core:
                true_errors += 1
                exact += readings[0][k][1] == ocr_core
                covered += any(r[k][1] == ocr_core for r in readings)
    return (
        words,
        true_errors / words,
        channel_errors / words,
        exact / true_errors,
        covered / true_errors,
    )


def report(name: str, per_sample: list[set[Position]], all_readings, pairs, errors) -> None:
    union = set().union(*per_sample)
    exact = sum(len(h) for h in per_sample) / len(per_sample) / len(errors)
    print(
        f"| {name} | {len(per_sample)} | {exact:.1%} | {len(union) / len(errors):.1%} | "
        f"{type_hits(all_readings, pairs, errors):.1%} |",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--shared", type=Path, default=Path(__file__).resolve().parents[1] / "../shared"
    )
    parser.add_argument("--channel", type=Path, nargs="*", default=[data_dir() / "channel.json"])
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument(
        "--render", default="", help="comma list: font:size:level, or mixN for N random styles"
    )
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--heldout", type=Path, help="true-channel eval pairs, e.g. $VANBAN_DATA/eval/eng.tsv"
    )
    args = parser.parse_args()
    pairs = real_part1_pairs(args.shared.resolve())
    errors = real_errors(pairs)
    print(f"real error tokens (part 1, chunk-aligned lines, word cores): {len(errors)}")
    print("| channel | samples | exact, one sample | coverage, any sample | type coverage |")
    print("|---|---|---|---|---|")
    for path in args.channel:
        channel = NoiseChannel.from_json(path)
        rng = random.Random(7)
        all_readings = [
            {i: channel.corrupt(clean, rng) for i, (_, clean) in enumerate(pairs)}
            for _ in range(args.samples)
        ]
        report(
            f"statistical {path.name}",
            [readings_hits(r, errors) for r in all_readings],
            all_readings,
            pairs,
            errors,
        )
    if args.heldout:
        print(f"\nheld-out true-channel pairs ({args.heldout}): the channel's reading of the clean")
        print(
            "| channel | words | true word error | chan. word error | exact, 1 sample | any of N |"
        )
        print("|---|---|---|---|---|---|")
        for path in args.channel:
            words, true_err, chan_err, exact, cov = heldout_agreement(
                NoiseChannel.from_json(path), args.heldout, args.samples
            )
            print(
                f"| {path.name} | {words} | {true_err:.1%} | {chan_err:.1%} | {exact:.1%} "
                f"| {cov:.1%} |"
            )
    if args.render:
        with Pool(args.jobs) as pool:
            for spec in args.render.split(","):
                if spec.startswith("mix"):
                    rng = random.Random(11)
                    styles = [random_style(rng) for _ in range(int(spec[3:]))]
                else:
                    font, size, level = spec.split(":")
                    styles = [PageStyle(font=font, size_pt=float(size), level=int(level))]
                all_readings = [
                    rendered_readings(pairs, s, 1000 * k, pool) for k, s in enumerate(styles)
                ]
                report(
                    f"rendered eng {spec}",
                    [readings_hits(r, errors) for r in all_readings],
                    all_readings,
                    pairs,
                    errors,
                )


if __name__ == "__main__":
    main()
