"""Where a scanned page's CPU time goes, stage by stage, against bare Tesseract on the same page.

One process, no pool: for each page of the inputs (default: the scan set of bench_pipeline.py,
`--with-hard` for its 21 pages) it times, in CPU-seconds of this process and its children,
rendering (pdf2image at 300 DPI), clean-up (OpenCV), vanban's Tesseract call, bare
`tesseract page.pgm - -l vie --psm 4` on the same rendered page (in gray, as
`bench_pipeline.py --tesseract-baseline` gives it), then per document restoring its
OCR lines and segmenting them; the restorer's load is timed once. Prints a markdown table of
CPU-seconds per page and each stage's share of bare Tesseract's time.

    OMP_THREAD_LIMIT=1 .venv/bin/python scripts/bench_page_stages.py [--with-hard] [--repeat 2]

`--repeat N` runs the whole set N times and keeps each stage's lowest total (the least disturbed
by other jobs on a shared machine).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from bench_ocr import cpu_seconds  # noqa: E402
from bench_pipeline import scan_inputs  # noqa: E402

STAGES = ("render", "clean", "ocr", "restore", "segment")


def timed(work: Callable, totals: dict[str, float], stage: str):
    start = cpu_seconds()
    result = work()
    totals[stage] = totals.get(stage, 0.0) + cpu_seconds() - start
    return result


def bare_tesseract(image, tmp: Path) -> None:
    """`tesseract page.pgm - -l vie --psm 4` on the page in gray, as `pdftoppm -gray` gives it."""
    path = tmp / "page.pgm"
    image.convert("L").save(path)
    command = ["tesseract", str(path), "-", "-l", "vie", "--psm", "4"]
    subprocess.run(command, capture_output=True, check=True)


def one_pass(files: list[Path], restorer) -> tuple[dict[str, float], int]:
    from vanban.ocr import sources
    from vanban.ocr.engine import DEFAULT_PSM, get_engine
    from vanban.ocr.layout import order_lines
    from vanban.ocr.preprocess import clean_page
    from vanban.ocr.reader import plan_pages
    from vanban.segment import segment_document

    from vanban.core.records import Provenance, TextLine

    totals: dict[str, float] = {}
    pages = 0
    engine = get_engine("tesseract")
    with tempfile.TemporaryDirectory(prefix="bench-stages-") as tmp:
        for path in files:
            _, refs = plan_pages(path, force_ocr=True, lang="vie")
            texts: list[str] = []
            for ref in refs:
                image = timed(lambda r=ref: sources.load_page(r), totals, "render")
                cleaned = timed(lambda i=image: clean_page(i, engine.clean), totals, "clean")
                data = timed(
                    lambda c=cleaned: engine.image_to_data(
                        c.image,
                        lang="vie",
                        psm=DEFAULT_PSM,
                        dpi=round(sources.RENDER_DPI * c.scale),
                        timeout=0,
                    ),
                    totals,
                    "ocr",
                )
                timed(lambda i=image: bare_tesseract(i, Path(tmp)), totals, "bare")
                texts += [segment.text for segment in order_lines(data)]
                pages += 1
            restored = timed(lambda t=texts: restorer.restore_lines(t), totals, "restore")
            lines = [
                TextLine(r.text, Provenance(source=path.name, line=k + 1))
                for k, r in enumerate(restored)
            ]
            timed(lambda x=lines, n=path.name: segment_document(x, source=n), totals, "segment")
    return totals, pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--with-hard", action="store_true", help="add qn-*-hard.pdf (21 pages)")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    import torch
    from vanban.restore import load_restorer

    torch.set_num_threads(1)
    files = [f for f in scan_inputs(args.with_hard) if f.exists()]
    start = cpu_seconds()
    restorer = load_restorer()
    load = cpu_seconds() - start
    best: dict[str, float] = {}
    pages = 0
    for _ in range(args.repeat):
        totals, pages = one_pass(files, restorer)
        best = {k: min(v, best.get(k, v)) for k, v in totals.items()}
    bare = best["bare"] / pages
    print(f"{len(files)} files, {pages} pages; restorer load {load:.2f} CPU-s (once per worker)")
    print(f"load average {os.getloadavg()[0]:.1f}; lowest of {args.repeat} pass(es)\n")
    print("| stage | CPU-s/page | share of bare Tesseract |")
    print("|---|---:|---:|")
    for stage in STAGES:
        print(f"| {stage} | {best[stage] / pages:.3f} | {best[stage] / pages / bare:.2f} |")
    pipeline = sum(best[s] for s in STAGES) / pages
    print(f"| **vanban, all stages** | {pipeline:.3f} | {pipeline / bare:.2f} |")
    print(f"| bare Tesseract (same rendered page) | {bare:.3f} | 1.00 |")
    for workers, per in ((2, pages / 2), (1, pages)):
        total = pipeline + load / per
        print(f"| vanban + restorer load over {per:g} pages ({workers} worker(s)) | "
              f"{total:.3f} | {total / bare:.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
