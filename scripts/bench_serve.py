"""Benchmark `vanban serve`: server-side time of the search and document pages on a large index.

Grows the synthetic corpus of scripts/bench_search.py (N fake `vanban process` outputs from seed
002), indexes it (or reuses --workdir), then requests pages in-process through the ASGI app and
reads each response's `Server-Timing` (wall-clock and process CPU ms from request in to response
head out: search, facets, rendering). Search pages: bench_search's 16 queries as page URLs;
document pages: N random documents, each also with a selected line. Prints a table; exit 1
when a wall-clock target is missed.

    .venv/bin/python scripts/bench_serve.py --docs 10000 --workdir /tmp/vanban-bench-10k
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_search import QUERIES, SEED_GLOB, build_corpus, percentile  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from vanban.index import index_outdir  # noqa: E402
from vanban.web.app import Site, create_app  # noqa: E402

TARGET_SEARCH_P95_MS = 100.0
TARGET_DOCUMENT_P95_MS = 300.0
_FILTER_KEYS = {
    "agency": "agency",
    "role": "role",
    "year": "year",
    "doc_type": "doc_type",
    "issuer": "issuer",
    "section": "section",
}


def server_ms(response) -> tuple[float, float]:
    """(wall ms, CPU ms) of one response, from its Server-Timing header."""
    timing = response.headers.get("server-timing", "")
    wall, cpu = re.search(r"app;dur=([\d.]+)", timing), re.search(r"cpu;dur=([\d.]+)", timing)
    if response.status_code != 200 or wall is None or cpu is None:
        raise SystemExit(f"bench_serve: {response.request.url} answered {response.status_code}")
    return float(wall.group(1)), float(cpu.group(1))


def time_pages(client: TestClient, urls: list[tuple[str, dict]], repeats: int) -> list[tuple]:
    times = []
    for path, params in urls:
        client.get(path, params=params)  # warm
        times += [server_ms(client.get(path, params=params)) for _ in range(repeats)]
    return times


def summary(times: list[tuple[float, float]]) -> str:
    """'wall p50 | wall p95 | CPU p50 | CPU p95' table cells."""
    wall, cpu = [w for w, _ in times], [c for _, c in times]
    cells = [
        percentile(wall, 0.5),
        percentile(wall, 0.95),
        percentile(cpu, 0.5),
        percentile(cpu, 0.95),
    ]
    return " | ".join(f"{v:.1f}" for v in cells)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--documents", type=int, default=40, help="document pages to time")
    parser.add_argument("--seeds", type=Path, default=ROOT.parent / "shared" / "seeds")
    parser.add_argument("--workdir", type=Path, help="keep (or reuse) the corpus and index here")
    args = parser.parse_args()
    if not any(args.seeds.glob(SEED_GLOB)):
        print(f"bench_serve: no seed {SEED_GLOB} in {args.seeds}", file=sys.stderr)
        return 2
    work = args.workdir or Path(tempfile.mkdtemp(prefix="vanban-bench-serve-"))
    try:
        return run(args, work / "out", work / "corpus.sqlite")
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, outdir: Path, db: Path) -> int:
    if not (outdir / "00" / "00000.json").exists():
        build_corpus(outdir, args.docs, args.seeds)
    report = index_outdir(outdir, db)
    print(f"index: {report.summary()}")
    site = Site(outdir, db, review=True, reviewer="bench", cache_dir=outdir.parent / "cache")
    client = TestClient(create_app(site), base_url="http://127.0.0.1:8000")
    first = client.get("/doc", params={"path": "00/00000.json"}).text
    number = re.search(r"<h1>[^<]*? (\S+/\S+)</h1>", first).group(1)
    rows = []
    for label, query, filters in QUERIES:
        params = {"q": query.replace("{number of document 0}", number)}
        params.update({_FILTER_KEYS[k]: str(v) for k, v in filters.items()})
        times = time_pages(client, [("/", params)], args.repeats)
        rows.append((label, " ".join(f"{k}={v}" for k, v in params.items()), times))
    search_times = [t for _, _, times in rows for t in times]
    rng = random.Random(7)
    paths = sorted(p.relative_to(outdir).as_posix() for p in outdir.glob("*/*.json"))
    chosen = rng.sample(paths, min(args.documents, len(paths)))
    doc_times = time_pages(client, [("/doc", {"path": p}) for p in chosen], 1)
    line_times = time_pages(client, [("/doc", {"path": p, "line": "40"}) for p in chosen], 1)
    agency = time_pages(client, [("/agency", {"id": "tinh-khanh-hoa/cong-an"})], args.repeats)
    load = os.getloadavg()[0]
    print("\n| page | arguments | wall p50 | wall p95 | CPU p50 | CPU p95 |")
    print("|---|---|---|---|---|---|")
    for label, shown, times in rows:
        print(f"| search: {label} | `{shown[:60]}` | {summary(times)} |")
    documents = doc_times + line_times
    for label, times in (
        ("document", doc_times),
        ("document + line panel", line_times),
        ("agency", agency),
    ):
        print(f"| {label} | {len(times)} requests | {summary(times)} |")
    print(f"| **all search pages** | {len(search_times)} requests | {summary(search_times)} |")
    print(f"| **all document pages** | {len(documents)} requests | {summary(documents)} |")
    search_p95 = percentile([w for w, _ in search_times], 0.95)
    doc_p95 = percentile([w for w, _ in documents], 0.95)
    print(
        f"\nwall-clock p95: search page {search_p95:.1f} ms (target {TARGET_SEARCH_P95_MS:.0f}), "
        f"document page {doc_p95:.1f} ms (target {TARGET_DOCUMENT_P95_MS:.0f}); "
        f"1-min load average {load:.1f} on {os.cpu_count()} cores"
    )
    return 0 if search_p95 <= TARGET_SEARCH_P95_MS and doc_p95 <= TARGET_DOCUMENT_P95_MS else 1


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
