"""OCR benchmark: bare OCR engines vs. vanban's OCR stage on the same pages, in the same run.

    OMP_THREAD_LIMIT=1 .venv/bin/python scripts/bench_ocr.py [--jobs 2] [--only qn-tb11]
        [--engines tesseract,trueocr] [--restore] [--json out.json]

Inputs (read-only, `../shared/bench`): `pages/qn-*-{clean,mild,hard}.pdf` (born-digital documents
rasterised and degraded at three levels) and the real scans `real/dn-sgddt-1906/*-real.pdf`,
`real/qn-ub575/*-real.pdf`; plus the bundled `examples/kh-sample.pdf` (level `sample`). Each PDF has
a `.gt.txt` beside it (pages split by form feeds, logical reading order).

Systems, for each engine of --engines (default: tesseract):
- bare `tesseract`: `pdftoppm -r 300` then `tesseract PAGE - -l vie --psm 4`, no preprocessing;
- bare `trueocr`: `pdftoppm -r 300` then the `trueocr PAGE --threads 1` command (its own deskew,
  orientation, line detection, recognition and reading-order model);
- `vanban` (Tesseract) / `vanban/ENGINE`: `ocr.read_document(pdf, force_ocr=True, jobs=JOBS,
  ocr=OcrSettings(engine=ENGINE))` (render, clean-up, the engine, vanban's line order);
- `...+restore` (with --restore): that vanban text, each document restored as one batch by the
  shipped restorer (`restore.load_restorer()`); its time adds the restoring to the OCR's.
All use JOBS processes over pages, each engine on one thread. Scores compare whole documents,
whitespace collapsed: CER (character edits / reference characters), WER (word edits / reference
words), WER with all marks stripped, and an order-free bag-of-words error. Time: wall seconds and
CPU seconds (this process and its children), per page.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

from rapidfuzz.distance import Levenshtein

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from vanban.ocr import read_document  # noqa: E402
from vanban.ocr.engine import OcrSettings  # noqa: E402

from vanban.core.text import nfc, strip_marks  # noqa: E402

BENCH = REPO.parent / "shared" / "bench"
LEVELS = ("clean", "mild", "hard", "real", "sample")


@dataclass
class Score:
    """Edit counts of one system on one or more documents (sums; rates are ratios of sums)."""

    pages: int = 0
    chars: int = 0
    char_edits: int = 0
    words: int = 0
    word_edits: int = 0
    bare_word_edits: int = 0
    bag_edits: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    docs: list[str] = field(default_factory=list)

    def add(self, other: Score) -> None:
        for name in (
            "pages",
            "chars",
            "char_edits",
            "words",
            "word_edits",
            "bare_word_edits",
            "bag_edits",
            "wall",
            "cpu",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.docs += other.docs

    def rates(self) -> dict:
        return {
            "cer": self.char_edits / max(1, self.chars),
            "wer": self.word_edits / max(1, self.words),
            "wer_nomarks": self.bare_word_edits / max(1, self.words),
            "bow_err": self.bag_edits / max(1, self.words),
            "pages_per_s": self.pages / self.wall if self.wall else 0.0,
            "cpu_s_per_page": self.cpu / max(1, self.pages),
        }


def score_text(hyp: str, ref: str) -> Score:
    """Document-level edit counts of `hyp` against `ref`."""
    hyp_text, ref_text = " ".join(nfc(hyp).split()), " ".join(nfc(ref).split())
    hyp_words, ref_words = hyp_text.split(), ref_text.split()
    bare_hyp = strip_marks(hyp_text).split()
    bare_ref = strip_marks(ref_text).split()
    common = sum((Counter(hyp_words) & Counter(ref_words)).values())
    return Score(
        chars=len(ref_text),
        char_edits=Levenshtein.distance(hyp_text, ref_text),
        words=len(ref_words),
        word_edits=Levenshtein.distance(hyp_words, ref_words),
        bare_word_edits=Levenshtein.distance(bare_hyp, bare_ref),
        bag_edits=max(len(hyp_words), len(ref_words)) - common,
    )


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(run) -> tuple[str, int, float, float]:
    wall, cpu = time.perf_counter(), cpu_seconds()
    text, pages = run()
    return text, pages, time.perf_counter() - wall, cpu_seconds() - cpu


def bare_tesseract(pdf: Path, jobs: int) -> tuple[str, int]:
    """pdftoppm at 300 DPI, then plain `tesseract -l vie --psm 4` on each page."""
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    with tempfile.TemporaryDirectory(prefix="bench-ocr-") as tmp:
        subprocess.run(["pdftoppm", "-r", "300", str(pdf), f"{tmp}/p"], check=True)
        pages = sorted(Path(tmp).glob("p-*.ppm"), key=lambda p: int(p.stem.split("-")[-1]))

        def ocr(page: Path) -> str:
            cmd = ["tesseract", str(page), "-", "-l", "vie", "--psm", "4"]
            return subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            texts = list(pool.map(ocr, pages))
    return "\n\f".join(texts), len(pages)


def bare_trueocr(pdf: Path, jobs: int) -> tuple[str, int]:
    """pdftoppm at 300 DPI, then the `trueocr` command (its whole page pipeline) on each page."""
    command = str(Path(sys.executable).with_name("trueocr"))
    with tempfile.TemporaryDirectory(prefix="bench-ocr-") as tmp:
        subprocess.run(["pdftoppm", "-r", "300", str(pdf), f"{tmp}/p"], check=True)
        pages = sorted(Path(tmp).glob("p-*.ppm"), key=lambda p: int(p.stem.split("-")[-1]))

        def ocr(page: Path) -> str:
            cmd = [command, str(page), "--threads", "1"]
            return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            texts = list(pool.map(ocr, pages))
    return "\n\f".join(texts), len(pages)


BARE = {"tesseract": bare_tesseract, "trueocr": bare_trueocr}


def vanban_ocr(pdf: Path, jobs: int, engine: str = "tesseract") -> tuple[str, int]:
    doc = read_document(pdf, force_ocr=True, jobs=jobs, ocr=OcrSettings(engine=engine))
    return doc.text(), len(doc.pages)


def systems(engines: list[str]) -> list[tuple[str, object]]:
    """(name, run(pdf, jobs)) of each system: every engine bare, then through vanban."""
    bare = [(engine, BARE[engine]) for engine in engines]
    through = [
        (
            "vanban" if engine == "tesseract" else f"vanban/{engine}",
            partial(vanban_ocr, engine=engine),
        )
        for engine in engines
    ]
    return bare + through


def bench_documents(only: str) -> list[tuple[str, Path, Path]]:
    """(level, pdf, ground truth) for every benchmark document that exists."""
    docs = []
    for pdf in sorted((BENCH / "pages").glob("qn-*.pdf")):
        docs.append((pdf.stem.rsplit("-", 1)[1], pdf, pdf.with_suffix(".gt.txt")))
    for pdf in sorted((BENCH / "real").glob("*/*-real.pdf")):
        docs.append(("real", pdf, pdf.with_suffix(".gt.txt")))
    sample = REPO / "examples" / "kh-sample.pdf"
    docs.append(("sample", sample, sample.with_suffix(".gt.txt")))
    return [d for d in docs if d[1].exists() and d[2].exists() and only in d[1].name]


def restored(text: str, restorer) -> str:
    """`text` restored line by line in one batch (page breaks and blank lines pass through)."""
    return "\n".join(r.text for r in restorer.restore_lines(text.split("\n")))


def table(results: dict[str, dict[str, Score]]) -> str:
    head = (
        "| level | pages | system | CER | WER | WER no marks | BoW err | pages/s | CPU s/page |"
        "\n|---|---:|---|---:|---:|---:|---:|---:|---:|"
    )
    rows = [head]
    systems = list(next(iter(results.values()))) if results else []
    for level in [lv for lv in LEVELS if lv in results] + ["all"]:
        by_system = results.get(level) or {}
        if level == "all":
            by_system = {name: Score() for name in systems}
            for lv in results.values():
                for name, score in lv.items():
                    by_system[name].add(score)
        for name in systems:
            r = by_system[name].rates()
            rows.append(
                f"| {level} | {by_system[name].pages} | {name} | {r['cer']:.4f} | {r['wer']:.4f} | "
                f"{r['wer_nomarks']:.4f} | {r['bow_err']:.4f} | {r['pages_per_s']:.3f} | "
                f"{r['cpu_s_per_page']:.2f} |"
            )
    return "\n".join(rows)


def doc_table(per_doc: list[dict]) -> str:
    """CER of each system on each document."""
    names = [k for k in per_doc[0] if k not in ("doc", "level")] if per_doc else []
    rows = [
        "| document | level | " + " | ".join(f"CER {n}" for n in names) + " |",
        "|---|---|" + "---:|" * len(names),
    ]
    for row in per_doc:
        cers = " | ".join(f"{row[n]['cer']:.4f}" for n in names)
        rows.append(f"| {row['doc']} | {row['level']} | {cers} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description="bare Tesseract vs. vanban OCR: CER/WER and speed")
    parser.add_argument("--jobs", type=int, default=2, help="processes over pages (max 2 here)")
    parser.add_argument("--only", default="", help="substring of the PDF names to run")
    parser.add_argument("--json", type=Path, help="also write per-document results here")
    parser.add_argument("--restore", action="store_true", help="also score vanban + the restorer")
    parser.add_argument(
        "--engines",
        default="tesseract",
        help=f"comma-separated OCR engines to compare (of {', '.join(BARE)}; default: tesseract)",
    )
    args = parser.parse_args()
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = [e for e in engines if e not in BARE]
    if unknown or not engines:
        parser.error(
            f"--engines: unknown {', '.join(unknown) or '(none)'}; known: {', '.join(BARE)}"
        )
    restorer = None
    if args.restore:
        from vanban.restore import load_restorer

        restorer = load_restorer()
    docs = bench_documents(args.only)
    if not docs:
        sys.exit(f"no benchmark documents under {BENCH}")
    results: dict[str, dict[str, Score]] = {}
    per_doc = []
    for level, pdf, gt in docs:
        reference = gt.read_text(encoding="utf-8")
        row = {"doc": pdf.name, "level": level}
        texts = {}
        for name, system in systems(engines):
            text, pages, wall, cpu = timed(lambda s=system, p=pdf: s(p, args.jobs))
            texts[name] = (text, pages, wall, cpu)
        if restorer is not None:
            for name in [n for n in texts if n.startswith("vanban")]:
                text, pages, wall, cpu = texts[name]
                fixed, _, more_wall, more_cpu = timed(lambda t=text: (restored(t, restorer), 0))
                texts[f"{name}+restore"] = (fixed, pages, wall + more_wall, cpu + more_cpu)
        for name, (text, pages, wall, cpu) in texts.items():
            score = score_text(text, reference)
            score.pages, score.wall, score.cpu, score.docs = pages, wall, cpu, [pdf.name]
            results.setdefault(level, {}).setdefault(name, Score()).add(score)
            row[name] = score.rates()
        per_doc.append(row)
        print(
            f"{pdf.name:28s} {level:6s} "
            + "  ".join(
                f"{n}: CER {row[n]['cer']:.4f} {row[n]['cpu_s_per_page']:.1f} cpu-s/p"
                for n in texts
            ),
            flush=True,
        )
    print()
    print(table(results))
    print()
    print(doc_table(per_doc))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "docs": per_doc,
                    "levels": {
                        lv: {n: {**asdict(s), **s.rates()} for n, s in by.items()}
                        for lv, by in results.items()
                    },
                },
                ensure_ascii=False,
                indent=1,
            ),
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
