"""Syllable inventory: valid Vietnamese syllables and frequent other tokens, with corpus counts."""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import regex
from vanban.models import LEXICON_DIR

from vanban.core.text import is_valid_syllable, normalize, strip_marks

INVENTORY_PATH = LEXICON_DIR / "syllables.tsv"
_LETTER_RUN = regex.compile(r"\p{L}+")


def letter_runs(line: str) -> list[str]:
    """Lowercase, normalized runs of letters of a line ('147/NQ-CP của' -> ['nq', 'cp', 'của'])."""
    return _LETTER_RUN.findall(normalize(line).lower())


def count_tokens(lines: Iterable[str]) -> Counter[str]:
    """Count the lowercase letter runs of `lines`."""
    counts: Counter[str] = Counter()
    for line in lines:
        counts.update(letter_runs(line))
    return counts


def word_list_tokens(words: Iterable[str], syllables_only: bool = True) -> set[str]:
    """Lowercase tokens of a word list (entries may be multi-syllable words)."""
    found = set()
    for word in words:
        for run in letter_runs(word):
            if is_valid_syllable(run) or not syllables_only:
                found.add(run)
    return found


def select_inventory(
    counts: Counter[str],
    trusted: set[str],
    listed: set[str],
    min_syllable: int = 5,
    min_listed: int = 2,
    min_other: int = 100,
    max_other_len: int = 8,
) -> dict[str, int]:
    """Keep valid syllables seen `min_syllable` times (`min_listed` if in a word list), every
    `trusted` token (curated syllable list, abbreviations), and short non-syllable tokens
    (abbreviations such as ubnd, nq, qđ) seen `min_other` times."""
    keep: dict[str, int] = {}
    for token, n in counts.items():
        if is_valid_syllable(token):
            if n >= min_syllable or (token in listed and n >= min_listed):
                keep[token] = n
        elif n >= min_other and len(token) <= max_other_len:
            keep[token] = n
    for token in trusted:
        keep.setdefault(token, counts.get(token, 0))
    return keep


def save_inventory(inventory: dict[str, int], path: Path = INVENTORY_PATH) -> None:
    """Write `token<TAB>count` lines, most frequent first, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = sorted(inventory.items(), key=lambda kv: (-kv[1], kv[0]))
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.writelines(f"{token}\t{n}\n" for token, n in rows)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


@lru_cache(maxsize=4)
def _load(path: str) -> dict[str, int]:
    inventory = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            token, _, n = line.rstrip("\n").partition("\t")
            if token:
                inventory[token] = int(n or 0)
    return inventory


def load_inventory(path: Path | None = None) -> dict[str, int]:
    """The shipped inventory: lowercase token -> corpus count (a fresh copy)."""
    return dict(_load(str(path or INVENTORY_PATH)))


def is_syllable_entry(token: str) -> bool:
    """True for valid Vietnamese syllables, False for abbreviations and foreign tokens."""
    return is_valid_syllable(token)


def base_form(token: str) -> str:
    """Mark-stripped lowercase form used to index the inventory ('Đảng' -> 'dang')."""
    return strip_marks(token.lower())
