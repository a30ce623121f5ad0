"""Peak RSS and wall time of `vanban process` against input size (lines of text, pages of PDF).

Inputs are built from ../shared/seeds/*.txt (eng-OCR'd plans, joined and repeated to N lines);
`--pages` builds PDFs with a text layer (ghostscript, 40 seed lines a page, marks folded: the core
PostScript fonts are Latin-1), so pages are read without OCR. Each run is one child process with
`--jobs 1`; its peak RSS comes from wait4(2). Prints a markdown table.

    .venv/bin/python scripts/bench_memory.py --lines 1000 20000 200000 [--no-model]
    .venv/bin/python scripts/bench_memory.py --lines 1000 4000 --pages 3 100 300 --no-model

`--no-model` runs the pipeline with the normalization-only restorer (every stage but the network;
minutes instead of hours for 200k lines on 2 cores).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
LINES_PER_PAGE = 40


def seed_lines(seeds: Path) -> list[str]:
    files = sorted(seeds.glob("*.txt"))
    if not files:
        sys.exit(f"no seed texts in {seeds}")
    return [line for f in files for line in f.read_text(encoding="utf-8").splitlines()]


def text_input(folder: Path, lines: list[str], count: int) -> Path:
    path = folder / f"lines-{count}.txt"
    path.write_text("\n".join(lines[k % len(lines)] for k in range(count)) + "\n", "utf-8")
    return path


def pdf_input(folder: Path, lines: list[str], pages: int) -> Path:
    """A PDF of `pages` pages with a text layer, written by ghostscript from PostScript."""
    from vanban.core.text import fold

    def escape(text: str) -> str:
        text = fold(text).encode("latin-1", "replace").decode("latin-1")
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    body = ["%!PS", "/Helvetica findfont 10 scalefont setfont"]
    for page in range(pages):
        for row in range(LINES_PER_PAGE):
            text = escape(lines[(page * LINES_PER_PAGE + row) % len(lines)].strip() or ".")
            body.append(f"50 {780 - 18 * row} moveto ({text}) show")
        body.append("showpage")
    source = folder / f"pages-{pages}.ps"
    source.write_text("\n".join(body) + "\n", encoding="latin-1")
    target = folder / f"pages-{pages}.pdf"
    subprocess.run(["ps2pdf", str(source), str(target)], check=True, capture_output=True)
    return target


def measure(path: Path, outdir: Path, env: dict, timeout: float) -> tuple[float, int, int, str]:
    """(seconds, peak RSS in kB, JSON bytes, status) of one `vanban process` run."""
    command = [sys.executable, "-m", "vanban.cli", "process", str(path), "-o", str(outdir),
               "--jobs", "1", "--quiet"]  # fmt: skip
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)  # fmt: skip
    status = "ok"
    while True:
        pid, code, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() - started > timeout:
            child.kill()
            pid, code, usage = os.wait4(child.pid, 0)
            status = f"killed after {timeout:.0f} s"
            break
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    if status == "ok" and os.waitstatus_to_exitcode(code) != 0:
        status = f"exit {os.waitstatus_to_exitcode(code)}: {child.stderr.read()[-300:]!r}"
    json_bytes = sum(p.stat().st_size for p in outdir.glob("*.json") if p.name[0] != "v")
    return seconds, usage.ru_maxrss, json_bytes, status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, nargs="*", default=[1000, 20000, 200000])
    parser.add_argument("--pages", type=int, nargs="*", default=[])
    parser.add_argument("--seeds", type=Path, default=SHARED / "seeds")
    parser.add_argument("--no-model", action="store_true", help="normalization-only restorer")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per run")
    args = parser.parse_args()

    env = dict(os.environ)
    if args.no_model:
        env["VANBAN_MODEL_DIR"] = "/nonexistent-vanban-model"
    lines = seed_lines(args.seeds)
    restorer = "normalization only" if args.no_model else "shipped model"
    print(f"restorer: {restorer}; {os.cpu_count()} CPUs; seeds: {len(lines)} lines\n")
    print("| input | size | seconds | peak RSS (MB) | JSON (MB) | JSON / input | status |")
    print("|---|---:|---:|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory(prefix="vanban-bench-memory-") as tmp:
        folder = Path(tmp)
        jobs = [("text", n, text_input(folder, lines, n)) for n in args.lines]
        jobs += [("pdf", n, pdf_input(folder, lines, n)) for n in args.pages]
        for kind, size, path in jobs:
            outdir = folder / f"out-{kind}-{size}"
            seconds, peak_kb, json_bytes, status = measure(path, outdir, env, args.timeout)
            unit = "lines" if kind == "text" else "pages"
            ratio = json_bytes / path.stat().st_size
            print(f"| {kind} | {size} {unit} | {seconds:.1f} | {peak_kb / 1024:.0f} | "
                  f"{json_bytes / 1e6:.1f} | {ratio:.1f}x | {status} |", flush=True)  # fmt: skip
            shutil.rmtree(outdir, ignore_errors=True)


if __name__ == "__main__":
    main()
