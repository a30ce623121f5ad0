"""Vietnamese text helpers: normalization, mark stripping and folding, tokens, chunks, syllables."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import regex

TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}  # huyền sắc ngã hỏi nặng
_OLD_STYLE_PAIRS = ("oa", "oe", "uy")

# Punctuation that the restorer never changes (noise symbols such as & ¢ ¥ are not in it).
PUNCTUATION = set(".,;:!?()[]{}\"'“”‘’«»-–—/…*%+=<>|_")
_WORD_RE = regex.compile(r"[\p{L}\p{M}\p{N}]+|[^\p{L}\p{M}\p{N}\s]")
_VOWELS = set("aăâeêioôơuưy")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def strip_marks(text: str) -> str:
    """Remove every diacritic (đ -> d too): 'Đề nghị' -> 'De nghi'."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


@lru_cache(maxsize=1 << 16)
def fold(text: str | None) -> str:
    """Lowercase, marks stripped (đ -> d), NFC: the form keywords, filters and search compare in."""
    return strip_marks(nfc(text or "")).lower()


def strip_tone(syllable: str) -> str:
    """Remove only the tone mark, keep the vowel marks: 'hướng' -> 'hương'."""
    decomposed = unicodedata.normalize("NFD", syllable)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONE_MARKS))


def _old_style_syllable(word: str) -> str:
    """Move the tone of a coda-less oa/oe/uy onto its first vowel: hoà -> hòa, thuỷ -> thủy."""
    decomposed = unicodedata.normalize("NFD", word)
    tones = [c for c in decomposed if c in TONE_MARKS]
    if len(tones) != 1:
        return word
    bare = "".join(c for c in decomposed if c not in TONE_MARKS)
    bare_nfc = unicodedata.normalize("NFC", bare)
    low = bare_nfc.lower()
    for pair in _OLD_STYLE_PAIRS:
        if (
            low.endswith(pair)
            and not low.endswith("q" + pair)
            and not low.endswith("gi" + pair[1:])
        ):
            if pair == "uy" and low.endswith("quy"):
                return word
            i = len(bare_nfc) - 2
            if i > 0 and low[i - 1] in _VOWELS:
                return word
            rebuilt = bare_nfc[: i + 1] + tones[0] + bare_nfc[i + 1 :]
            return unicodedata.normalize("NFC", rebuilt)
    return word


# Words whose tone sits on the second vowel of a coda-less oa/oe/uy (the newer style).
_NEW_STYLE_RE = regex.compile(r"\p{L}*(?:[oO][àáảãạÀÁẢÃẠèéẻẽẹÈÉẺẼẸ]|[uU][ỳýỷỹỵỲÝỶỸỴ])(?!\p{L})")


def normalize(text: str) -> str:
    """NFC and the older tone placement the documents print (hòa, hóa, thủy, Ủy)."""
    text = nfc(text)
    return _NEW_STYLE_RE.sub(lambda m: _old_style_syllable(m.group(0)), text)


def score_tokens(text: str) -> list[str]:
    """Tokens for scoring: runs of letters/digits, and single punctuation marks."""
    return _WORD_RE.findall(text)


@dataclass(frozen=True)
class Chunk:
    """A whitespace-delimited piece of a line split as prefix punctuation + core + suffix."""

    prefix: str
    core: str
    suffix: str
    space_before: str

    @property
    def text(self) -> str:
        return self.prefix + self.core + self.suffix


def split_chunks(line: str) -> list[Chunk]:
    """Split a line into chunks whose concatenation (with `space_before`) gives the line back."""
    chunks = []
    for m in regex.finditer(r"(\s*)(\S+)", line):
        space, word = m.group(1), m.group(2)
        start, end = 0, len(word)
        while start < end and word[start] in PUNCTUATION:
            start += 1
        while end > start and word[end - 1] in PUNCTUATION:
            end -= 1
        chunks.append(Chunk(word[:start], word[start:end], word[end:], space))
    return chunks


def join_chunks(chunks: list[Chunk], trailing: str = "") -> str:
    return "".join(c.space_before + c.text for c in chunks) + trailing


ONSETS = sorted(
    "b c ch d đ g gh gi h k kh l m n ng ngh nh p ph qu r s t th tr v x".split(),
    key=len,
    reverse=True,
)


_SYLLABLE_LETTERS = regex.compile(r"[a-zđăâêôơư]+")
_RHYME = regex.compile(r"([aăâeêioôơuưy]{1,3})(ng|nh|ch|c|m|n|p|t)?")


@lru_cache(maxsize=100_000)
def is_valid_syllable(word: str) -> bool:
    """Structural check for a Vietnamese syllable: onset + 1-3 vowels + optional coda."""
    w = strip_tone(word.lower())
    if not w or not _SYLLABLE_LETTERS.fullmatch(w):
        return False
    for onset in [*ONSETS, ""]:
        if w.startswith(onset) and _RHYME.fullmatch(w[len(onset) :]):
            return True
    return False
