"""Reading order: Tesseract words -> printed rows -> column segments -> lines in logical order.

Vietnamese administrative documents print two blocks side by side in the header (issuer | national
motto) and at the end (recipients | signer). Tesseract's single-column mode reads such rows straight
across. Here a row is split where a wide gap separates its words; consecutive rows that share a free
vertical gutter form a *band*, and a band is read column by column (left block, then right block).
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field

from vanban.core.text import is_valid_syllable

GAP_FACTOR = 2.5  # a horizontal gap wider than this many word heights separates two segments
NEIGHBOUR_GAP_FACTOR = 1.0  # ... or this many, when the gap lines up with a neighbour's gutter
BAND_BREAK_FACTOR = 0.8  # a vertical gap wider than this many row heights ends a two-column band
MIN_GUTTER = 10  # px: narrower shared gutters do not make two columns
NOISE_CONFIDENCE = 50  # words without a letter or digit below this confidence are scan noise
MIN_CONFIDENCE = 10  # any word below this is noise (stamps, signatures, specks): measured on bench
RESCUE_LINE_CONFIDENCE = 80  # ... unless a Vietnamese syllable in a line read this confidently

_HAS_ALNUM = re.compile(r"[^\W_]")
_EDGE_PUNCT = re.compile(r"^[^\w]+|[^\w]+$")
_RULE_MARKS = re.compile(r"^[_‗¯|]+$")  # underlines and rules read as text: never in the documents


@dataclass(frozen=True)
class Word:
    """One Tesseract word with its box (page pixels) and confidence (0-100)."""

    text: str
    left: int
    top: int
    width: int
    height: int
    conf: float

    @property
    def right(self) -> int:
        return self.left + self.width

    @property
    def bottom(self) -> int:
        return self.top + self.height

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        return (self.left, self.top, self.width, self.height)


@dataclass
class Segment:
    """Words of one row that belong to one column, left to right."""

    words: list[Word]

    @property
    def left(self) -> int:
        return min(w.left for w in self.words)

    @property
    def right(self) -> int:
        return max(w.right for w in self.words)

    @property
    def top(self) -> int:
        return min(w.top for w in self.words)

    @property
    def bottom(self) -> int:
        return max(w.bottom for w in self.words)

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        return (self.left, self.top, self.right - self.left, self.bottom - self.top)

    @property
    def confidence(self) -> float:
        return round(statistics.fmean(w.conf for w in self.words), 1)


@dataclass
class Row:
    """Segments printed at the same height, left to right."""

    segments: list[Segment] = field(default_factory=list)

    @property
    def top(self) -> int:
        return min(s.top for s in self.segments)

    @property
    def bottom(self) -> int:
        return max(s.bottom for s in self.segments)

    @property
    def height(self) -> int:
        return self.bottom - self.top


def is_noise(word: Word) -> bool:
    """Specks and rules read as punctuation: no letter or digit, low confidence."""
    if word.conf < MIN_CONFIDENCE or _RULE_MARKS.match(word.text):
        return True
    return not _HAS_ALNUM.search(word.text) and word.conf < NOISE_CONFIDENCE


def _rescued(word: Word, line: list[Word]) -> bool:
    """A word Tesseract scored near 0 that is still a Vietnamese syllable in a line it reads
    confidently (it gives 0 to some correct words, e.g. the first word after a wide gap)."""
    others = [w.conf for w in line if w is not word]
    letters = _EDGE_PUNCT.sub("", word.text)
    return (
        bool(others)
        and statistics.median(others) >= RESCUE_LINE_CONFIDENCE
        and len(letters) >= 3
        and letters.isalpha()
        and (letters.isupper() or letters.islower() or letters.istitle())
        and is_valid_syllable(letters)
    )


def words_from_data(data: dict) -> list[list[Word]]:
    """Tesseract `image_to_data` dict -> its text lines (block/paragraph/line), noise removed."""
    lines: dict[tuple[int, int, int], list[Word]] = {}
    for i, text in enumerate(data["text"]):
        text = (text or "").strip().strip("_")
        conf = float(data["conf"][i])
        if not text or conf < 0:
            continue
        word = Word(
            text,
            int(data["left"][i]),
            int(data["top"][i]),
            int(data["width"][i]),
            int(data["height"][i]),
            conf,
        )
        key = (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))
        lines.setdefault(key, []).append(word)
    kept = [[w for w in line if not is_noise(w) or _rescued(w, line)] for line in lines.values()]
    return [line for line in kept if line]


def split_segments(words: list[Word]) -> list[Segment]:
    """Cut a row's words (sorted by x) where the gap is wider than GAP_FACTOR word heights."""
    words = sorted(words, key=lambda w: w.left)
    height = statistics.median(w.height for w in words)
    segments = [Segment([words[0]])]
    for word in words[1:]:
        if word.left - segments[-1].right > GAP_FACTOR * height:
            segments.append(Segment([word]))
        else:
            segments[-1].words.append(word)
    return segments


def group_rows(lines: list[list[Word]]) -> list[Row]:
    """Tesseract lines that share most of their height form one row (top to bottom); a line's
    words are never mixed with another line's, and each line is split at wide gaps."""
    rows: list[Row] = []
    for words in sorted(lines, key=lambda ws: min(w.top for w in ws)):
        segments = split_segments(words)
        top = min(s.top for s in segments)
        bottom = max(s.bottom for s in segments)
        if rows:
            last = rows[-1]
            overlap = min(bottom, last.bottom) - max(top, last.top)
            side_by_side = all(
                s.right <= o.left or s.left >= o.right for s in segments for o in last.segments
            )
            if side_by_side and overlap > 0.5 * min(bottom - top, last.height):
                last.segments = sorted(last.segments + segments, key=lambda s: s.left)
                continue
        rows.append(Row(segments))
    return rows


def split_at_neighbour_gutters(rows: list[Row]) -> list[Row]:
    """Split a one-segment row at a narrower word gap that lines up with the gutter of the row
    above or below (a header line set close to the other column, e.g. 'ĐÀ NẴNG  CỘNG HÒA')."""
    for index, row in enumerate(rows):
        if len(row.segments) != 1 or len(row.segments[0].words) < 2:
            continue
        gutters = [
            _widest_gap(rows[j])
            for j in (index - 1, index + 1)
            if 0 <= j < len(rows) and len(rows[j].segments) >= 2
        ]
        words = row.segments[0].words
        height = statistics.median(w.height for w in words)
        for k in range(1, len(words)):
            gap = (words[k - 1].right, words[k].left)
            wide = gap[1] - gap[0] > NEIGHBOUR_GAP_FACTOR * height
            if wide and any(lo <= (gap[0] + gap[1]) / 2 <= hi for lo, hi in gutters):
                row.segments = [Segment(words[:k]), Segment(words[k:])]
                break
    return rows


def _free_interval(row: Row, gutter: tuple[int, int]) -> tuple[int, int] | None:
    """The widest part of `gutter` that none of the row's segments covers."""
    pieces = [gutter]
    for seg in row.segments:
        next_pieces = []
        for lo, hi in pieces:
            if seg.right <= lo or seg.left >= hi:
                next_pieces.append((lo, hi))
                continue
            if seg.left > lo:
                next_pieces.append((lo, seg.left))
            if seg.right < hi:
                next_pieces.append((seg.right, hi))
        pieces = next_pieces
    pieces = [p for p in pieces if p[1] - p[0] >= MIN_GUTTER]
    return max(pieces, key=lambda p: p[1] - p[0]) if pieces else None


def _widest_gap(row: Row) -> tuple[int, int]:
    gaps = [(a.right, b.left) for a, b in zip(row.segments, row.segments[1:], strict=False)]
    return max(gaps, key=lambda g: g[1] - g[0])


def _band_end(rows: list[Row], start: int, row_height: float) -> tuple[int, int]:
    """Index after the last row of the band starting at `start`, and the band's gutter x."""
    gutter = _widest_gap(rows[start])
    end = start + 1
    while end < len(rows):
        row = rows[end]
        if row.top - rows[end - 1].bottom > BAND_BREAK_FACTOR * row_height:
            break
        free = _free_interval(row, gutter)
        if free is None:
            break
        gutter = free
        end += 1
    return end, (gutter[0] + gutter[1]) // 2


def reading_order(rows: list[Row]) -> list[Segment]:
    """Segments in logical order: single rows top to bottom, two-column bands (two or more rows
    split at one gutter) column by column."""
    if not rows:
        return []
    row_height = statistics.median(r.height for r in rows)
    ordered: list[Segment] = []
    index = 0
    while index < len(rows):
        row = rows[index]
        if len(row.segments) < 2:
            ordered.extend(row.segments)
            index += 1
            continue
        end, split_x = _band_end(rows, index, row_height)
        if sum(len(r.segments) >= 2 for r in rows[index:end]) < 2:
            ordered.extend(row.segments)  # one split row: a word OCR dropped, not two columns
            index += 1
            continue
        band = [seg for r in rows[index:end] for seg in r.segments]
        ordered.extend(seg for seg in band if seg.right <= split_x)
        ordered.extend(seg for seg in band if seg.right > split_x)
        index = end
    return ordered


def order_lines(data: dict, *, columns: bool = True) -> list[Segment]:
    """Tesseract `image_to_data` dict -> text segments (one per output line) in reading order."""
    lines = words_from_data(data)
    if not columns:
        return [Segment(sorted(ws, key=lambda w: w.left)) for ws in lines]
    return reading_order(split_at_neighbour_gutters(group_rows(lines)))
