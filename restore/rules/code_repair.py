"""Document codes OCR damaged: "77/0P-TTg" and "Qb-BCA" are "77/QĐ-TTg" and "QĐ-BCA".

The inventory (`models/lexicon/code_parts.tsv`, `scripts/build_code_parts.py`) counts the letter
parts of the codes in the corpus's train documents (QĐ, NĐ, CP, UBND, TTg, BCA, ...). A part of a
code-shaped chunk (parts joined by - or /) that the corpus never shows becomes the one frequent
part it reads as under OCR's look-alike characters (0 O Q D Đ P b, 1 I l, 5 S, 8 B, ¢ g ...):
- only parts with a letter change: a part of digits (the number, the year) never does;
- the chunk must hold another part that is a number or a known part (it is a code);
- the printed part is absent from the corpus, the repaired one seen `MIN_COUNT` times or more
  and at least `DOMINANCE` times as often as any other reading;
- at most two characters change, each to a look-alike.
Every repair is flagged: its confidence is at most `FLAGGED` (listed as doubtful in the JSON).
The Đ-less forms (ND -> NĐ) are `restore.rules.codes`' table; this module handles what it does not.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from itertools import combinations, product
from pathlib import Path

import regex
from vanban.restore.decoder.lexicon import LEXICON_DIR

PARTS_PATH = LEXICON_DIR / "code_parts.tsv"
FLAGGED = 0.45  # confidence cap of a repaired code or a digit read as a word (JSON: doubtful)
MIN_COUNT = 20
DOMINANCE = 10.0
MAX_CHANGES = 2
# What eng OCR prints for a code letter: printed character -> the letters it may stand for.
LOOKALIKES = {
    "0": "OQĐD", "O": "QĐD", "Q": "OĐ", "D": "ĐO", "P": "Đ", "b": "Đ", "B": "Đ", "p": "PĐ",
    "o": "OĐ", "1": "IT", "l": "IT1", "I": "T1", "|": "I1", "5": "S", "8": "B", "6": "G",
    "¢": "gC",
    "c": "C", "s": "S", "v": "V", "w": "W", "x": "X", "z": "Z", "u": "U", "k": "K",
}  # fmt: skip
_CODE_MINING = regex.compile(r"(?<![\p{L}\p{N}])[\p{Lu}\p{N}][\p{L}\p{N}]*(?:[-/][\p{L}\p{N}]+)+")
_CODE_CHUNK = regex.compile(r"[\p{L}\p{N}|¢]+(?:[-/][\p{L}\p{N}|¢]+)+")
_SEPARATOR = regex.compile(r"([-/])")
_PART = regex.compile(r"\p{Lu}[\p{L}\p{N}]{0,9}")


def count_parts(lines: Iterable[str]) -> Counter[str]:
    """Letter parts (starting with a capital, up to 10 characters) of the codes in `lines`."""
    counts: Counter[str] = Counter()
    for line in lines:
        for code in _CODE_MINING.findall(line):
            for part in _SEPARATOR.split(code)[::2]:
                if _PART.fullmatch(part) and not part.isdigit():
                    counts[part] += 1
    return counts


def write_parts(counts: Counter[str], path: Path, min_count: int = 1) -> int:
    """Rows `part<TAB>count`, most frequent first, for parts seen `min_count` times."""
    rows = [(p, n) for p, n in counts.most_common() if n >= min_count]
    path.write_text("".join(f"{p}\t{n}\n" for p, n in rows), encoding="utf-8")
    return len(rows)


@lru_cache(maxsize=4)
def load_parts(path: Path = PARTS_PATH) -> dict[str, int]:
    if not path.exists():
        return {}
    rows = (line.split("\t") for line in path.read_text(encoding="utf-8").splitlines())
    return {row[0]: int(row[1]) for row in rows if len(row) == 2}


def readings(part: str) -> set[str]:
    """`part` with one or two characters replaced by a look-alike letter."""
    spots = [i for i, ch in enumerate(part) if ch in LOOKALIKES]
    out = set()
    for n in range(1, MAX_CHANGES + 1):
        for where in combinations(spots, n):
            for letters in product(*(LOOKALIKES[part[i]] for i in where)):
                chars = list(part)
                for i, letter in zip(where, letters, strict=True):
                    chars[i] = letter
                out.add("".join(chars))
    return out


def repair_part(part: str, parts: dict[str, int]) -> str:
    """The frequent known part a never-seen part reads as; the part itself otherwise."""
    if part in parts or len(part) < 2 or len(part) > 10 or part.isdigit():
        return part
    found = sorted(((parts[r], r) for r in readings(part) if r in parts), reverse=True)
    if not found or found[0][0] < MIN_COUNT:
        return part
    if len(found) > 1 and found[0][0] < DOMINANCE * found[1][0]:
        return part
    return found[0][1]


def repair_ocr_code(core: str, parts: dict[str, int] | None = None) -> str:
    """A code-shaped chunk with its damaged letter parts repaired; anything else unchanged."""
    parts = load_parts() if parts is None else parts
    if not parts or not _CODE_CHUNK.fullmatch(core):
        return core
    pieces = _SEPARATOR.split(core)
    words = pieces[::2]
    anchors = [w.isdigit() or parts.get(w, 0) >= MIN_COUNT for w in words]
    for n, word in enumerate(words):
        if anchors[n] or not any(anchors[m] for m in range(len(words)) if m != n):
            continue
        pieces[2 * n] = repair_part(word, parts)
    return "".join(pieces)
