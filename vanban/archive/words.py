"""Restored words on the page: each restored word gets the box of the OCR word it restores.

Restoration is line-aligned and mostly token-aligned: when a restored line has as many words as
the OCR read, word k takes OCR word k's box; otherwise the line's box is shared out in proportion
to the words' lengths and each restored word keeps the OCR words under its share as its printed
form.
"""

from __future__ import annotations

import bisect
import statistics
from dataclasses import dataclass, field

from vanban.core.records import RestoredLine, ScannedDocument, TextLine, WordBox

Box = tuple[int, int, int, int]  # left, top, width, height in page pixels


@dataclass(frozen=True)
class PlacedWord:
    """A restored word with its box, the OCR form it was printed as, and both confidences."""

    text: str
    ocr_text: str
    bbox: Box
    ocr_confidence: float | None  # 0-100, Tesseract's
    restorer_confidence: float | None  # 0-1, the restorer's for this word (None: not asked)


@dataclass
class PlacedLine:
    """One output line: its box and its restored words, left to right."""

    bbox: Box
    words: list[PlacedWord]
    number: int  # line number in the output text files


@dataclass
class PageLayout:
    """One page: pixel size, resolution and restored lines in reading order."""

    number: int  # 1-based
    width: int
    height: int
    dpi: int
    lines: list[PlacedLine] = field(default_factory=list)


def page_layouts(
    scanned: ScannedDocument, lines: list[TextLine], restored: list[RestoredLine]
) -> list[PageLayout]:
    """Every page of the scan with its restored words placed; pages without pixel size (text
    input, kept text layers without positions) come back without lines."""
    layouts = {
        page.number: PageLayout(page.number, page.width or 0, page.height or 0, page.dpi or 300)
        for page in scanned.pages
    }
    for line, restored_line in zip(lines, restored, strict=True):
        layout = layouts.get(line.prov.page or 0)
        if layout is None or not layout.width:
            continue
        words = place_words(line, restored_line)
        if words:
            layout.lines.append(PlacedLine(_union([w.bbox for w in words]), words, line.prov.line))
    return [layouts[number] for number in sorted(layouts)]


def place_words(line: TextLine, restored: RestoredLine) -> list[PlacedWord]:
    """Restored words of one line with boxes, printed forms and confidences."""
    texts = " ".join(restored.text.split()).split()
    ocr_words = list(line.words)
    if not ocr_words and line.prov.bbox is not None:  # a line box without word boxes
        ocr_words = _spread(line.text.split(), line.prov.bbox, line.confidence)
    if not texts or not ocr_words:
        return []
    confidences = restorer_confidences(texts, restored)
    if len(texts) == len(ocr_words):
        return [
            PlacedWord(text, ocr.text, ocr.bbox, ocr.confidence, conf)
            for text, ocr, conf in zip(texts, ocr_words, confidences, strict=True)
        ]
    shares = _spread(texts, _union([w.bbox for w in ocr_words]), None)
    starts = [share.bbox[0] for share in shares]
    owner = [max(0, bisect.bisect_right(starts, _centre_x(w.bbox)) - 1) for w in ocr_words]
    placed = []
    for k, (text, share, conf) in enumerate(zip(texts, shares, confidences, strict=True)):
        under = [w for w, o in zip(ocr_words, owner, strict=True) if o == k]
        known = [w.confidence for w in under if w.confidence is not None]
        placed.append(
            PlacedWord(
                text,
                " ".join(w.text for w in under),
                share.bbox,
                round(statistics.fmean(known), 1) if known else line.confidence,
                conf,
            )
        )
    return placed


def restorer_confidences(texts: list[str], restored: RestoredLine) -> list[float | None]:
    """Per restored word, the least confidence of the restorer tokens inside it (None without
    tokens). Tokens are matched in order: each token's text is found in the word it belongs to."""
    if not restored.tokens:
        return [None] * len(texts)
    tokens = [t for t in restored.tokens if t.text]  # a dropped stray mark is in no word
    out: list[float | None] = []
    index = 0
    for text in texts:
        found: list[float] = []
        position = 0
        while index < len(tokens):
            at = text.find(tokens[index].text, position)
            if at < 0:
                break
            found.append(tokens[index].confidence)
            position = at + len(tokens[index].text)
            index += 1
        out.append(min(found) if found else None)
    return out


def _spread(texts: list[str], box: Box, confidence: float | None) -> list[WordBox]:
    """Boxes for `texts` sharing `box` left to right in proportion to their lengths (+1 space)."""
    left, top, width, height = box
    total = sum(len(t) + 1 for t in texts) or 1
    boxes, x = [], float(left)
    for text in texts:
        step = width * (len(text) + 1) / total
        word_width = max(1, round(step * len(text) / (len(text) + 1)))
        boxes.append(WordBox(text, (round(x), top, word_width, height), confidence))
        x += step
    return boxes


def _union(boxes: list[Box]) -> Box:
    left = min(b[0] for b in boxes)
    top = min(b[1] for b in boxes)
    right = max(b[0] + b[2] for b in boxes)
    bottom = max(b[1] + b[3] for b in boxes)
    return (left, top, right - left, bottom - top)


def _centre_x(box: Box) -> int:
    return box[0] + box[2] // 2
