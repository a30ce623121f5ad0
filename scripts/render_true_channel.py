"""Produce true-channel pairs: print clean lines, degrade, OCR with Tesseract, align back.

Each plan item LANG:SPLIT:LINES[:caps] renders random pages from $VANBAN_DATA/clean/SPLIT.txt until
LINES aligned lines are collected (or the deadline passes) and writes
$VANBAN_DATA/true/LANG.SPLIT.RUN.tsv with columns
noisy, clean, lang, font, size_pt, level, chunk_aligned (1/0), page_id. With ":caps" the lines
are printed in capitals, half of the pages in bold (titles and headings), and the file is
LANG.SPLIT.caps.RUN.tsv.
Usage: .venv/bin/python scripts/render_true_channel.py --plan eng:train:5000,vie:train:2000 \
       --run r1 --jobs 2
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from collections import deque
from multiprocessing import Pool
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vanban.corpus.clean import stable_unit  # noqa: E402
from vanban.corpus.true_channel import (  # noqa: E402
    CAPITALS,
    LinePair,
    ocr_page,
    page_jobs,
    read_documents,
    run_kind,
)

from vanban.core.files import atomic_open, data_dir  # noqa: E402


def pair_row(pair: LinePair) -> str:
    s = pair.style
    fields = [
        pair.noisy,
        pair.clean,
        pair.lang,
        s.font,
        f"{s.size_pt:g}",
        str(s.level),
        "1" if pair.chunk_aligned else "0",
        pair.page_id,
    ]
    return "\t".join(f.replace("\t", " ") for f in fields) + "\n"


def deadline_passed(deadline: dt.datetime | None) -> bool:
    return deadline is not None and dt.datetime.now(dt.UTC) >= deadline


def run_item(
    pool: Pool,
    docs,
    lang: str,
    split: str,
    target: int,
    out: Path,
    seed: int,
    deadline: dt.datetime | None,
    in_flight: int,
    capitals: bool = False,
) -> tuple[int, int, int]:
    """Render pages until `target` chunk-aligned lines; return (pages, lines, aligned lines)."""
    pages = lines = aligned = 0
    start = time.time()
    jobs = page_jobs(docs, lang, seed, prefix=f"{out.stem}.", capitals=capitals)
    with atomic_open(out) as handle:  # a killed run leaves no partial LANG.SPLIT.RUN.tsv
        pending = deque(pool.apply_async(ocr_page, (next(jobs),)) for _ in range(in_flight))
        while pending:
            result = pending.popleft().get()
            pages += 1
            lines += len(result)
            aligned += sum(p.chunk_aligned for p in result)
            handle.write("".join(pair_row(p) for p in result))
            handle.flush()
            if pages % 10 == 0:
                print(
                    f"{out.name}: {pages} pages, {lines} lines, {aligned} chunk-aligned, "
                    f"{time.time() - start:.0f}s",
                    flush=True,
                )
            if aligned < target and not deadline_passed(deadline):
                pending.append(pool.apply_async(ocr_page, (next(jobs),)))
    return pages, lines, aligned


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plan", required=True, help="comma-separated LANG:SPLIT:LINES items")
    parser.add_argument("--clean", type=Path, default=data_dir() / "clean")
    parser.add_argument("--out", type=Path, default=data_dir() / "true")
    parser.add_argument(
        "--run", default="r1", help="run name, part of the output file names and seeds"
    )
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--deadline", help="UTC HH:MM after which rendering stops")
    args = parser.parse_args()
    deadline = None
    if args.deadline:
        hour, minute = map(int, args.deadline.split(":"))
        deadline = dt.datetime.now(dt.UTC).replace(
            hour=hour, minute=minute, second=0, microsecond=0
        )
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ["OMP_THREAD_LIMIT"] = "1"
    docs_cache: dict[str, list[list[str]]] = {}
    with Pool(args.jobs, maxtasksperchild=200) as pool:
        for number, item in enumerate(args.plan.split(",")):
            lang, split, target, *mode = item.split(":")
            capitals = mode == [CAPITALS]
            if mode and not capitals:
                raise SystemExit(f"{item}: the only mode is '{CAPITALS}'")
            kind = run_kind(split, capitals)
            if split not in docs_cache:
                docs_cache[split] = read_documents(str(args.clean / f"{split}.txt"))
            out = args.out / f"{lang}.{kind}.{args.run}.tsv"
            if out.exists():
                out = args.out / f"{lang}.{kind}.{args.run}-{number}.tsv"
            seed = int(stable_unit(f"{args.run}:{number}:{lang}:{kind}") * 2**32)
            pages, lines, aligned = run_item(
                pool,
                docs_cache[split],
                lang,
                split,
                int(target),
                out,
                seed,
                deadline,
                2 * args.jobs,
                capitals,
            )
            print(f"DONE {out}: {pages} pages, {lines} lines, {aligned} chunk-aligned", flush=True)
            if deadline_passed(deadline):
                break


if __name__ == "__main__":
    main()
