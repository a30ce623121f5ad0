"""Letters that OCR printed for digits: "khoản I Điều 5" is "khoản 1", "ngày 0l" is "ngày 01".

Digits in the input never change. The reverse repair, a letter back to the digit it stands for,
is made only where the letter cannot be read as a letter:

- inside a number: a token (or a code segment between . / -) of digits and the look-alikes
  I l O, with at least one real digit ("I1", "l5", "0l", "TT.I3.I0");
- after a word that is always followed by an Arabic number: "khoản I", "ngày OI", "Điều l";
- as a numbered label at the start of a line when the list it belongs to says so: "I." followed
  by "2.", or "II." right after "10.";
- in a family of codes of one document: "CGI" where the same document prints "CG2".

Each kind has a certainty, measured on the aligned training pairs by `scripts/measure_numerals.py`,
that caps the confidence of the repaired token. The repairs are made in every profile (eng, vie,
unaccented); the LM sees a repaired token as a number.
"""

from __future__ import annotations

from collections.abc import Iterable

import regex

from vanban.core.text import Chunk, is_valid_syllable

_LOOKS_LIKE = str.maketrans("IlO", "110")
_SEGMENT = regex.compile(r"([-/.,])")
_MIXED = regex.compile(r"(?=.*\d)(?=.*[IlO])[\dIlO]{2,}")
_NOT_A_NUMBER = regex.compile(
    r"O[2-9]"  # chemistry: O2, O3
    r"|\d{2,}[Il]"  # an inserted article or form: Điều 40l, Mẫu số 04I
)
# Words followed by Roman numbers, whose footnote marks make 'Phụ lục I1', 'hạng II15'.
_ROMAN_HOME = {"lục", "chương", "mục", "phần", "hạng", "loại", "nhóm", "cấp"}
_LOOSE = regex.compile(r"[Il]{1,2}")
_THOUSANDS = regex.compile(r"\d{3}")
_ONE = regex.compile(r"[Il]")
_ONE_OR_TWO = regex.compile(r"[IlO]{1,2}")
_NUMBER_WORDS = {"khoản": _ONE, "điều": _ONE, "ngày": _ONE_OR_TWO, "tháng": _ONE_OR_TWO}
_LABEL = regex.compile(r"(\d{1,2}|[IVXl]{1,4})[.]$")
_FAMILY = regex.compile(r"([A-Z]{2,})(\d{1,2})")
_TAIL = regex.compile(r"(?=.*[Il])[\dIl]{1,2}")
_ROMAN = set("IVXLCDM")

# The confidence of a repaired token: the share of right repairs of its kind (the model card has
# the counts, from scripts/measure_numerals.py).
CERTAINTY = {"number": 0.75, "after_word": 0.95, "label": 0.9, "family": 0.75}


def as_digits(text: str) -> str:
    return text.translate(_LOOKS_LIKE)


def read_document(lines: list[list[Chunk]]) -> dict[tuple[int, int], tuple[str, str]]:
    """(line, chunk) -> (core with digits, kind) for every chunk of a document that is a number
    printed with letters; kind is a key of CERTAINTY."""
    out: dict[tuple[int, int], tuple[str, str]] = {}
    labels = label_readings(
        [line_label(chunks) for chunks in lines], [_in_capitals(chunks) for chunks in lines]
    )
    families = code_families(c.core for chunks in lines for c in chunks)
    for i, chunks in enumerate(lines):
        for k, chunk in enumerate(chunks):
            previous = chunks[k - 1].core.lower() if k else ""
            if k == 0 and i in labels:
                out[i, k] = labels[i], "label"
            elif reading := after_number_word(chunks, k):
                out[i, k] = reading, "after_word"
            elif not (chunk.core[:1] == "l" and chunk.suffix[:1] == ")") and (
                reading := in_number(chunk.core, previous)
            ):  # not item l1)
                out[i, k] = reading, "number"
            elif reading := in_family(chunk.core, families):
                out[i, k] = reading, "family"
    return out


def in_number(core: str, previous: str = "") -> str | None:
    """The core with look-alike letters made digits where they sit inside a number, else None:
    'I1', 'l5', 'TT.I3.I0'; in a code that starts with a number and has two, a lone 'I' or 'II'
    segment ('25.7.NĐ.I.3'); an 'I' before a group of three digits ('I.010')."""
    parts = _SEGMENT.split(core)
    segments = parts[::2]
    numeric = (
        segments[0].isdigit()
        and sum(p.isdigit() for p in segments) >= 2
        and not any(p.islower() for p in segments)
    )
    fixed = list(parts)
    for n in range(0, len(parts), 2):
        part = parts[n]
        if _MIXED.fullmatch(part) and not _NOT_A_NUMBER.fullmatch(part):
            if not (previous in _ROMAN_HOME and part[0] == "I"):
                fixed[n] = as_digits(part)
        elif _LOOSE.fullmatch(part) and (
            (n and numeric) or (n == 0 and parts[1:2] == ["."] and _THOUSANDS.fullmatch(parts[2]))
        ):
            fixed[n] = as_digits(part)
    return "".join(fixed) if fixed != parts else None


def after_number_word(chunks: list[Chunk], k: int) -> str | None:
    """'I'/'l' right after khoản or Điều, 'OI'/'II' after ngày or tháng: words always followed
    by Arabic numbers in these documents."""
    if k < 1 or chunks[k].prefix or chunks[k - 1].suffix:
        return None
    letters = _NUMBER_WORDS.get(chunks[k - 1].core.lower())
    core = chunks[k].core
    if letters is None or _NOT_A_NUMBER.fullmatch(core):
        return None
    if letters.fullmatch(core) or _MIXED.fullmatch(core):
        return as_digits(core)
    return None


def line_label(line_chunks: list[Chunk]) -> str | None:
    """The numbered label that opens a line ('1.', 'II.', 'l.'), as printed, or None."""
    if not line_chunks or line_chunks[0].prefix:
        return None
    first = line_chunks[0]
    match = _LABEL.fullmatch(first.core + first.suffix[:1])
    return match.group(1) if match else None


def _in_capitals(chunks: list[Chunk]) -> bool:
    words = [c.core for c in chunks[1:] if c.core.isalpha()]
    return bool(words) and sum(w.isupper() for w in words) * 2 > len(words)


def label_readings(labels: list[str | None], capitals: list[bool]) -> dict[int, str]:
    """Line -> digits for the labels read as letters: 'l.' always; 'I.' when the next label of
    the document is '2.' and no label is 'II.'; a Roman-looking label that is the previous
    number plus one, unless its line is in capitals like a Roman section heading."""
    out: dict[int, str] = {}
    numbered = [(i, label) for i, label in enumerate(labels) if label]
    for n, (i, label) in enumerate(numbered):
        if label.isdigit() or not set(label) <= set("Il"):
            continue
        digits = as_digits(label)
        before = numbered[n - 1][1] if n else None
        after = numbered[n + 1][1] if n + 1 < len(numbered) else None
        follows = before and before.isdigit() and int(before) + 1 == int(digits)
        if label == "l" or (follows and not capitals[i]):
            out[i] = digits
        elif label == "I" and after == "2" and "II" not in labels:
            out[i] = digits
    return out


def code_families(cores: Iterable[str]) -> set[str]:
    """Upper-case prefixes that a document prints followed by digits: 'CG' of CG2, 'NA' of NA11;
    not Roman numbers."""
    return {
        m.group(1)
        for core in cores
        if (m := _FAMILY.fullmatch(core)) and not set(m.group(1)) <= _ROMAN
    }


def in_family(core: str, families: set[str]) -> str | None:
    """'CGI' -> 'CG1' when the document prints CG followed by digits elsewhere; never a word
    ('KHI', 'THI')."""
    if not families or is_valid_syllable(core.lower()):
        return None
    for cut in (len(core) - 1, len(core) - 2):
        prefix, tail = core[:cut], core[cut:]
        if prefix in families and _TAIL.fullmatch(tail):
            return prefix + as_digits(tail)
    return None
