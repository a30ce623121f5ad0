"""Benchmark `vanban process` end to end: wall time and pages/s by --jobs, and the cost of a re-run.

Inputs (fixed): examples/kh-sample.pdf and ../shared/bench/pages/qn-*-mild.pdf (image-only scans,
OCR'd), and ../shared/seeds/*.txt (text input: restore + segment only). Prints a markdown table.

    .venv/bin/python scripts/bench_pipeline.py [--jobs 1 2] [--skip-scans]

With --pdf-overhead, the scans are run alternately without and with `--pdf` (fresh outputs each
time, `--repeat` times) and the cost of the searchable PDF per page and the PDFs' sizes are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def scan_inputs() -> list[Path]:
    return [
        REPO / "examples" / "kh-sample.pdf",
        *sorted((SHARED / "bench" / "pages").glob("qn-*-mild.pdf")),
    ]


def text_inputs() -> list[Path]:
    return sorted((SHARED / "seeds").glob("*.txt"))


def run(
    inputs: Path, outdir: Path, jobs: int, log: Path, extra: tuple[str, ...] = ()
) -> tuple[float, int, int, int, int]:
    """One `vanban process` run: seconds, processed, skipped, pages, lines."""
    log.unlink(missing_ok=True)
    command = [sys.executable, "-m", "vanban.cli", "process", str(inputs), "-o", str(outdir),
               "--jobs", str(jobs), "--quiet", "--log-json", str(log), *extra]  # fmt: skip
    started = time.perf_counter()
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"vanban failed ({result.returncode}):\n{result.stderr}")
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    done = [r for r in records if r["status"] == "done"]
    skipped = sum(r["status"] == "skipped" for r in records)
    pages = sum(r.get("pages", 0) for r in done)
    return seconds, len(done), skipped, pages, sum(r.get("lines", 0) for r in done)


def bench(label: str, files: list[Path], jobs_list: list[int], work: Path) -> list[str]:
    inputs = work / label
    inputs.mkdir()
    for path in files:
        shutil.copy(path, inputs / path.name)
    rows = []
    for jobs in jobs_list:
        outdir = work / f"{label}-out-{jobs}"
        seconds, done, _, pages, lines = run(inputs, outdir, jobs, work / "log.jsonl")
        rows.append(f"| {label} | {len(files)} | {pages} | {lines} | {jobs} | first run | "
                    f"{seconds:.1f} | {pages / seconds:.2f} | {lines / seconds:.0f} |")  # fmt: skip
        seconds, done, skipped, _, _ = run(inputs, outdir, jobs, work / "log.jsonl")
        rows.append(f"| {label} | {len(files)} | {pages} | {lines} | {jobs} | "
                    f"re-run ({skipped} skipped) | {seconds:.1f} | - | - |")  # fmt: skip
    return rows


def bench_pdf(files: list[Path], jobs: int, repeat: int, work: Path) -> list[str]:
    """Scans without and with --pdf, alternating: seconds per page and the --pdf overhead."""
    inputs = work / "pdf-inputs"
    inputs.mkdir()
    for path in files:
        shutil.copy(path, inputs / path.name)
    times: dict[str, list[float]] = {"without": [], "with --pdf": []}
    pages, out = 0, work
    for k in range(repeat):
        for label, extra in (("without", ()), ("with --pdf", ("--pdf",))):
            out = work / f"pdf-out-{'pdf' if extra else 'plain'}-{k}"
            seconds, _, _, pages, _ = run(inputs, out, jobs, work / "log.jsonl", extra)
            times[label].append(seconds)
    rows = ["| run | --jobs | pages | seconds (each run) | s/page (mean) |"]
    rows.append("|---|---|---|---|---|")
    mean = {label: sum(t) / len(t) for label, t in times.items()}
    for label, seconds in times.items():
        runs = ", ".join(f"{t:.1f}" for t in seconds)
        rows.append(f"| {label} | {jobs} | {pages} | {runs} | {mean[label] / pages:.2f} |")
    overhead = mean["with --pdf"] / mean["without"] - 1
    rows.append(f"\n--pdf overhead: {100 * overhead:+.1f}% of the pipeline's time per page\n")
    rows += ["| input | input bytes | output PDF bytes | ratio |", "|---|---|---|---|"]
    for path in files:
        size, made = path.stat().st_size, (out / path.name).stat().st_size
        rows.append(f"| {path.name} | {size} | {made} | {made / size:.3f} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--skip-scans", action="store_true", help="text inputs only (no OCR)")
    parser.add_argument(
        "--pdf-overhead", action="store_true", help="only: scans without and with --pdf"
    )
    parser.add_argument("--repeat", type=int, default=2, help="runs of each, for --pdf-overhead")
    args = parser.parse_args()
    if not SHARED.exists():
        sys.exit(f"{SHARED} not found")
    model = Path(os.environ.get("VANBAN_MODEL_DIR") or REPO / "models" / "restorer")
    print(
        f"restorer model: {model} ({'present' if (model / 'config.json').exists() else 'absent'})"
    )
    print(f"load average before: {os.getloadavg()[0]:.1f}\n")
    if args.pdf_overhead:
        with tempfile.TemporaryDirectory() as tmp:
            for row in bench_pdf(scan_inputs(), args.jobs[-1], args.repeat, Path(tmp)):
                print(row)
        print(f"\nload average after: {os.getloadavg()[0]:.1f}")
        return
    print("| inputs | files | pages | lines | --jobs | run | seconds | pages/s | lines/s |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rows = bench("seeds-txt", text_inputs(), args.jobs, work)
        if not args.skip_scans:
            rows += bench("scans-pdf", scan_inputs(), args.jobs, work)
        for row in rows:
            print(row)
    print(f"\nload average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
