"""Restore one document whole and in `vanban process`'s windows; count the lines that differ.

.venv/bin/python scripts/compare_restore_windows.py [TEXT]   # default ../shared/seeds/004_*
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from vanban import pipeline

SHARED = Path(__file__).resolve().parents[2] / "shared"


def main() -> None:
    default = sorted((SHARED / "seeds").glob("004_*.txt"))
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else default[0]
    lines = path.read_text(encoding="utf-8").splitlines()
    restorer = pipeline.get_restorer()
    started = time.perf_counter()
    whole = [r.text for r in restorer.restore_lines(lines)]
    print(f"whole: {time.perf_counter() - started:.0f} s", flush=True)
    started = time.perf_counter()
    windowed = [r.text for _, window in pipeline.restore_windows(lines) for r in window]
    print(f"windowed: {time.perf_counter() - started:.0f} s", flush=True)
    differ = [k for k, (a, b) in enumerate(zip(whole, windowed, strict=True)) if a != b]
    words = sum(len(a.split()) for a in whole)
    changed = sum(
        sum(x != y for x, y in zip(whole[k].split(), windowed[k].split(), strict=False))
        for k in differ
    )
    numbers = [k + 1 for k in differ]
    print(
        f"{path.name}: {len(lines)} lines, window {pipeline.RESTORE_WINDOW_LINES}: "
        f"{len(differ)} lines differ ({changed} of {words} words); lines {numbers}"
    )


if __name__ == "__main__":
    main()
