"""The true channel: print clean lines, scan-degrade, OCR with Tesseract, align back to sources."""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytesseract
from rapidfuzz.distance import Levenshtein
from vanban.corpus.channel import chunks_correspond
from vanban.corpus.render import (
    PageStyle,
    degrade,
    heading_style,
    lines_per_page,
    random_style,
    render_page,
)

from vanban.core.text import normalize, split_chunks, strip_marks

MIN_SIMILARITY = (
    0.6  # of mark-stripped, lowercased lines, to accept an OCR line as a source's reading
)


@dataclass(frozen=True)
class PageJob:
    """One page to print and read: its source lines, style, OCR language and seed."""

    page_id: str
    lines: tuple[str, ...]
    style: PageStyle
    lang: str  # "eng" (legacy archive channel) or "vie" (fresh scans)
    seed: int


@dataclass(frozen=True)
class LinePair:
    """An OCR line aligned to its clean source line."""

    noisy: str
    clean: str
    page_id: str
    style: PageStyle
    lang: str
    chunk_aligned: bool


def _key(text: str) -> str:
    return " ".join(strip_marks(text).lower().split())


def similarity(ocr: str, clean: str) -> float:
    return Levenshtein.normalized_similarity(_key(ocr), _key(clean))


def align_lines(ocr_lines: list[str], clean_lines: list[str]) -> list[tuple[int, int]]:
    """Order-preserving (DP) alignment of OCR lines to source lines, above MIN_SIMILARITY."""
    n, m = len(ocr_lines), len(clean_lines)
    sim = [[similarity(o, c) for c in clean_lines] for o in ocr_lines]
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            match = best[i - 1][j - 1] + (
                sim[i - 1][j - 1] if sim[i - 1][j - 1] >= MIN_SIMILARITY else 0
            )
            best[i][j] = max(match, best[i - 1][j], best[i][j - 1])
    pairs = []
    i, j = n, m
    while i > 0 and j > 0:
        s = sim[i - 1][j - 1]
        if s >= MIN_SIMILARITY and best[i][j] == best[i - 1][j - 1] + s:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif best[i][j] == best[i - 1][j]:
            i -= 1
        else:
            j -= 1
    return pairs[::-1]


def _has_alnum(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def trim_scan_junk(ocr: str, clean: str) -> str:
    """Drop leading/trailing OCR chunks without letters or digits (speck noise) the source lacks."""
    chunks = ocr.split()
    target = len(split_chunks(clean))
    clean_chunks = clean.split()
    while (
        len(chunks) > target
        and chunks
        and not _has_alnum(chunks[0])
        and _has_alnum(clean_chunks[0])
    ):
        chunks.pop(0)
    while (
        len(chunks) > target
        and chunks
        and not _has_alnum(chunks[-1])
        and _has_alnum(clean_chunks[-1])
    ):
        chunks.pop()
    return " ".join(chunks)


def is_chunk_aligned(noisy: str, clean: str) -> bool:
    """Chunk i of noisy reads chunk i of clean (same count, no split+merge shift)."""
    return chunks_correspond(noisy, clean)


def aligned_pairs(path: Path) -> Iterator[tuple[str, str]]:
    """(noisy, clean) rows of a run file (render_true_channel.py) that are chunk-aligned."""
    with open(path, encoding="utf-8") as handle:
        for row in handle:
            fields = row.rstrip("\n").split("\t")
            if len(fields) >= 7 and fields[6] == "1" and is_chunk_aligned(fields[0], fields[1]):
                yield fields[0], fields[1]


def ocr_page(job: PageJob) -> list[LinePair]:
    """Render, degrade and OCR one page; return its aligned line pairs."""
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    rng = random.Random(job.seed)
    try:
        page = render_page(list(job.lines), job.style, rng)
    except RuntimeError as err:  # a text the layout engine cannot shape (raqm_layout() failed)
        print(f"{job.page_id}: not rendered ({err})", file=sys.stderr, flush=True)
        return []
    image = degrade(page, job.style.level, rng)
    text = pytesseract.image_to_string(image, lang=job.lang, config="--psm 6")
    ocr_lines = [normalize(" ".join(line.split())) for line in text.splitlines() if line.strip()]
    pairs = []
    for i, j in align_lines(ocr_lines, list(job.lines)):
        clean = job.lines[j]
        noisy = trim_scan_junk(ocr_lines[i], clean).replace("\t", " ")
        pairs.append(
            LinePair(noisy, clean, job.page_id, job.style, job.lang, is_chunk_aligned(noisy, clean))
        )
    return pairs


def read_documents(path: str) -> list[list[str]]:
    """Documents of a clean split file (lines, documents separated by an empty line)."""
    docs: list[list[str]] = []
    current: list[str] = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if line:
                current.append(line)
            elif current:
                docs.append(current)
                current = []
    if current:
        docs.append(current)
    return docs


CAPITALS = "caps"  # the plan mode, and the part of a run's file name, of pages in capitals


def run_kind(split: str, capitals: bool) -> str:
    """The split as it appears in a run's file name: "train", or "train.caps" for capitals."""
    return f"{split}.{CAPITALS}" if capitals else split


def printed_in_capitals(path: Path) -> bool:
    """Whether a true-channel run file (LANG.KIND.RUN.tsv) holds pages printed in capitals."""
    return f".{CAPITALS}." in path.name


def page_jobs(
    docs: list[list[str]], lang: str, seed: int, prefix: str, capitals: bool = False
) -> Iterator[PageJob]:
    """Endless random pages: a window of consecutive lines from a random document, random style.
    With `capitals`, the lines are printed in capitals (as titles and headings), half in bold."""
    rng = random.Random(seed)
    weights = [len(d) for d in docs]
    number = 0
    while True:
        doc = rng.choices(docs, weights=weights)[0]
        style = heading_style(rng) if capitals else random_style(rng)
        size = min(len(doc), lines_per_page(style))
        start = rng.randint(0, len(doc) - size)
        lines = tuple(line for line in doc[start : start + size] if len(line) <= 110)
        if capitals:
            lines = tuple(line.upper() for line in lines if len(line) <= 80)
        if lines:
            yield PageJob(f"{prefix}{number}", lines, style, lang, rng.getrandbits(32))
        number += 1
