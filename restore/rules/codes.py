"""Document codes lose their Đ in English-data OCR and in unaccented text: 15/2020/ND-CP.

Codes pass through unchanged except for one repair: a code segment (between -, / or .) that is the
Đ-less form of a known abbreviation (ND -> NĐ, QD -> QĐ, BGDDT -> BGDĐT) gets its Đ back. The
table (`models/lexicon/code_segments.tsv`) is learned from the clean corpus: abbreviations seen
with Đ often, and their Đ-less form almost never. Digits never change.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import regex
from vanban.models import LEXICON_DIR

TABLE_PATH = LEXICON_DIR / "code_segments.tsv"
_CODE = regex.compile(r"[\p{Lu}\d]+(?:[-/.][\p{L}\d]+)+")  # 15/2020/ND-CP, 34.4.ND.1.236
_SEPARATOR = regex.compile(r"([-/.])")


def count_segments(lines: Iterable[str]) -> tuple[Counter[str], Counter[str]]:
    """Upper-case code segments with Đ, and Đ-less segments that contain D."""
    with_d: Counter[str] = Counter()
    plain: Counter[str] = Counter()
    for line in lines:
        for code in _CODE.findall(line):
            for segment in _SEPARATOR.split(code):
                if len(segment) >= 2 and segment.isupper():
                    if "Đ" in segment:
                        with_d[segment] += 1
                    elif "D" in segment:
                        plain[segment] += 1
    return with_d, plain


def write_table(
    with_d: Counter[str], plain: Counter[str], path: Path, min_count: int = 10, max_share=0.05
) -> int:
    """Rows `DLESS<TAB>WITH_Đ<TAB>count<TAB>dless_count` for safe repairs."""
    rows = []
    for segment, n in with_d.most_common():
        dless = segment.replace("Đ", "D")
        if n >= min_count and plain.get(dless, 0) <= max_share * n:
            rows.append(f"{dless}\t{segment}\t{n}\t{plain.get(dless, 0)}\n")
    path.write_text("".join(rows), encoding="utf-8")
    return len(rows)


@lru_cache(maxsize=4)
def load_table(path: Path = TABLE_PATH) -> dict[str, str]:
    if not path.exists():
        return {}
    rows = (line.split("\t") for line in path.read_text(encoding="utf-8").splitlines())
    return {row[0]: row[1] for row in rows}


def repair_code(core: str, table: dict[str, str]) -> str:
    """Put Đ back into the known abbreviations of a code; anything else stays as printed."""
    if not table or not _CODE.fullmatch(core):
        return core
    return "".join(table.get(part, part) for part in _SEPARATOR.split(core))
