"""Speed and memory of the restorers: output characters/s in batch mode, load time, peak RSS.

    .venv/bin/python scripts/bench_restore.py [--systems neural,ngram] [--model-dir DIR]

Input: the real eng-OCR seeds 000, 001 and 004 (../shared/seeds), restored in one batch per
system, each system in its own process (so peak RSS is its own), torch limited to 2 threads.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SEEDS = ("000_33b23e2610885f83.txt", "001_dc670889d50a1fad.txt", "004_89f1a7a5c9ae54d6.txt")


def read_input(shared: Path) -> list[str]:
    lines: list[str] = []
    for name in SEEDS:
        path = shared / "seeds" / name
        if path.exists():
            lines += path.read_text(encoding="utf-8").split("\n")
    return lines


def load(system: str, model_dir: Path | None):
    if system == "ngram":
        from vanban.restore.decoder.restorer import NgramRestorer

        return NgramRestorer.load()
    from vanban.restore import load_restorer

    return load_restorer(model_dir)


def worker(system: str, model_dir: Path | None, shared: Path) -> dict:
    """Runs in a child process: load, restore everything once, report."""
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    sys.path.insert(0, str(REPO))
    lines = read_input(shared)
    start = time.perf_counter()
    if system != "ngram":
        import vanban.restore.network.runtime  # noqa: F401  (torch: most of a cold start)
    import_s = time.perf_counter() - start
    start = time.perf_counter()
    restorer = load(system, model_dir)
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    out = restorer.restore_lines(lines)
    seconds = time.perf_counter() - start
    chars = sum(len(r.text) for r in out)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"system": system, "lines": len(lines), "chars": chars,
            "import_s": round(import_s, 2), "load_s": round(load_s, 2),
            "cold_start_s": round(import_s + load_s, 2),
            "transformers": "transformers" in sys.modules,
            "restore_s": round(seconds, 1), "chars_per_s": round(chars / seconds),
            "peak_rss_mb": round(peak_mb)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--systems", default="neural,ngram")
    parser.add_argument("--model-dir", type=Path, default=None)
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.model_dir, args.shared)))
        return 0
    if not read_input(args.shared):
        print(f"{args.shared}/seeds: no input seeds found", file=sys.stderr)
        return 1
    rows = []
    for system in args.systems.split(","):
        cmd = [sys.executable, __file__, "--worker", system, "--shared", str(args.shared)]
        if args.model_dir:
            cmd += ["--model-dir", str(args.model_dir)]
        env = os.environ | {"OMP_NUM_THREADS": "2"}
        done = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["failed"])[-1]
            print(f"{system}: {reason}", file=sys.stderr)
            continue
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(
        "| system | lines | output chars | import torch (s) | load (s) | cold start (s) "
        "| transformers imported | restore (s) | chars/s | peak RSS (MB) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['system']} | {r['lines']} | {r['chars']} | {r['import_s']} | {r['load_s']} | "
              f"{r['cold_start_s']} | {'yes' if r['transformers'] else 'no'} | {r['restore_s']} | "
              f"{r['chars_per_s']} | {r['peak_rss_mb']} |")  # fmt: skip
    given = argv if argv is not None else sys.argv[1:]
    command = " ".join(["python scripts/bench_restore.py", *given])
    print(f"\nCommand: `{command}`")
    load = os.getloadavg()[0]
    print(
        f"Machine: {os.cpu_count()} cores, load average {load:.1f} at the end; "
        "input: seeds 000, 001, 004 (real eng OCR)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
