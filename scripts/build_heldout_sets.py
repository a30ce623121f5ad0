"""Held-out sets by document: real corpus documents no shipped model saw, printed, scanned, OCR'd.

Which documents are unseen: every shipped table and model is built from the *train* split of
`../shared/corpus` (`vanban.corpus.clean.split_of`, by document key): the LM counts the train
documents of all three sources, the network trains on train documents, the channel, digit and
code tables on train pages; decoder settings were tuned on the *valid* split. The *test* split
(3% of documents) is used only for measuring (`eval/*.tsv`). This script takes test documents of
the two sources of the target genre (admin: the Official Gazette; legal: decrees and circulars),
and of those only documents with at most `--max-overlap` of their paragraphs (40+ characters) also
in a train document (the sources overlap: a decree's articles recur in the codification; the
manifest gives each document's share). The test split of these two sources has only 21
documents (14 qualify), so the sets are small. It prints the first `--pages` pages of each (the
header and opening, as a scan starts), degrades them like office scans
(`vanban.corpus.render`), OCRs each page with Tesseract `eng` (the archive channel) and `vie`,
and aligns OCR lines back to the printed lines (`vanban.corpus.true_channel.align_lines`).

Documents are split into TUNE and TEST by document (alternating in a fixed hashed order, per
source): thresholds may be tuned on `heldout/tune`, `heldout/test` is reported only.

Writes, under --data ($VANBAN_DATA):
  heldout/{tune,test}/DOC.{eng,vie}.tsv   noisy<TAB>clean<TAB>page, aligned lines in page order
  heldout/manifest.json                   the documents: key, source, set, pages, lines, overlap

Usage: nice -n 10 .venv/bin/python scripts/build_heldout_sets.py [--docs 16] [--pages 3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
from multiprocessing import Pool
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from vanban.corpus.clean import (  # noqa: E402
    clean_paragraph,
    document_lines,
    iter_documents,
    shared_sources,
    split_of,
    stable_unit,
)
from vanban.corpus.render import degrade, lines_per_page, random_style, render_page  # noqa: E402
from vanban.corpus.true_channel import align_lines, trim_scan_junk  # noqa: E402

from vanban.core.files import atomic_write_text, data_dir  # noqa: E402
from vanban.core.text import normalize  # noqa: E402

SOURCES = ("admin", "legal")  # the target genre; Wikipedia is not
MAX_LINE_CHARS = 110  # as `true_channel.page_jobs`: longer lines do not fit a printed line
MIN_LINES = 60
MIN_PARAGRAPH_CHARS = 40  # shorter ones ("Điều 1.", "CHÍNH PHỦ") recur in every document


def paragraph_hash(text: str) -> bytes:
    return hashlib.blake2b(clean_paragraph(text).encode("utf-8"), digest_size=8).digest()


def train_paragraphs(shared: Path) -> set[bytes]:
    """Hashes of every paragraph of every train document of all sources (what the LM counted)."""
    seen: set[bytes] = set()
    for source in shared_sources(shared, wiki_share=1.0):
        for index, doc in enumerate(iter_documents(source.path)):
            if split_of(f"{source.name}:{index}") == "train":
                seen.update(paragraph_hash(p) for p in doc)
    return seen


def pick_documents(shared: Path, per_source: int, max_overlap: float) -> list[dict]:
    """Test-split documents of each source with at least MIN_LINES lines and at most
    `max_overlap` of their paragraphs (of 40+ characters) also in a train document, in a fixed
    hashed order."""
    seen = train_paragraphs(shared)
    picked = []
    for source in shared_sources(shared):
        if source.name not in SOURCES:
            continue
        found = []
        for index, doc in enumerate(iter_documents(source.path)):
            key = f"{source.name}:{index}"
            if split_of(key) != "test":
                continue
            long = [p for p in doc if len(p) >= MIN_PARAGRAPH_CHARS] or doc
            overlap = sum(paragraph_hash(p) in seen for p in long) / len(long)
            lines = [x for x in document_lines(doc, key) if len(x) <= MAX_LINE_CHARS]
            if len(lines) >= MIN_LINES and overlap <= max_overlap:
                found.append({"key": key, "source": source.name, "overlap": round(overlap, 3),
                              "all_lines": lines})  # fmt: skip
        found.sort(key=lambda d: stable_unit("heldout:" + d["key"]))
        for rank, doc in enumerate(found[:per_source]):
            doc["set"] = "tune" if rank % 2 == 0 else "test"
            picked.append(doc)
        print(f"{source.name}: {len(found)} test documents qualify, {len(found[:per_source])} "
              f"taken", file=sys.stderr)  # fmt: skip
    return picked


def ocr_document(job: tuple[str, list[str], int, tuple[str, ...]]) -> dict[str, list[tuple]]:
    """Print the first `pages` pages of a document, degrade, OCR with each language; aligned
    (noisy, clean, page) rows per language, in page order."""
    import pytesseract

    os.environ["OMP_THREAD_LIMIT"] = "1"
    key, lines, pages, langs = job
    rng = random.Random(key)
    rows: dict[str, list[tuple]] = {lang: [] for lang in langs}
    start = 0
    for page in range(pages):
        style = random_style(rng)
        printed = lines[start : start + lines_per_page(style)]
        start += len(printed)
        if not printed:
            break
        image = degrade(render_page(printed, style, rng), style.level, rng)
        for lang in langs:
            text = pytesseract.image_to_string(image, lang=lang, config="--psm 6")
            ocr = [normalize(" ".join(x.split())) for x in text.splitlines() if x.strip()]
            for i, j in align_lines(ocr, printed):
                rows[lang].append((trim_scan_junk(ocr[i], printed[j]), printed[j], page + 1))
    return rows


def file_stem(key: str) -> str:
    return key.replace(":", "-")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--data", type=Path, default=data_dir())
    parser.add_argument("--docs", type=int, default=16, help="documents in all (half per source)")
    parser.add_argument("--pages", type=int, default=3, help="pages printed per document")
    parser.add_argument("--langs", default="eng,vie")
    parser.add_argument(
        "--max-overlap",
        type=float,
        default=0.5,
        help="largest share of a document's paragraphs also in train documents",
    )
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    if not (args.shared / "corpus").is_dir():
        print(f"{args.shared / 'corpus'}: corpus missing", file=sys.stderr)
        return 1
    docs = pick_documents(args.shared, args.docs // len(SOURCES), args.max_overlap)
    langs = tuple(args.langs.split(","))
    jobs = [(d["key"], d["all_lines"], args.pages, langs) for d in docs]
    out = args.data / "heldout"
    manifest = []
    with Pool(args.jobs) as pool:
        for doc, rows in zip(docs, pool.imap(ocr_document, jobs), strict=True):
            folder = out / doc["set"]
            folder.mkdir(parents=True, exist_ok=True)
            for lang, pairs in rows.items():
                body = "".join(f"{n}\t{c}\t{p}\n" for n, c, p in pairs)
                atomic_write_text(folder / f"{file_stem(doc['key'])}.{lang}.tsv", body)
            counts = {lang: len(pairs) for lang, pairs in rows.items()}
            entry = {k: v for k, v in doc.items() if k != "all_lines"}
            entry |= {"file": f"{doc['set']}/{file_stem(doc['key'])}", "aligned_lines": counts,
                      "first_line": doc["all_lines"][0]}  # fmt: skip
            manifest.append(entry)
            print(f"{doc['key']} ({doc['set']}): aligned lines {counts}", file=sys.stderr)
    atomic_write_text(out / "manifest.json",
                      json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
