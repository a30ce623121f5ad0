"""Digits that English-data OCR printed for letters: "nhất 14 các" is "nhất là các", "6" is "ở".

Numbers pass through unchanged, except one narrow case: a lone one- or two-digit token between two
lowercase words, where the learned table (`models/lexicon/digit_misreads.tsv`, from aligned real
and true-channel pairs) says OCR often prints that token for a syllable. There the decoder weighs
keeping the number against those syllables with the LM, which sees the number as a number class
("có 6 xã" stays; "nhất 14 các" becomes "nhất là các"). Codes, dates, counts next to punctuation
or capitals, and longer numbers are never candidates.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import regex
from vanban.models import LEXICON_DIR

from vanban.core.text import Chunk, normalize, split_chunks

TABLE_PATH = LEXICON_DIR / "digit_misreads.tsv"
NUMBER = "<num>"  # the table's name for "the gold token was this number"
_DIGITS = regex.compile(r"\d{1,2}")
_LOWER_WORD = regex.compile(r"\p{Ll}+")


def in_word_context(chunks: list[Chunk], k: int, next_line: Chunk | None = None) -> bool:
    """Is chunk k a bare 1-2 digit token with a lowercase word on each side? For the last chunk
    of a line, `next_line` (the first chunk of the next line) is the word after it."""
    after = chunks[k + 1] if k + 1 < len(chunks) else next_line
    if k < 1 or after is None:
        return False
    chunk, before = chunks[k], chunks[k - 1]
    return (
        bool(_DIGITS.fullmatch(chunk.core))
        and not chunk.prefix
        and not chunk.suffix
        and bool(_LOWER_WORD.fullmatch(before.core))
        and not before.suffix
        and bool(_LOWER_WORD.fullmatch(after.core))
        and not after.prefix
    )


def count_misreads(pairs: Iterable[tuple[str, str]]) -> dict[str, Counter[str]]:
    """For chunk-aligned (noisy, clean) lines: what each in-context digit token really was."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for noisy, clean in pairs:
        noisy_chunks, clean_chunks = split_chunks(noisy), split_chunks(normalize(clean))
        if len(noisy_chunks) != len(clean_chunks):
            continue
        for k, gold in enumerate(clean_chunks):
            if in_word_context(noisy_chunks, k):
                word = gold.core.lower()
                counts[noisy_chunks[k].core][NUMBER if word.isdigit() else word] += 1
    return counts


def write_table(counts: dict[str, Counter[str]], path: Path, min_count: int = 3) -> int:
    """Keep digit tokens read as some syllable at least `min_count` times; rows
    `digits<TAB>gold<TAB>count`, gold `<num>` for the times it was a number."""
    rows = []
    for digits, golds in sorted(counts.items()):
        words = {w: n for w, n in golds.items() if w != NUMBER and n >= min_count}
        if words:
            rows.append((digits, NUMBER, golds.get(NUMBER, 0)))
            rows += [(digits, w, n) for w, n in sorted(words.items(), key=lambda x: -x[1])]
    path.write_text("".join(f"{d}\t{w}\t{n}\n" for d, w, n in rows), encoding="utf-8")
    return len(rows)


@lru_cache(maxsize=4)
def load_table(path: Path = TABLE_PATH) -> dict[str, list[tuple[str, float]]]:
    """digits -> [(gold, log P(gold | digits in word context))], `<num>` first; add-one smoothed."""
    if not path.exists():
        return {}
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for row in path.read_text(encoding="utf-8").splitlines():
        digits, gold, n = row.split("\t")
        counts[digits][gold] = int(n)
    table = {}
    for digits, golds in counts.items():
        total = sum(golds.values()) + len(golds)
        table[digits] = [(g, math.log((n + 1) / total)) for g, n in golds.items()]
    return table
