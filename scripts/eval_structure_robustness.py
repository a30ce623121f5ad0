"""Structure robustness without labels: the structure read from a scan vs the clean text's own.

For each document (real texts from ../shared/corpus, plus the dev texts with --dev): wrap its
paragraphs into printed lines, render them as degraded A4 scans (vanban.corpus.render), OCR each
page with Tesseract (--lang, default eng), restore the OCR lines (the shipped restorer, or none with
--restore none), segment, and compare with the segmentation of the clean wrapped lines:
section agreement F1 on (id, level), assignment agreement F1 on (section, role, agency) triples,
and the document fields equal. Prints the distribution and the worst documents by name.

Each document draws its rendering style from its own seed (--seed and its name), so a run
killed half-way and started again with the same --out skips the documents already in that file
and gives the same rows; --jobs N reads N documents at once (one restorer per process).

Usage: .venv/bin/python scripts/eval_structure_robustness.py [--n 100] [--lang eng]
       [--restore shipped|none] [--max-lines 120] [--dev] [--seeds] [--corpus FILE] [--seed 0]
       [--out results.jsonl] [--jobs 2] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from compare_segment_corpus import has_numbered_structure  # noqa: E402
from eval_segment import f1, path_key, triples  # noqa: E402
from vanban.corpus.clean import iter_documents  # noqa: E402
from vanban.corpus.render import (  # noqa: E402
    A4_SIZE,
    degrade,
    lines_per_page,
    load_font,
    random_style,
    render_page,
)
from vanban.segment import segment_document  # noqa: E402

from vanban.core.records import Provenance, TextLine  # noqa: E402

SHARED = ROOT.parent / "shared"
FIELDS = ("issuer", "doc_type", "number", "date", "place", "title", "signer")
TEXT_WIDTH = A4_SIZE[0] - 480  # the renderer's margins leave about this much


def corpus_documents(path: Path, n: int, rng: random.Random, max_lines: int) -> list[tuple]:
    """n documents of the corpus with numbered structure (Chương / Điều / I. / 1.), sampled."""
    docs = list(iter_documents(path))
    numbered = [d for d in docs if has_numbered_structure(d[:max_lines])]
    picked = rng.sample(numbered, min(n, len(numbered)))
    return [(f"{path.name}#{docs.index(d)}", d[:max_lines]) for d in picked]


def dev_documents(max_lines: int) -> list[tuple]:
    out = []
    for path in sorted((SHARED / "dev").glob("*.txt")):
        if ".gold." in path.name or ".uncertain" in path.name:
            continue
        out.append((path.name, path.read_text(encoding="utf-8").split("\n")[:max_lines]))
    return out


def wrap(paragraphs: list[str], font) -> list[str]:
    """Paragraphs -> printed lines no wider than the page (greedy on measured widths)."""
    out = []
    for para in paragraphs:
        words, line = para.split(), ""
        for word in words:
            trial = f"{line} {word}".strip()
            if line and font.getlength(trial) > TEXT_WIDTH:
                out.append(line)
                line = word
            else:
                line = trial
        out.append(line)
    return out


def scan_lines(lines: list[str], style, rng: random.Random, lang: str, tmp: Path) -> list[str]:
    """Render, degrade, save and OCR the pages; the OCR lines in reading order."""
    from vanban.ocr.reader import ocr_page
    from vanban.ocr.sources import PageRef

    per_page = lines_per_page(style)
    out: list[str] = []
    for number, start in enumerate(range(0, len(lines), per_page), start=1):
        page = degrade(render_page(lines[start : start + per_page], style, rng), style.level, rng)
        path = tmp / f"page{number}.png"
        page.save(path, dpi=(300, 300))
        result = ocr_page(PageRef(str(path), "image", 1), lang=lang)
        out += [line.text for line in result.lines]
    return out


def segment_lines(texts: list[str], name: str) -> dict:
    lines = [TextLine(t, Provenance(source=name, line=k + 1)) for k, t in enumerate(texts)]
    return segment_document(lines, source=name)


def agreement(clean: dict, scanned: dict) -> dict:
    sec = f1(
        Counter((path_key(s["id"].split("#")[0]), s["level"]) for s in clean["sections"]),
        Counter((path_key(s["id"].split("#")[0]), s["level"]) for s in scanned["sections"]),
    )
    asg = f1(
        triples(clean["assignments"], predicted=True, marks=False),
        triples(scanned["assignments"], predicted=True, marks=False),
    )
    same = [f for f in FIELDS if clean["document"].get(f) == scanned["document"].get(f)]
    return {
        "sections": sec[2] if clean["sections"] or scanned["sections"] else 1.0,
        "assignments": asg[2] if clean["assignments"] or scanned["assignments"] else 1.0,
        "fields": len(same),
        "n_sections": len(clean["sections"]),
        "n_assignments": len(clean["assignments"]),
    }


def describe(values: list[float]) -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.3f} (one document)"
    q = statistics.quantiles(values, n=4, method="inclusive")
    median = statistics.median(values)
    return f"median {median:.3f}, quartiles {q[0]:.3f}/{q[2]:.3f}, min {min(values):.3f}"


_RESTORER = None


def _start_worker(restore: str) -> None:
    """One restorer per process; torch and Tesseract on one thread each."""
    global _RESTORER
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    if restore == "shipped":
        import torch
        from vanban.restore import load_restorer

        torch.set_num_threads(1)
        _RESTORER = load_restorer()


def read_document(job: tuple) -> dict:
    """Render, OCR, restore and segment one document; its agreement row. With a keep folder,
    the printed, OCR and restored lines are saved there, and read back instead of redone."""
    name, paragraphs, seed, lang, keep = job
    started = time.perf_counter()
    kept = keep / f"{name.replace('/', '_')}.{lang}.json" if keep else None
    if kept and kept.exists():
        saved = json.loads(kept.read_text(encoding="utf-8"))
    else:
        rng = random.Random(f"{seed}:{name}")
        style = random_style(rng)
        printed = wrap(paragraphs, load_font(style.font, style.size_px))
        with tempfile.TemporaryDirectory() as tmp:
            ocr = scan_lines(printed, style, rng, lang, Path(tmp))
        restored = [r.text for r in _RESTORER.restore_lines(ocr)] if _RESTORER else ocr
        saved = {"level": style.level, "font": style.font, "printed": printed, "ocr": ocr}
        saved["restored"] = restored
        if kept:
            kept.parent.mkdir(parents=True, exist_ok=True)
            kept.write_text(json.dumps(saved, ensure_ascii=False), encoding="utf-8")
    printed, restored = saved["printed"], saved["restored"]
    row = {"name": name, "lang": lang, "level": saved["level"], "font": saved["font"]}
    row |= agreement(segment_lines(printed, name), segment_lines(restored, name))
    row["seconds"] = round(time.perf_counter() - started, 1)
    return row


def seed_documents(max_lines: int) -> list[tuple]:
    """The clean seed texts: 002 (clean markdown) and 000's hand-restored text (../shared/dev);
    seeds 001 and 004 are OCR output only."""
    out = []
    for path in sorted((SHARED / "seeds").glob("002*")):
        out.append((path.name, path.read_text(encoding="utf-8").split("\n")[:max_lines]))
    gold = sorted((SHARED / "dev").glob("000.gold.part*.txt"))
    if gold:
        lines = [x for p in gold for x in p.read_text(encoding="utf-8").split("\n")]
        out.append(("000.gold", lines[:max_lines]))
    return out


def done_rows(out: Path | None, lang: str) -> dict[str, dict]:
    if not out or not out.exists():
        return {}
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if line]
    return {r["name"]: r for r in rows if r.get("lang", "eng") == lang}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100, help="corpus documents")
    ap.add_argument("--corpus", type=Path, default=SHARED / "corpus" / "vn-admin-congbao.txt.gz")
    ap.add_argument("--dev", action="store_true", help="also the dev texts of ../shared/dev")
    ap.add_argument("--lang", default="eng")
    ap.add_argument("--restore", choices=("shipped", "none"), default="shipped")
    ap.add_argument("--max-lines", type=int, default=120, help="paragraphs kept per document")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--worst", type=int, default=10)
    ap.add_argument("--seeds", action="store_true", help="also the clean seed text (002)")
    ap.add_argument("--out", type=Path, help="per-document results (JSON lines); resumes from it")
    ap.add_argument("--jobs", type=int, default=1, help="documents read at once")
    ap.add_argument(
        "--keep",
        type=Path,
        help="save each document's printed, OCR and restored lines here; "
        "documents already there are only segmented again (for comparing segmenter versions)",
    )
    args = ap.parse_args()
    if not args.corpus.exists():
        print(f"{args.corpus}: not found", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    docs = corpus_documents(args.corpus, args.n, rng, args.max_lines) if args.n else []
    if args.dev:
        docs += dev_documents(args.max_lines)
    if args.seeds:
        docs += seed_documents(args.max_lines)
    done = done_rows(args.out, args.lang)
    results = [done[name] for name, _ in docs if name in done]
    todo = [(n, paras, args.seed, args.lang, args.keep) for n, paras in docs if n not in done]
    print(f"{len(docs)} documents, {len(results)} already in {args.out}", flush=True)
    t0 = time.perf_counter()
    if args.jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(args.jobs, initializer=_start_worker, initargs=(args.restore,))
        rows = pool.map(read_document, todo)
    else:
        _start_worker(args.restore)
        rows = map(read_document, todo)
    for row in rows:
        results.append(row)
        print(
            f"{row['name']}: sections {row['sections']:.3f} ({row['n_sections']}), assignments "
            f"{row['assignments']:.3f} ({row['n_assignments']}), fields {row['fields']}/7, "
            f"scan level {row['level']}, {row['seconds']:.0f}s",
            flush=True,
        )
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            with args.out.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    if not results:
        print("no documents")
        return 1
    print(
        f"\n{len(results)} documents, OCR {args.lang}, restore {args.restore}, "
        f"{time.perf_counter() - t0:.0f}s"
    )
    print("section agreement F1:   ", describe([r["sections"] for r in results]))
    with_tasks = [r["assignments"] for r in results if r["n_assignments"]]
    print(
        f"assignment agreement F1 ({len(with_tasks)} documents with tasks):", describe(with_tasks)
    )
    print("fields equal (of 7):    ", describe([r["fields"] for r in results]))
    print("worst by section agreement:")
    for r in sorted(results, key=lambda r: (r["sections"], r["assignments"]))[: args.worst]:
        print(
            f"  {r['name']}: sections {r['sections']:.3f}, assignments {r['assignments']:.3f}, "
            f"scan level {r['level']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
