"""Benchmark `vanban process` end to end: wall time and pages/s by --jobs, and the cost of a re-run.

Inputs (fixed): examples/kh-sample.pdf and ../shared/bench/pages/qn-*-mild.pdf (image-only scans,
OCR'd; `--with-hard` adds qn-*-hard.pdf: 21 pages), and ../shared/seeds/*.txt (text input: restore
+ segment only). Prints a markdown table.

`--executor local ray` runs each executor on the same inputs in the same run; Ray is started once,
in this process after the local runs (its start-up timed apart), and each Ray run joins it.
CPU-seconds are those of every process of a run (driver, pool or Ray workers, Tesseract, and the
Ray daemons during the run), read from a cpuacct cgroup this script joins when it can make one
(root on Linux), else n/a.
`--tesseract-baseline` adds bare Tesseract's CPU-seconds on the same scan pages (rendered at 300 DPI
first, rendering not counted; `OMP_THREAD_LIMIT=1`, `--psm 4`).

    .venv/bin/python scripts/bench_pipeline.py [--jobs 1 2] [--skip-scans]
    .venv/bin/python scripts/bench_pipeline.py --executor local ray --jobs 2 --skip-text \
        --with-hard --tesseract-baseline

With --pdf-overhead, the scans are run alternately without and with `--pdf` (fresh outputs each
time, `--repeat` times) and the cost of the searchable PDF per page and the PDFs' sizes are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def scan_inputs(with_hard: bool = False) -> list[Path]:
    hard = sorted((SHARED / "bench" / "pages").glob("qn-*-hard.pdf")) if with_hard else []
    return [
        REPO / "examples" / "kh-sample.pdf",
        *sorted((SHARED / "bench" / "pages").glob("qn-*-mild.pdf")),
        *hard,
    ]


class CpuMeter:
    """CPU-seconds of the processes started through it and all their descendants.

    A cpuacct cgroup (v1 or v2) holds them when one can be made; else `seconds` is None.
    """

    def __init__(self):
        self.group = None
        for root, usage in (("/sys/fs/cgroup/cpuacct", "cpuacct.usage"),
                            ("/sys/fs/cgroup", "cpu.stat")):  # fmt: skip
            group = Path(root) / f"vanban-bench-{os.getpid()}"
            try:
                group.mkdir()
            except OSError:
                continue
            self.group, self.usage = group, usage
            break

    def join(self) -> None:
        """Put this process in the group: every process it starts from now on is counted."""
        if self.group is not None:
            (self.group / "cgroup.procs").write_text(str(os.getpid()))

    def seconds(self) -> float | None:
        if self.group is None:
            return None
        text = (self.group / self.usage).read_text()
        if self.usage == "cpuacct.usage":
            return int(text) / 1e9
        return int(text.split("usage_usec ")[1].split()[0]) / 1e6

    def close(self) -> None:
        if self.group is not None:
            (self.group.parent / "cgroup.procs").write_text(str(os.getpid()))
            for _ in range(100):  # processes may take a moment to leave
                try:
                    self.group.rmdir()
                    return
                except OSError:
                    time.sleep(0.1)


class RayHead:
    """A Ray started in this process (after the local runs) that the `--executor ray` runs join."""

    def __init__(self):
        import ray

        started = time.perf_counter()
        ray.init(address="local", include_dashboard=False, logging_level="ERROR")
        self.address = ray.get_runtime_context().gcs_address
        self.start_seconds = time.perf_counter() - started

    def stop(self) -> None:
        import ray

        ray.shutdown()


def tesseract_cpu(files: list[Path], work: Path) -> tuple[int, float]:
    """Pages and CPU-seconds of bare Tesseract on the scans' pages (rendering not counted)."""
    pages, seconds = 0, 0.0
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    for path in files:
        prefix = work / "render" / path.stem
        prefix.parent.mkdir(exist_ok=True)
        subprocess.run(["pdftoppm", "-r", "300", "-gray", str(path), str(prefix)], check=True)
        for image in sorted(prefix.parent.glob(f"{path.stem}*.pgm")):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run(["tesseract", str(image), "-", "-l", "vie", "--psm", "4"],
                           env=env, capture_output=True, check=True)  # fmt: skip
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            seconds += (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            pages += 1
    return pages, seconds


def text_inputs() -> list[Path]:
    return sorted((SHARED / "seeds").glob("*.txt"))


def run(inputs: Path, outdir: Path, jobs: int, log: Path, executor: str = "local",
        ray_address: str | None = None, meter: CpuMeter | None = None,
        extra: tuple[str, ...] = ()):  # fmt: skip
    """One `vanban process` run: seconds, processed, skipped, pages, lines, CPU-seconds."""
    log.unlink(missing_ok=True)
    command = [sys.executable, "-m", "vanban.cli", "process", str(inputs), "-o", str(outdir),
               "--jobs", str(jobs), "--quiet", "--log-json", str(log), *extra]  # fmt: skip
    command += ["--executor", executor]
    command += ["--ray-address", ray_address] if ray_address else []
    cpu_before = meter.seconds() if meter else None
    started = time.perf_counter()
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    cpu = meter.seconds() - cpu_before if cpu_before is not None else None
    if result.returncode != 0:
        sys.exit(f"vanban failed ({result.returncode}):\n{result.stderr}")
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    done = [r for r in records if r["status"] == "done"]
    skipped = sum(r["status"] == "skipped" for r in records)
    pages = sum(r.get("pages", 0) for r in done)
    return seconds, len(done), skipped, pages, sum(r.get("lines", 0) for r in done), cpu


def bench(label: str, files: list[Path], jobs_list: list[int], work: Path, executors: list[str],
          ray_head: Callable[[], RayHead], meter: CpuMeter) -> tuple[list[str], dict]:  # fmt: skip
    """Rows of the table, and {(executor, jobs): (seconds, cpu, files, pages)} of first runs."""
    inputs = work / label
    inputs.mkdir()
    for path in files:
        shutil.copy(path, inputs / path.name)
    rows, firsts = [], {}
    for executor in executors:
        address = ray_head().address if executor == "ray" else None
        for jobs in jobs_list if executor == "local" else [jobs_list[-1]]:
            outdir = work / f"{label}-out-{executor}-{jobs}"
            seconds, done, _, pages, lines, cpu = run(
                inputs, outdir, jobs, work / "log.jsonl", executor, address, meter
            )
            firsts[(executor, jobs)] = (seconds, cpu, len(files), pages)
            rows.append(f"| {label} | {len(files)} | {pages} | {lines} | {executor} | {jobs} | "
                        f"first run | {seconds:.1f} | {pages / seconds:.2f} | "
                        f"{lines / seconds:.0f} | {_per(cpu, pages)} |")  # fmt: skip
            seconds, done, skipped, _, _, cpu = run(
                inputs, outdir, jobs, work / "log.jsonl", executor, address, meter
            )
            rows.append(f"| {label} | {len(files)} | {pages} | {lines} | {executor} | {jobs} | "
                        f"re-run ({skipped} skipped) | {seconds:.1f} | - | - | - |")  # fmt: skip
    return rows, firsts


def _per(cpu: float | None, pages: int) -> str:
    return "n/a" if cpu is None or not pages else f"{cpu / pages:.2f}"


def compare(label: str, firsts: dict) -> list[str]:
    """Ray against the local pool at the same --jobs: throughput ratio and overhead per input."""
    lines = []
    for (executor, jobs), (seconds, cpu, files, _) in firsts.items():
        local = firsts.get(("local", jobs))
        if executor != "ray" or local is None:
            continue
        ratio = local[0] / seconds
        extra_cpu = "n/a" if cpu is None or local[1] is None else f"{(cpu - local[1]) / files:+.2f}"
        extra_wall = (seconds - local[0]) / files
        lines.append(f"{label}: ray/local throughput at --jobs {jobs}: {ratio:.2f}x; overhead "
                     f"per input: {extra_wall:+.2f} s wall, {extra_cpu} CPU-s")  # fmt: skip
    return lines


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
            seconds, _, _, pages, _, _ = run(inputs, out, jobs, work / "log.jsonl", extra=extra)
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
    parser.add_argument("--skip-text", action="store_true", help="scans only")
    parser.add_argument("--with-hard", action="store_true", help="add qn-*-hard.pdf (21 pages)")
    parser.add_argument("--executor", nargs="+", default=["local"], choices=["local", "ray"])
    parser.add_argument("--tesseract-baseline", action="store_true")
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
            for row in bench_pdf(scan_inputs(False), args.jobs[-1], args.repeat, Path(tmp)):
                print(row)
        print(f"\nload average after: {os.getloadavg()[0]:.1f}")
        return
    meter = CpuMeter()
    meter.join()
    heads: list[RayHead] = []

    def ray_head() -> RayHead:
        if not heads:
            heads.append(RayHead())
        return heads[0]

    rows, notes = [], []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            sets = [] if args.skip_text else [("seeds-txt", text_inputs())]
            sets += [] if args.skip_scans else [("scans-pdf", scan_inputs(args.with_hard))]
            for label, files in sets:
                set_rows, firsts = bench(
                    label, files, args.jobs, work, args.executor, ray_head, meter
                )
                rows += set_rows
                notes += compare(label, firsts)
            if args.tesseract_baseline and not args.skip_scans:
                pages, cpu = tesseract_cpu(scan_inputs(args.with_hard), work)
                notes.append(f"bare Tesseract on the same {pages} scan pages: "
                             f"{cpu / pages:.2f} CPU-s/page")  # fmt: skip
    finally:
        for head in heads:
            head.stop()
        meter.close()
    if heads:
        print(f"Ray start (once, before the Ray runs, not in them): {heads[0].start_seconds:.1f} s")
    print("| inputs | files | pages | lines | executor | --jobs | run | seconds | pages/s "
          "| lines/s | CPU-s/page |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(row)
    print()
    for note in notes:
        print(note)
    print(f"\nload average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
