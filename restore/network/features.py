"""Input side of the restorer: each OCR chunk becomes a bag of hashed character n-gram features."""

from __future__ import annotations

import zlib
from functools import lru_cache

import regex

from vanban.core.text import Chunk

N_SHAPE = 32  # feature ids below this are reserved for shapes and separators
SEP_FEATURE = 1
PAD_FEATURE = 0
_SHAPES = {
    "upper": 2, "title": 3, "lower": 4, "mixed": 5, "digit": 6, "noise": 7, "nocore": 8,
    "len1": 9, "len2": 10, "len3": 11, "len4": 12, "len5+": 13, "passthrough": 14,
}  # fmt: skip

_PASSTHROUGH_RE = regex.compile(
    r"""^(?:
        [\p{N}]+([.,/:-][\p{N}]+)*          # numbers, dates 22/5/2025, 1.000
      | .*[\p{N}].*[/-].* | .*[/-].*[\p{N}].*  # codes with digits: 147/NQ-CP, 30-NQ/TW
      | \p{Lu}{1,6}[/-]\p{Lu}[\p{Lu}\p{N}/-]*  # codes: NQ-CP, KH-UBND
      | (?:https?://|www\.).* | .*@.*\..*      # URLs, e-mail
    )$""",
    regex.VERBOSE,
)


_LETTER_RE = regex.compile(r"\p{L}")
_JOINED_RE = regex.compile(r"\p{L}[.,;:()]|[.,;:()]\p{L}")


@lru_cache(maxsize=500_000)
def is_passthrough(core: str) -> bool:
    """Cores the restorer never changes: numbers, dates, document codes, URLs, no letters."""
    if not core:
        return True
    if _JOINED_RE.search(core):  # "V.TO", "a),b": two tokens OCR ran together, keep as printed
        return True
    if not _LETTER_RE.search(core):
        return True
    return bool(_PASSTHROUGH_RE.match(core))


def _bucket(feature: str, n_buckets: int) -> int:
    return N_SHAPE + zlib.crc32(feature.encode("utf-8")) % (n_buckets - N_SHAPE)


def _shape(core: str) -> list[int]:
    ids = []
    letters = [c for c in core if c.isalpha()]
    if not core:
        return [_SHAPES["nocore"]]
    if letters and all(c.isupper() for c in letters):
        ids.append(_SHAPES["upper"] if len(letters) > 1 else _SHAPES["title"])
    elif letters and letters[0].isupper() and core[0].isalpha():
        ids.append(_SHAPES["title"] if all(c.islower() for c in letters[1:]) else _SHAPES["mixed"])
    elif letters:
        ids.append(_SHAPES["lower"] if all(c.islower() for c in letters) else _SHAPES["mixed"])
    if any(c.isdigit() for c in core):
        ids.append(_SHAPES["digit"])
    if any(not c.isalnum() for c in core):
        ids.append(_SHAPES["noise"])
    ids.append(_SHAPES[f"len{min(len(core), 5)}" + ("+" if len(core) >= 5 else "")])
    if is_passthrough(core):
        ids.append(_SHAPES["passthrough"])
    return ids


@lru_cache(maxsize=100_000)  # ~0.9 KB an entry: at most ~90 MB however long the input
def core_features(core: str, n_buckets: int) -> tuple[int, ...]:
    """Shape ids + hashed 1-4-gram features of the lowercased core, with word boundaries."""
    low = core.lower()
    padded = f"<{low}>"
    feats = _shape(core)
    feats.append(_bucket("W:" + low, n_buckets))
    for n in (1, 2, 3, 4):
        for i in range(len(padded) - n + 1):
            feats.append(_bucket(padded[i : i + n], n_buckets))
    return tuple(feats)


def chunk_features(chunk: Chunk, n_buckets: int) -> tuple[int, ...]:
    """Features of a chunk: its core plus the punctuation around it."""
    feats = core_features(chunk.core, n_buckets)
    extra = []
    if chunk.prefix:
        extra.append(_bucket("P:" + chunk.prefix, n_buckets))
    if chunk.suffix:
        extra.append(_bucket("S:" + chunk.suffix, n_buckets))
    return feats + tuple(extra) if extra else feats


def apply_case(pattern: str, word: str) -> str:
    """Give `word` (lowercase) the capitalization of the OCR chunk `pattern`."""
    letters = [c for c in pattern if c.isalpha()]
    if len(letters) > 1 and all(c.isupper() for c in letters):
        return word.upper()
    if pattern[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def clear_caches() -> None:
    """Forget the cached features (restore.api.release_memory)."""
    core_features.cache_clear()
    is_passthrough.cache_clear()
