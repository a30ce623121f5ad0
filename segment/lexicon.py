"""Word-level helpers for the segmenter: tokens with spans, mark-free folding, phrase matching."""

from __future__ import annotations

import re
from functools import lru_cache

import regex
from rapidfuzz.distance import Levenshtein

from vanban.core.text import fold

_TOKEN_RE = regex.compile(r"[\p{L}\p{M}\p{N}]+(?:[&'’][\p{L}\p{M}\p{N}]+)*|[^\s\p{L}\p{M}\p{N}]")


class Token:
    """A word or punctuation mark of a text: its span and its mark-free lowercase form."""

    __slots__ = ("text", "start", "end", "fold", "is_word", "is_capitalized")

    def __init__(self, text: str, start: int, end: int):
        self.text, self.start, self.end = text, start, end
        self.fold = fold(text)
        self.is_word = text[0].isalnum()
        self.is_capitalized = text[0].isupper()

    def __repr__(self) -> str:
        return f"Token({self.text!r})"

    @property
    def is_abbreviation(self) -> bool:
        letters = [c for c in self.text if c.isalpha()]
        return len(letters) >= 2 and all(c.isupper() for c in letters)


def tokenize(text: str) -> list[Token]:
    return list(_tokenize(text))


@lru_cache(maxsize=8192)
def _tokenize(text: str) -> tuple[Token, ...]:
    return tuple(Token(m.group(0), m.start(), m.end()) for m in _TOKEN_RE.finditer(text))


@lru_cache(maxsize=4096)
def phrase_folds(phrase: str) -> tuple[str, ...]:
    return tuple(fold(t.text) for t in tokenize(phrase))


def match_phrase(tokens: list[Token], i: int, phrase: str) -> int | None:
    """End index if `phrase` (marks and case ignored) starts at token i, else None."""
    folds = phrase_folds(phrase)
    if i + len(folds) > len(tokens) or tokens[i].fold != folds[0]:
        return None
    for k, f in enumerate(folds):
        if tokens[i + k].fold != f:
            return None
    return i + len(folds)


_INDEXES: dict[int, tuple[tuple[str, ...], dict[str, list[tuple[str, ...]]]]] = {}


def _phrase_index(phrases: tuple[str, ...]) -> dict[str, list[tuple[str, ...]]]:
    """Phrases grouped by their first folded word, longest first (cached per phrase tuple)."""
    cached = _INDEXES.get(id(phrases))
    if cached is not None and cached[0] is phrases:
        return cached[1]
    index: dict[str, list[tuple[str, ...]]] = {}
    for phrase in phrases:
        folds = phrase_folds(phrase)
        if folds:
            index.setdefault(folds[0], []).append(folds)
    for entries in index.values():
        entries.sort(key=len, reverse=True)
    _INDEXES[id(phrases)] = (phrases, index)
    return index


def match_any(tokens: list[Token], i: int, phrases: tuple[str, ...]) -> int | None:
    """End index of the longest phrase from `phrases` starting at token i."""
    if i >= len(tokens):
        return None
    for folds in _phrase_index(phrases).get(tokens[i].fold, ()):
        end = i + len(folds)
        if end <= len(tokens) and all(tokens[i + k].fold == f for k, f in enumerate(folds)):
            return end
    return None


def clean_spaces(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")


def clear_caches() -> None:
    """Forget cached tokens and folds (benchmarks time cold runs with this)."""
    _tokenize.cache_clear()
    fold.cache_clear()


def near(word: str, target: str) -> bool:
    """OCR-tolerant equality of folded words: same first letter, at most one edit."""
    if word == target:
        return True
    return len(target) >= 3 and word[:1] == target[:1] and Levenshtein.distance(word, target) <= 1


def match_phrase_near(tokens: list[Token], i: int, phrase: str) -> int | None:
    """Like match_phrase, with each word compared by `near` (for a few trigger words)."""
    folds = phrase_folds(phrase)
    if i + len(folds) > len(tokens) or not near(tokens[i].fold, folds[0]):
        return None
    for k, f in enumerate(folds[1:], 1):
        if not near(tokens[i + k].fold, f):
            return None
    return i + len(folds)


def match_any_near(
    tokens: list[Token], i: int, phrases: tuple[str, ...], min_len: int = 4
) -> int | None:
    """Like match_any, but a word of `min_len`+ letters may differ by one OCR edit."""
    end = match_any(tokens, i, phrases)
    if end is not None or i >= len(tokens):
        return end
    best = None
    first = tokens[i].fold[:1]
    for phrase in phrases:
        folds = phrase_folds(phrase)
        if folds[:1] and folds[0][:1] != first:
            continue  # `near` keeps the first letter
        if i + len(folds) > len(tokens) or (best is not None and i + len(folds) <= best):
            continue
        ok = all(
            tokens[i + k].fold == f or (len(f) >= min_len and near(tokens[i + k].fold, f))
            for k, f in enumerate(folds)
        )
        if ok:
            best = i + len(folds)
    return best
