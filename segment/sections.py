"""Numbered headings -> section tree: label schemes, OCR label repair, titles and bodies."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from vanban.segment.lexicon import clean_spaces, fold

LETTERS = [
    "a",
    "b",
    "c",
    "d",
    "đ",
    "e",
    "g",
    "h",
    "i",
    "k",
    "l",
    "m",
    "n",
    "o",
    "p",
    "q",
    "r",
    "s",
    "t",
    "u",
    "v",
    "x",
    "y",
]
_LETTER_OCR = {"¢": "c", "c¢": "c", "¢c": "c", "€": "e", "ð": "đ", "f": "f", "j": "j"}
_ROMAN_OCR = str.maketrans(
    {"l": "I", "1": "I", "|": "I", "!": "I", "i": "I", "Ï": "I", "[": "I", "v": "V", "x": "X"}
)
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}
_FIXED_RANK = {"part": 0, "chapter": 1, "item": 2, "article": 3, "clause": 4}
_PART_WORDS = {"phan": "part", "chuong": "chapter", "muc": "item"}
_ARTICLE_WORDS = {"dieu", "pieu", "bieu"}
_BULLET_RE = re.compile(r"^\s*([-–—+•*●○▪■◦]|[①-⑳])\s*")
_TERMINAL_RE = re.compile(r"[.;:!?…][”\"»)]?\W{0,3}(\s+\S{1,2})?\s*$")
_CLOSING_RE = re.compile(
    r"^\W*(n[oơ]i nh[aậ]n|noi nhan)\b|^\W*(TM|KT|TL|TUQ)\s*\.\s*\S", re.IGNORECASE
)


_ATTACHED_TYPES = {  # document types an attached text opens with, its own numbering restarting
    "ke hoach",
    "quy che",
    "quy dinh",
    "de an",
    "chuong trinh",
    "phuong an",
    "huong dan",
    "dieu le",
}
_APPENDIX_RE = re.compile(r"^\W*(PHỤ LỤC|Phụ lục)\b")


def opens_attached_document(text: str) -> bool:
    """'KẾ HOẠCH', 'QUY CHẾ' alone on a line in capitals: an attached document's own title."""
    text = text.strip(" *#:")
    return is_caps(text) and fold(text) in _ATTACHED_TYPES


def opens_appendix(text: str) -> bool:
    """'PHỤ LỤC', 'Phụ lục I', alone on its line: an appendix (tables, not sections)."""
    return bool(_APPENDIX_RE.match(text)) and len(text.split()) <= 4


def to_roman(n: int) -> str:
    out = ""
    for value, sym in (
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ):
        while n >= value:
            out, n = out + sym, n - value
    return out


def _roman_reading(raw: str) -> str:
    """A Roman label as OCR shapes it, read back: 'l', '1', '|', 'Ï', '[' for I; 'H' for II."""
    return raw.replace("H", "II").translate(_ROMAN_OCR)


def roman_value(text: str) -> int | None:
    """Integer value of a well-formed Roman numeral, else None."""
    if not text or any(c not in _ROMAN_VALUES for c in text):
        return None
    total = 0
    for k, c in enumerate(text):
        v = _ROMAN_VALUES[c]
        total += -v if k + 1 < len(text) and _ROMAN_VALUES[text[k + 1]] > v else v
    return total if to_roman(total) == text else None


def clean_markdown(text: str) -> str:
    """Drop markdown marks (#, **, _, emphasis *) but keep a leading '* ' bullet."""
    text = re.sub(r"^\s*#{1,6}\s*", "", text)
    text = text.replace("**", "").replace("__", "")
    bullet = re.match(r"^\s*\*\s+", text)
    head, rest = (text[: bullet.end()], text[bullet.end() :]) if bullet else ("", text)
    rest = re.sub(r"(?<![\w*])\*(?=\S)|(?<=\S)\*(?![\w*])", "", rest)
    return (head + rest).rstrip()


_THREE_LETTERS = re.compile(r"[^\W\d_].*?[^\W\d_].*?[^\W\d_]", re.DOTALL)


def is_junk(text: str) -> bool:
    """Page numbers, scan specks and stray marks: lines with almost no letters."""
    return not _THREE_LETTERS.search(text) and not re.match(r"^\s*[a-zđ¢]\s*\)", text)


def ends_sentence(text: str) -> bool:
    return bool(_TERMINAL_RE.search(text))


def starts_upper(text: str) -> bool:
    for c in text.lstrip(" \"'“‘(*"):
        if c.isalpha():
            return c.isupper()
        if c.isdigit():
            return False
    return False


def is_caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 4 and sum(c.isupper() for c in letters) >= 0.85 * len(letters)


@dataclass
class Candidate:
    """A line that may open a numbered section."""

    index: int  # line index
    scheme: str  # part | chapter | article | roman | arabic | decimal | letter
    raw: str  # label as printed ('Il', 'd', '2.1')
    title: str  # text after the label on the same line
    digits_roman: bool = False  # '1.', '11.' that could be a Roman numeral misread
    joined: bool = False  # the label stood alone on its line; the title is the next line
    misread: str = ""  # the label as printed, when it was read in another scheme ('I' for '1')
    bare: bool = False  # a Roman label printed without its period: only where the sequence is
    lost: bool = False  # a caps title over a list restarting at '1.': its Roman label was lost


_PART_RE = re.compile(  # the Roman class takes OCR's shapes ('1I', '111'; 'HI', '[II' in caps)
    r"^(\S+)\s+(thứ\s+\S+|\d{1,2}|[IVXLC1]{1,5}|(?-i:[IVXLC1HÏ\[]{1,5}))\b\s*[.:\-–]?\s*(.*)$",
    re.IGNORECASE,
)
_PART_WORD_ALONE_RE = re.compile(r"^(\S+)\s*[.:]?$")
_ROMAN_RE = re.compile(r"^([IVXLCl1|!HÏ\[][IVXLCl1|!iHÏ]{0,4})\s*[.:]\s*(.*)$")  # 'Iii.', 'HI.'
_BARE_ROMAN_RE = re.compile(r"^([IVX]{1,4})\s+(\S.*)$")  # 'II NHIỆM VỤ': the period lost
_BARE_ROMANS = {"II", "III", "IV", "VII", "VIII", "IX"}  # not 'I', 'V', 'VI' ('VI PHẠM'), 'X'
_DECIMAL_RE = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){1,3})\.?\s*(\S.*)$")
_ARABIC_RE = re.compile(r"^(\d{1,2})\s*[.)]\s*(\S.*)$")
_LETTER_RE = re.compile(r"^(c¢|¢c|[a-zđ¢€ð])\s*\)\s*(.*)$")


def title_like(text: str) -> bool:
    """A short heading title ('Sở Tài chính'), not the start of a running sentence."""
    return len(text.split()) <= 15 and not ends_sentence(text) and starts_upper(text)


def find_candidate(index: int, text: str) -> Candidate | None:
    """Classify the start of a (markdown-free, stripped) line as a heading label, if it is one."""
    m = _PART_RE.match(text)
    if m:
        word = fold(m.group(1))
        if word in _PART_WORDS:
            return Candidate(index, _PART_WORDS[word], m.group(2), m.group(3))
        number = m.group(2).isdigit() and len(m.group(2)) <= 2  # not '111': a Roman misread
        if word in _ARTICLE_WORDS and number:
            return Candidate(index, "article", m.group(2), m.group(3))
        if word == "khoan" and number:
            return Candidate(index, "clause", m.group(2), m.group(3))
    m = _DECIMAL_RE.match(text)
    if m and m.group(2)[0].isalpha():
        return Candidate(index, "decimal", m.group(1), m.group(2))
    m = _ROMAN_RE.match(text)
    if m and (m.group(2)[:1].isalpha() or m.group(2)[:1] in '"“'):
        raw = m.group(1)
        if roman_value(_roman_reading(raw)) is not None:
            if not raw.isdigit():
                return Candidate(index, "roman", raw, m.group(2))
            if m.group(2)[:1].isalpha() or is_caps(m.group(2)):
                return Candidate(index, "arabic", raw, m.group(2), digits_roman=True)
    m = _BARE_ROMAN_RE.match(text)
    if m and m.group(1) in _BARE_ROMANS and is_caps(m.group(2)) and len(m.group(2).split()) >= 2:
        return Candidate(index, "roman", m.group(1), m.group(2), bare=True)
    m = _ARABIC_RE.match(text)
    if m and (m.group(2)[0].isalpha() or m.group(2)[0] in '"“'):
        return Candidate(index, "arabic", m.group(1), m.group(2))
    m = _LETTER_RE.match(text)
    if m and m.group(2)[:1].strip():
        return Candidate(index, "letter", m.group(1), m.group(2))
    return None


@dataclass
class Section:
    """One numbered heading and the lines it owns."""

    scheme: str
    value: str  # normalized label used for sequence checks ('II', '3', '2.1', 'đ', '3')
    number: str  # label as it goes into the id ('II', 'Phần 3', 'Điều 2', 'đ')
    level: int
    id: str
    heading_start: int
    heading_end: int  # last line index of the heading block
    printed: str = ""  # the label as printed, when the sequence repaired it ('111' for 'III')
    title: str = ""
    inline: str = ""  # body text printed on the heading lines themselves
    body: list[int] = field(default_factory=list)  # line indexes of the own body
    end: int = 0
    parent: Section | None = None
    children: list[Section] = field(default_factory=list)


_HIGHER = {"roman": {"part", "chapter", "item"}, "arabic": {"roman", "part", "chapter", "item"}}


def _comes_later(upcoming: list[Candidate], scheme: str, value: int) -> bool:
    """The label a jump would skip appears further on, before the next higher heading: the
    jumping label is a misread or a number in the text, and must not re-parent what follows."""
    for cand in upcoming:
        if cand.scheme in _HIGHER[scheme]:
            return False
        if scheme == "roman" and (cand.scheme == "roman" or cand.digits_roman):
            if roman_value(_roman_reading(cand.raw)) == value:
                return True
        if scheme == "arabic" and cand.scheme == "arabic" and cand.raw == str(value):
            return True
    return False


def _clause_one_misread(cand: Candidate, upcoming: list[Candidate]) -> bool:
    """'I.' (or 'l.', '|.') before a sentence, where the next numbered label is '2.': a '1.' the
    OCR read as a Roman one (vie OCR does), not a Roman heading (caps title, sibling 'II.')."""
    if _roman_reading(cand.raw) != "I" or is_caps(cand.title):
        return False
    nxt = next((c for c in upcoming if c.scheme in {"roman", "arabic"}), None)
    return nxt is not None and nxt.scheme == "arabic" and nxt.raw == "2"


def _misread_jump(cand: Candidate, upcoming: list[Candidate], value: int, expected: int) -> bool:
    """An OCR-shaped Roman label ('Iii', 'l1') that jumps, while the next Roman label repeats its
    value or continues from the expected one: it is the expected label, misread."""
    if cand.raw == _roman_reading(cand.raw):
        return False  # printed cleanly: a real jump
    nxt = next(
        (c for c in upcoming if c.scheme == "roman" or (c.digits_roman and is_caps(c.title))),
        None,
    )
    return nxt is not None and roman_value(_roman_reading(nxt.raw)) in {value, expected + 1}


_LONE_LABEL_RE = re.compile(r"^(\d{1,2}|[IVXLCl1|!][IVXLCl1|!i]{0,4}|[a-zđ])\s*[.)]$")


def _candidate_at(lines: list[str], index: int) -> Candidate | None:
    """find_candidate, or a label alone on its line ('3.') whose title is the next line, or a
    Phần / Chương / Mục word whose number the OCR lost, over a title in capitals."""
    stripped = lines[index].strip()
    if not stripped:
        return None
    cand = find_candidate(index, stripped)
    if cand is None and _LONE_LABEL_RE.match(stripped) and index + 1 < len(lines):
        cand = find_candidate(index, f"{stripped} {lines[index + 1].strip()}")
        if cand is not None:
            cand.joined = True
    if cand is None:
        cand = _unnumbered_part(lines, index, stripped)
    if cand is None:
        cand = _unlabelled_roman(lines, index, stripped)
    return cand


def _next_nonblank(lines: list[str], index: int) -> str:
    """The first non-blank line after `index`, stripped ('' at the end); no copy of the rest."""
    return next((x for x in map(str.strip, itertools.islice(lines, index + 1, None)) if x), "")


def _unnumbered_part(lines: list[str], index: int, stripped: str) -> Candidate | None:
    """'Chương' alone on its line, the next line a caps title: a heading whose number the OCR
    dropped (the sequence gives it). Alone over a lowercase line it is a wrapped 'Chương trình'."""
    m = _PART_WORD_ALONE_RE.match(stripped)
    if not m or fold(m.group(1)) not in _PART_WORDS:
        return None
    nxt = _next_nonblank(lines, index)
    if not nxt or not is_caps(nxt) or find_candidate(index + 1, nxt) is not None:
        return None
    return Candidate(index, _PART_WORDS[fold(m.group(1))], "", "")


def _unlabelled_roman(lines: list[str], index: int, stripped: str) -> Candidate | None:
    """A short caps title over a list that starts again at '1.' ('MỤC TIÊU' / '1. Mục tiêu
    tổng quát'): a Roman heading whose label the OCR lost, if the sequence wants one there."""
    if not is_caps(stripped) or len(stripped.split()) > 10 or any(c.isdigit() for c in stripped):
        return None
    nxt = _next_nonblank(lines, index)
    cand = find_candidate(index + 1, nxt) if nxt else None
    if cand is None or cand.scheme != "arabic" or cand.raw != "1":
        return None
    return Candidate(index, "roman", "", stripped, lost=True)


def _is_roman_label(label: str) -> bool:
    return not label.isdigit() and _part_number(label, roman=True) is not None


def _part_number(label: str | None, roman: bool) -> int | None:
    """The number of a Phần / Chương / Mục label; all-1 digits read as Roman in a Roman scheme."""
    if not label:
        return None
    if label.isdigit():
        return len(label) if roman and set(label) == {"1"} else int(label)
    return roman_value(_roman_reading(label).upper())


def _printed_label(line: str, raw: str, value: str) -> str:
    """The label as printed when the sequence changed it ('' when read as printed); for a
    heading word whose number was lost, the word itself ('Chương')."""
    if not raw:
        return line.strip()
    return raw if _label_key(raw) != _label_key(value) else ""


def _label_key(label: str) -> str:
    return label.strip()


def _next_letter(value: str) -> str:
    k = LETTERS.index(value) if value in LETTERS else -1
    return LETTERS[k + 1] if 0 <= k + 1 < len(LETTERS) else value


class TreeBuilder:
    """Keeps a stack of open sections; rejects labels that break the sequence."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        self.sections: list[Section] = []
        self.stack: list[Section] = []
        self.has_roman = False
        self.ids: set[str] = set()

    # -- label logic
    def _letter_value(
        self, cand: Candidate, sibling: Section | None, upcoming: list[Candidate]
    ) -> str:
        raw = _LETTER_OCR.get(cand.raw, cand.raw)
        if sibling is None:
            return "a" if raw in {"a", "¢", "€"} else raw
        expected = _next_letter(sibling.value)
        if raw == expected:
            return raw
        if raw == sibling.value or raw == "d" and expected == "đ":
            return expected
        if raw in {"f", "j"}:
            nxt = next((c for c in upcoming if c.scheme == "letter"), None)
            if raw == "f" and nxt is not None and _LETTER_OCR.get(nxt.raw, nxt.raw) == "g":
                return "f"
            return expected
        if raw in LETTERS and LETTERS.index(raw) > LETTERS.index(expected):
            return raw
        return expected if raw not in LETTERS else raw

    def _find_sibling(self, scheme: str, depth: int = 0) -> int | None:
        for k in range(len(self.stack) - 1, -1, -1):
            s = self.stack[k]
            if s.scheme == scheme and (scheme != "decimal" or s.value.count(".") == depth):
                return k
        return None

    def accept(
        self, cand: Candidate, context_ok: bool, upcoming: list[Candidate]
    ) -> tuple[int, str] | None:
        """(stack depth to keep, normalized value) if the candidate opens a section, else None."""
        scheme = cand.scheme
        if scheme in _FIXED_RANK:
            keep = 0
            for k, s in enumerate(self.stack):
                if s.scheme in _FIXED_RANK and _FIXED_RANK[s.scheme] < _FIXED_RANK[scheme]:
                    keep = k + 1
            if scheme not in _PART_WORDS.values():
                return keep, cand.raw
            label = self._part_label(cand, upcoming)
            return (keep, label) if label else None
        if cand.lost:
            return self._lost_roman(cand, context_ok, upcoming)
        if scheme == "roman" and _clause_one_misread(cand, upcoming):
            cand.misread, cand.raw, cand.scheme = cand.raw, "1", "arabic"
            scheme = "arabic"
        if cand.digits_roman and not self.has_roman:
            cand.digits_roman = False  # the document numbers its caps headings 1., 2., ...
        if scheme == "roman" or cand.digits_roman:
            value = roman_value(_roman_reading(cand.raw))
            k = self._find_sibling("roman")
            expected = roman_value(self.stack[k].value) + 1 if k is not None else 1
            if cand.digits_roman and not self._reads_roman(cand, value == expected, upcoming):
                cand.digits_roman = False  # a plain Arabic heading after all
            else:
                cand.scheme = "roman"
                if cand.bare and (k is None or value != expected):
                    return None
                if k is None:
                    return (
                        (self._fixed_depth(), to_roman(value)) if value <= 2 or context_ok else None
                    )
                skipped_later = _comes_later(upcoming, "roman", expected)
                if value == expected or (value > expected and context_ok and not skipped_later):
                    if value != expected and _misread_jump(cand, upcoming, value, expected):
                        return k, to_roman(expected)
                    return k, to_roman(value)
                return (k, to_roman(expected)) if context_ok and is_caps(cand.title) else None
        if scheme == "arabic":
            value = int(cand.raw)
            k = self._find_sibling("arabic")
            if k is not None:
                expected = int(self.stack[k].value) + 1
                jump_ok = value <= expected + 2 or title_like(cand.title)
                jump_ok = jump_ok and not _comes_later(upcoming, "arabic", expected)
                if value == expected or (value > expected and context_ok and jump_ok):
                    return k, str(value)
                if (
                    value == 1
                    and context_ok
                    and k < len(self.stack) - 1
                    and self.stack[-1].scheme != "letter"
                ):
                    return len(self.stack), "1"  # a numbered list inside a deeper section
                return None
            if value <= 2 or (context_ok and value <= 3):
                return len(self.stack), str(value)
            return None
        if scheme == "decimal":
            depth = cand.raw.count(".")
            parts = cand.raw.split(".")
            k = self._find_sibling("decimal", depth)
            if k is not None and self.stack[k].value.rsplit(".", 1)[0] == ".".join(parts[:-1]):
                prev = int(self.stack[k].value.rsplit(".", 1)[1])
                if int(parts[-1]) == prev + 1 or (prev < int(parts[-1]) <= prev + 2 and context_ok):
                    return k, cand.raw
                return None
            parent_prefix = ".".join(parts[:-1])
            for k in range(len(self.stack) - 1, -1, -1):
                s = self.stack[k]
                if s.scheme in {"arabic", "decimal"} and s.value == parent_prefix:
                    return (k + 1, cand.raw) if int(parts[-1]) <= 2 or context_ok else None
            k = self._find_sibling("arabic")
            if depth == 1 and k is not None and int(parts[0]) == int(self.stack[k].value) + 1:
                cand.scheme = "arabic"  # '3.86 Y tế': the label the sequence expects, then junk
                return k, parts[0]
            return None
        if scheme == "letter":
            k = self._find_sibling("letter")
            if k is not None:
                return k, self._letter_value(cand, self.stack[k], upcoming)
            value = self._letter_value(cand, None, upcoming)
            return (len(self.stack), value) if value in {"a", "b"} or context_ok else None
        return None

    def _lost_roman(
        self, cand: Candidate, context_ok: bool, upcoming: list[Candidate]
    ) -> tuple[int, str] | None:
        """The next Roman label for a caps title whose label was lost: only at a paragraph
        start inside a Roman sequence whose current heading already has its own numbered
        clauses, and when the next printed Roman label, if any, continues after it."""
        k = self._find_sibling("roman")
        arabic = self._find_sibling("arabic")
        if not context_ok or k is None or arabic is None or arabic < k:
            return None
        expected = roman_value(self.stack[k].value) + 1
        nxt = next((c for c in upcoming if c.scheme == "roman"), None)
        if nxt is not None and roman_value(_roman_reading(nxt.raw)) != expected + 1:
            return None
        cand.misread = "(missing)"
        return k, to_roman(expected)

    def _part_label(self, cand: Candidate, upcoming: list[Candidate]) -> str | None:
        """A Phần / Chương / Mục label read in its sequence: a missing one, one OCR-shaped ('l',
        '1I', '111' in a Roman scheme), or a Roman one repeated while the next label continues
        from the expected one becomes the expected label; any other label stays as printed."""
        raw = cand.raw
        if fold(raw).startswith("thu"):
            return raw  # 'Phần thứ nhất'
        k = self._find_sibling(cand.scheme)
        previous = self.stack[k].value if k is not None else None
        nxt = next((c.raw for c in upcoming if c.scheme == cand.scheme), None)
        styles = [x for x in (previous, nxt, raw) if x and not fold(x).startswith("thu")]
        roman = _is_roman_label(styles[0]) if styles else cand.scheme == "chapter"
        before = _part_number(previous, roman) if previous else 0
        if before is None:
            return raw or None
        expected = before + 1
        label = to_roman(expected) if roman else str(expected)
        if not raw:
            return label
        value = _part_number(raw, roman)
        shaped = roman and _roman_reading(raw).upper() != raw
        if value == expected:
            return label if shaped else raw
        confirmed = nxt is not None and _part_number(nxt, roman) == expected + 1
        if shaped and (confirmed or nxt is None):
            return label
        if roman and value == expected - 1 and confirmed:
            return label  # 'II' again where III is due and IV follows: an I the OCR lost
        return to_roman(value) if shaped and value else raw

    def _reads_roman(self, cand: Candidate, roman_fits: bool, upcoming: list[Candidate]) -> bool:
        """Digits that may be a misread Roman numeral ('111.' for 'III.'): read them in the
        scheme whose sequence they continue; when both fit, the next Arabic label decides (it
        continues this one's count, or restarts at 1 under a new Roman heading)."""
        if not roman_fits:
            return False
        k = self._find_sibling("arabic")
        arabic_fits = (
            int(cand.raw) == int(self.stack[k].value) + 1 if k is not None else cand.raw == "1"
        )
        if not arabic_fits:
            return True
        nxt = next((c for c in upcoming if c.scheme == "arabic"), None)
        if nxt is not None and nxt.raw.isdigit() and int(nxt.raw) == int(cand.raw) + 1:
            return False
        if nxt is not None and nxt.raw == "1":
            return True
        return is_caps(cand.title)

    def _fixed_depth(self) -> int:
        depth = 0
        for k, s in enumerate(self.stack):
            if s.scheme in _FIXED_RANK and s.scheme != "article":
                depth = k + 1
        return depth

    def _number(self, scheme: str, value: str) -> str:
        if scheme == "part":
            return f"Phần {value}"
        if scheme == "chapter":
            return f"Chương {value}"
        if scheme == "item":
            return f"Mục {value}"
        if scheme == "article":
            return f"Điều {value}"
        if scheme == "clause":
            return f"Khoản {value}"
        return value

    def _make_id(self, parent: Section | None, scheme: str, number: str) -> str:
        if parent is None:
            return number
        if (
            scheme == "decimal"
            and parent.scheme in {"arabic", "decimal"}
            and number.startswith(parent.value + ".")
        ):
            return parent.id + number[len(parent.value) :]
        return f"{parent.id}.{number}"

    # -- building
    def open_section(self, cand: Candidate, keep: int, value: str) -> Section:
        del self.stack[keep:]
        parent = self.stack[-1] if self.stack else None
        number = self._number(cand.scheme, value)
        section_id = self._make_id(parent, cand.scheme, number)
        repeat = 2
        while section_id in self.ids:  # a label the OCR lost made a list restart: keep ids unique
            section_id = f"{self._make_id(parent, cand.scheme, number)}#{repeat}"
            repeat += 1
        self.ids.add(section_id)
        section = Section(
            scheme=cand.scheme,
            value=value,
            printed=cand.misread or _printed_label(self.lines[cand.index], cand.raw, value),
            number=number,
            level=len(self.stack) + 1,
            id=section_id,
            heading_start=cand.index,
            heading_end=cand.index,
            parent=parent,
        )
        if parent:
            parent.children.append(section)
        self.stack.append(section)
        self.sections.append(section)
        return section

    def close_all(self) -> None:
        self.stack.clear()


def context_ok(lines: list[str], index: int, previous_heading: int | None) -> bool:
    """True when line `index` starts a paragraph: after a blank, a heading or a full stop."""
    k = index - 1
    if k < 0:
        return True
    if not lines[k].strip() or is_junk(lines[k]):
        return True
    if previous_heading is not None and previous_heading >= k:
        return True
    return ends_sentence(lines[k]) or is_caps(lines[k])


def heading_block(lines: list[str], cand: Candidate, section: Section) -> int:
    """Last line of a multi-line heading: lowercase continuations, or caps after caps."""
    end = cand.index
    title = cand.title
    if section.scheme in {"part", "chapter", "item"} and not title.strip():
        k = end + 1
        while k < len(lines) and not lines[k].strip():
            k += 1
        if k < len(lines) and is_caps(lines[k]) and find_candidate(k, lines[k].strip()) is None:
            end = k
            title = lines[k]
    caps = is_caps(title)
    while end + 1 < len(lines):
        current, nxt = lines[end], lines[end + 1].strip()
        if (
            not nxt
            or is_junk(nxt)
            or find_candidate(end + 1, nxt) is not None
            or _BULLET_RE.match(nxt)
        ):
            break
        if caps:
            if is_caps(nxt) and end - cand.index < 3:
                end += 1
                continue
            break
        if ends_sentence(current) or starts_upper(nxt):
            break
        if end - cand.index >= 6:
            break
        end += 1
    return end


def split_title(section: Section, text: str, cand: Candidate) -> None:
    """Title = the heading words; inline = body text on the heading lines ('a) Chủ trì...')."""
    text = clean_spaces(text)
    if section.scheme in {"part", "chapter", "item"} or is_caps(text):
        section.title = text
        return
    if text.endswith(":") and len(text.split()) <= 30 and "." not in text[:-1]:
        section.title = text.rstrip(": ")
        return
    colon = re.match(r"^([^:.;]{3,120}):\s+(\S.*)$", text)
    members = colon and re.search(r"\bcác\s+\S+$", colon.group(1))  # 'các Sở: Tài chính, ...'
    if colon and len(colon.group(1).split()) <= 16 and not members:
        section.title, section.inline = colon.group(1).strip(), colon.group(2)
        return
    sentence = re.match(r"^(.{3,300}?[.;:!?])(\s+|$)", text)
    if not ends_sentence(text) and len(text) <= 300:
        section.title = text
    elif sentence and len(sentence.group(1)) < len(text):
        section.title, section.inline = sentence.group(1).rstrip(".;: "), text
    else:
        section.title, section.inline = text.rstrip(".;: "), text


def build_sections(lines: list[str]) -> list[Section]:
    """Sections in document order, each owning its heading and body lines."""
    builder = TreeBuilder(lines)
    candidates: list[Candidate] = []
    for index in range(len(lines)):
        cand = _candidate_at(lines, index)
        if cand:
            candidates.append(cand)
    by_line = {c.index: k for k, c in enumerate(candidates)}
    printed = [c for c in candidates if not c.lost]  # what the rules look ahead at
    ahead, seen = [], 0  # ahead[k]: where candidates[k + 1:] start in `printed`
    for c in candidates:
        seen += not c.lost
        ahead.append(seen)
    builder.has_roman = any(c.scheme == "roman" and not (c.bare or c.lost) for c in candidates)
    current: Section | None = None
    previous_heading: int | None = None
    skip_until = -1
    closed = False
    for index, text in enumerate(lines):
        if index <= skip_until:
            continue
        stripped = text.strip()
        if _CLOSING_RE.match(stripped) or opens_appendix(stripped):
            builder.close_all()
            current, closed = None, True
        elif closed and opens_attached_document(stripped):
            current, closed = None, False  # the attached document: a tree of its own
        k = by_line.get(index)
        if k is not None:
            cand = candidates[k]
            accepted = builder.accept(
                cand, context_ok(lines, index, previous_heading), printed[ahead[k] :]
            )
            if accepted is not None and not (closed and cand.scheme not in _FIXED_RANK):
                closed = False
                section = builder.open_section(cand, *accepted)
                section.heading_end = heading_block(lines, cand, section)
                first = index + 1
                if cand.joined:  # the title printed on the line under the label
                    section.heading_end, first = max(section.heading_end, index + 1), index + 2
                block = [cand.title] + [
                    lines[j].strip() for j in range(first, section.heading_end + 1)
                ]
                split_title(section, " ".join(block), cand)
                current, previous_heading, skip_until = (
                    section,
                    section.heading_end,
                    section.heading_end,
                )
                continue
        if current is not None and builder.stack and stripped:
            current.body.append(index)
    for section in builder.sections:
        last = section.body[-1] if section.body else section.heading_end
        for child in section.children:
            last = max(last, child.end or child.heading_end)
        section.end = last
    for section in reversed(builder.sections):
        last = max(
            [section.body[-1] if section.body else section.heading_end]
            + [c.end for c in section.children]
        )
        section.end = last
    return builder.sections


def paragraphs(lines: list[str], indexes: list[int]) -> list[list[int]]:
    """Body lines -> paragraphs: a bullet, or a capital after a full stop, starts one."""
    groups: list[list[int]] = []
    previous = None
    for index in indexes:
        text = lines[index]
        if is_junk(text):
            continue
        stripped = text.strip()
        new = (
            previous is None
            or bool(_BULLET_RE.match(stripped))
            or (ends_sentence(lines[previous]) and starts_upper(stripped))
            or (index - previous > 1 and starts_upper(stripped) and ends_sentence(lines[previous]))
        )
        if new or not groups:
            groups.append([index])
        else:
            groups[-1].append(index)
        previous = index
    return groups


def is_bullet(text: str) -> bool:
    return bool(_BULLET_RE.match(text.strip()))


def strip_bullet(text: str) -> str:
    return _BULLET_RE.sub("", text.strip(), count=1)
