"""Clean training text: shared corpus split by document, normalized, wrapped like printed lines."""

from __future__ import annotations

import gzip
import hashlib
import random
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import regex

from vanban.core.text import normalize

SPLITS = ("train", "valid", "test")
# Codification source notes / cross-references: 11 % of the legal file, very repetitive.
_SOURCE_NOTE = regex.compile(
    r"^\((Điều|Khoản|Điểm|Chương|Mục)\b.*có hiệu lực( thi hành)? kể từ ngày.*\)$"
    r"|^\((Điều|Chương|Mục|Khoản) này có nội dung (liên quan|được)"
)
_MD_PREFIX = regex.compile(r"^\s*(#{1,6}\s+|>\s*|[-*+]\s+(?=\S))")
_MD_EMPHASIS = regex.compile(r"(\*{1,3}|_{2,3})(?=\S)(.+?)(?<=\S)\1")
_MD_LINK = regex.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_TABLE_RULE = regex.compile(r"^\s*\|?\s*:?-{3,}.*$")


@dataclass(frozen=True)
class Source:
    """One corpus file and the share of its documents used (Wikipedia, general text: smaller)."""

    path: Path
    name: str
    doc_share: float = 1.0
    note_share: float = 0.1  # share of codification source notes kept


def shared_sources(shared: Path, wiki_share: float = 0.2) -> list[Source]:
    """The corpus sources; a `wiki_share` of the Wikipedia documents (the network's training text
    takes 20%, the shipped LM all of them). Splits do not depend on it (`split_of`)."""
    corpus = shared / "corpus"
    return [
        Source(corpus / "vn-admin-congbao.txt.gz", "admin"),
        Source(corpus / "vn-legal-phapdien.txt.gz", "legal"),
        Source(corpus / "vn-general-viwiki.txt.gz", "wiki", doc_share=wiki_share),
    ]


def stable_unit(key: str) -> float:
    """A deterministic number in [0, 1) from a string key."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def split_of(key: str, valid_share: float = 0.02, test_share: float = 0.03) -> str:
    """Train/valid/test by document key, so evaluation text is from unseen documents."""
    u = stable_unit("split:" + key)
    if u < test_share:
        return "test"
    if u < test_share + valid_share:
        return "valid"
    return "train"


def iter_documents(path: Path) -> Iterator[list[str]]:
    """Documents of a corpus file (paragraph per line, documents separated by an empty line)."""
    opener = gzip.open if path.suffix == ".gz" else open
    doc: list[str] = []
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if line.strip():
                doc.append(line)
            elif doc:
                yield doc
                doc = []
    if doc:
        yield doc


def strip_markdown(line: str) -> str:
    """Markdown line -> plain text (headings, bullets, emphasis, links, table pipes)."""
    if _MD_TABLE_RULE.match(line):
        return ""
    line = _MD_PREFIX.sub("", line)
    line = _MD_LINK.sub(r"\1", line)
    for _ in range(2):
        line = _MD_EMPHASIS.sub(r"\2", line)
    if line.strip().startswith("|"):
        line = " ".join(cell.strip() for cell in line.strip().strip("|").split("|") if cell.strip())
    return line


def clean_paragraph(text: str) -> str:
    """Normalize one paragraph: NFC + old tone style, no tabs, single spaces."""
    text = normalize(text).replace("\t", " ").replace("\u00a0", " ")
    return regex.sub(r" {2,}", " ", text).strip()


def wrap_paragraph(text: str, rng: random.Random, short: int = 90) -> list[str]:
    """Word-wrap a paragraph at a random width 55-90 like a printed page; short lines stay whole."""
    if len(text) <= short:
        return [text]
    width = rng.randint(55, 90)
    return textwrap.wrap(text, width=width, break_long_words=False, break_on_hyphens=False)


def document_lines(doc: list[str], key: str, note_share: float = 0.1) -> list[str]:
    """Clean, wrapped lines of one document."""
    rng = random.Random(key)
    lines: list[str] = []
    for paragraph in doc:
        text = clean_paragraph(paragraph)
        if not text:
            continue
        if _SOURCE_NOTE.match(text) and rng.random() >= note_share:
            continue
        lines.extend(wrap_paragraph(text, rng))
    return lines


def iter_source_documents(source: Source) -> Iterator[tuple[str, list[str]]]:
    """(document key, clean lines) for the selected documents of a source."""
    for index, doc in enumerate(iter_documents(source.path)):
        key = f"{source.name}:{index}"
        if source.doc_share < 1.0 and stable_unit("take:" + key) >= source.doc_share:
            continue
        lines = document_lines(doc, key, source.note_share)
        if lines:
            yield key, lines


def seed_markdown_documents(shared: Path) -> Iterator[tuple[str, list[str]]]:
    """Seed 002 (a Markdown plan of the target genre) as one training document."""
    for path in sorted((shared / "seeds").glob("002_*")):
        doc = [strip_markdown(line) for line in path.read_text(encoding="utf-8").splitlines()]
        lines = document_lines([d for d in doc if d.strip()], f"seed:{path.name}")
        if lines:
            yield f"seed:{path.name}", lines
