"""Benchmark `vanban index` / `vanban search` on a synthetic corpus grown from seed 002.

Builds N fake vanban output documents (JSON + restored .txt, as `vanban process` writes them) by
varying seed 002 (number, date, province, some agencies, document type, dropped paragraphs), indexes
them, re-indexes (no change, then a few changed), and times a fixed query set (with and without
marks, phrases, prefixes, filters). Prints a table; exit 1 when search p95 exceeds the target.

    .venv/bin/python scripts/bench_search.py --docs 10000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vanban.segment import segment_text  # noqa: E402

from vanban.core.text import strip_marks  # noqa: E402
from vanban.index import index_outdir  # noqa: E402
from vanban.search import Filters, search  # noqa: E402

SEED_GLOB = "002_*.txt"
TARGET_P95_MS = 50.0
PROVINCES = [
    "Hà Giang", "Lào Cai", "Yên Bái", "Thanh Hóa", "Hà Tĩnh", "Quảng Bình", "Quảng Trị",
    "Thừa Thiên Huế", "Quảng Nam", "Quảng Ngãi", "Bình Định", "Phú Yên", "Khánh Hòa", "Đắk Lắk",
    "Lâm Đồng", "Đồng Nai", "Tây Ninh", "Long An", "Tiền Giang", "Bến Tre", "Cà Mau", "Kiên Giang",
    "An Giang", "Sóc Trăng", "Bạc Liêu", "Thái Bình", "Nam Định", "Ninh Bình", "Hòa Bình",
    "Sơn La", "Điện Biên", "Lai Châu", "Cao Bằng", "Lạng Sơn", "Quảng Ninh", "Bắc Giang",
]  # fmt: skip
AGENCY_SWAPS = {  # an agency of the seed -> what other plans name in its place
    "Sở Ngoại vụ": ["Sở Tư pháp", "Sở Ngoại vụ"],
    "Sở Y tế": ["Sở Y tế", "Sở Lao động - Thương binh và Xã hội"],
    "Sở Dân tộc và Tôn giáo": ["Ban Dân tộc", "Sở Dân tộc và Tôn giáo"],
    "Sở Xây dựng": ["Sở Giao thông vận tải", "Sở Xây dựng"],
}
DOC_TYPES = [("Kế hoạch", "KH", "KẾ HOẠCH")] * 3 + [("Đề án", "ĐA", "ĐỀ ÁN")]
QUERIES: list[tuple[str, str, dict]] = [
    ("no marks", "cong an chu tri", {}),
    ("marks", "Công an tỉnh chủ trì", {}),
    ("phrase, common", '"an ninh phi truyen thong"', {}),
    ("phrase, marks", '"kịch bản khung"', {}),
    ("words", "bien doi khi hau nuoc bien dang", {}),
    ("prefix", "thien tai* tham hoa", {}),
    ("OR", "han han OR xam nhap man", {}),
    ("rare", "phong xa hat nhan", {}),
    ("agency+role", "", {"agency": "cong an", "role": "lead"}),
    ("agency+text", "du tru", {"agency": "so tai chinh"}),
    ("role support", "chuyen doi so", {"role": "support"}),
    ("year", "phong ngua ung pho", {"year": 2024}),
    ("doc type", "ung pho", {"doc_type": "de an"}),
    ("issuer", "quy phong ngua", {"issuer": "Khánh Hòa"}),
    ("section", "ke hoach", {"section": "V"}),
    ("number", "{number of document 0}", {}),
]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", strip_marks(text).lower()).strip("-")


def seed_document(seeds: Path) -> tuple[str, dict]:
    """The seed's text and its document tree (segmented once)."""
    path = next(iter(sorted(seeds.glob(SEED_GLOB))))
    text = path.read_text(encoding="utf-8").rstrip("\n")
    return text, segment_text(text, source=path.name)


def vary(text: str, tree: dict, k: int, rng: random.Random) -> tuple[str, dict]:
    """One synthetic document: the seed with other number, date, province, agencies and type."""
    province = rng.choice(PROVINCES)
    day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(2019, 2026)
    doc_type, code, caps = rng.choice(DOC_TYPES)
    number = f"{rng.randint(1, 2999)}/{code}-UBND"
    pairs = [
        ("544 /KH-UBND", number), ("544/KH-UBND", number),
        ("ngày 07 tháng 7 năm 2025", f"ngày {day:02d} tháng {month} năm {year}"),
        ("## KẾ HOẠCH", f"## {caps}"), ("Kế hoạch", doc_type),
        ("NGHỆ AN", province.upper()), ("Nghệ An", province), ("nghe-an", slug(province)),
    ]  # fmt: skip
    for old, choices in AGENCY_SWAPS.items():
        new = rng.choice(choices)
        pairs += [(old, new), (slug(old), slug(new))]
    lines = text.split("\n")
    dropped = {
        n for n in range(20, len(lines)) if not lines[n].startswith("#") and rng.random() < 0.2
    }
    blob = json.dumps({"tree": tree, "lines": lines}, ensure_ascii=False)
    for old, new in pairs:
        blob = blob.replace(old, new)
    data = json.loads(blob)
    new_tree, new_lines = data["tree"], data["lines"]
    new_lines = ["" if n in dropped else line for n, line in enumerate(new_lines)]
    new_tree["document"]["date"] = f"{year}-{month:02d}-{day:02d}"
    new_tree["document"]["doc_type"] = doc_type
    new_tree["document"]["number"] = number
    new_tree["source"] = f"scans/{k:05d}.pdf"
    new_tree["pages"] = len(new_lines) // 40 + 1
    new_tree["lines"] = [
        {"line": n, "page": (n - 1) // 40 + 1, "page_line": (n - 1) % 40 + 1, "bbox": None,
         "ocr_text": line, "text": line, "ocr_confidence": None, "tokens": []}
        for n, line in enumerate(new_lines, start=1)
    ]  # fmt: skip
    for item in new_tree["sections"] + new_tree["assignments"]:
        item["page"] = (item["line_start"] - 1) // 40 + 1
    return "\n".join(new_lines) + "\n", new_tree


def build_corpus(outdir: Path, count: int, seeds: Path, start: int = 0) -> float:
    text, tree = seed_document(seeds)
    rng = random.Random(2025 + start)
    started = time.perf_counter()
    for k in range(start, start + count):
        body, doc = vary(text, tree, k, rng)
        sub = outdir / f"{k // 1000:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"{k:05d}.txt").write_text(body, encoding="utf-8")
        (sub / f"{k:05d}.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def time_queries(
    db: Path, repeats: int, number: str
) -> tuple[list[tuple], list[float], list[float]]:
    """Per query: (label, arguments, median wall ms, median CPU ms, hits, ranked); all runs."""
    rows, all_wall, all_cpu = [], [], []
    for label, query, filters in QUERIES:
        query = query.replace("{number of document 0}", number)
        search(db, query, Filters(**filters), limit=10)  # warm the page cache
        wall, cpu = [], []
        for _ in range(repeats):
            started, started_cpu = time.perf_counter(), time.process_time()
            result = search(db, query, Filters(**filters), limit=10)
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        all_wall += wall
        all_cpu += cpu
        shown = query + "".join(f" --{k.replace('_', '-')} {v}" for k, v in filters.items())
        rows.append((label, shown.strip(), statistics.median(wall), statistics.median(cpu),
                     len(result.hits), result.ranked))  # fmt: skip
    return rows, all_wall, all_cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seeds", type=Path, default=ROOT.parent / "shared" / "seeds")
    parser.add_argument("--workdir", type=Path, help="keep the corpus and index here")
    args = parser.parse_args()
    if not any(args.seeds.glob(SEED_GLOB)):
        print(f"bench_search: no seed {SEED_GLOB} in {args.seeds}", file=sys.stderr)
        return 2
    work = args.workdir or Path(tempfile.mkdtemp(prefix="vanban-bench-search-"))
    outdir, db = work / "out", work / "corpus.sqlite"
    try:
        return run(args, outdir, db)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, outdir: Path, db: Path) -> int:
    made = build_corpus(outdir, args.docs, args.seeds)
    size = sum(p.stat().st_size for p in outdir.rglob("*") if p.is_file())
    first = index_outdir(outdir, db)
    again = index_outdir(outdir, db)
    build_corpus(outdir, 10, args.seeds, start=args.docs)  # 10 new documents
    grown = index_outdir(outdir, db)
    load = os.getloadavg()[0]
    first_doc = json.loads((outdir / "00" / "00000.json").read_text(encoding="utf-8"))
    rows, all_ms, all_cpu = time_queries(db, args.repeats, first_doc["document"]["number"])
    p50, p95 = percentile(all_ms, 0.5), percentile(all_ms, 0.95)
    print(f"corpus: {args.docs} documents, {size / 1e6:.0f} MB JSON+txt (made in {made:.0f} s)")
    rate, db_mb = args.docs / first.seconds, db.stat().st_size / 1e6
    print(f"index:  {first.seconds:.1f} s full ({first.passages} passages, {rate:.0f} docs/s), "
          f"db {db_mb:.0f} MB")  # fmt: skip
    print(f"        {again.seconds:.1f} s re-index unchanged, {grown.seconds:.1f} s for +10 docs "
          f"({grown.added} added, {grown.unchanged} unchanged)")  # fmt: skip
    print()
    print(f"| {'query':<14} | {'arguments':<40} | wall ms | CPU ms | hits | ranked |")
    print(f"|{'-' * 16}|{'-' * 42}|{'-' * 9}|{'-' * 8}|{'-' * 6}|{'-' * 8}|")
    for label, shown, wall, cpu, hits, ranked in rows:
        print(f"| {label:<14} | {shown[:40]:<40} | {wall:>7.1f} | {cpu:>6.1f} | {hits:>4} "
              f"| {ranked:>6} |")  # fmt: skip
    print()
    print(f"search latency over {len(all_ms)} runs: wall p50 {p50:.1f} ms, p95 {p95:.1f} ms; "
          f"CPU p50 {percentile(all_cpu, 0.5):.1f} ms, p95 {percentile(all_cpu, 0.95):.1f} ms "
          f"(target p95 <= {TARGET_P95_MS:.0f} ms; 1-min load average {load:.1f} on "
          f"{os.cpu_count()} cores)")  # fmt: skip
    return 0 if p95 <= TARGET_P95_MS else 1


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
