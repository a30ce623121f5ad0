"""What the page layout tells the segmenter when the text lost it: blank gaps between lines."""

from __future__ import annotations

from itertools import pairwise
from statistics import median

from vanban.core.records import TextLine

GAP_FACTOR = 1.5  # a line pitch this many times the page's usual pitch leaves a blank line


def gap_lines(lines: list[TextLine]) -> frozenset[int]:
    """Indices of lines printed after a blank gap on their page (pitch > 1.5 x the page's median
    pitch). OCR drops blank lines, but the boxes keep them. Empty without boxes (text input)."""
    by_page: dict[int | None, list[tuple[int, int]]] = {}
    for k, line in enumerate(lines):
        box = line.prov.bbox
        if box is not None and line.text.strip():
            by_page.setdefault(line.prov.page, []).append((k, box[1]))
    gaps: set[int] = set()
    for rows in by_page.values():
        pitches = [b[1] - a[1] for a, b in pairwise(rows) if b[1] > a[1]]
        if len(pitches) < 3:
            continue
        usual = median(pitches)
        gaps.update(b[0] for a, b in pairwise(rows) if b[1] - a[1] > GAP_FACTOR * usual)
    return frozenset(gaps)
