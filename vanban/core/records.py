"""Typed records that flow between the stages, each carrying its provenance."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Provenance:
    """Where a line came from: source file, page (1-based, None for text input), line numbers."""

    source: str
    line: int  # 1-based line number in the document's text (all pages joined by the pipeline)
    page: int | None = None
    page_line: int | None = None  # 1-based line number within its page
    bbox: tuple[int, int, int, int] | None = None  # left, top, width, height in page pixels

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class WordBox:
    """One OCR word: its text, box (left, top, width, height in page pixels), confidence 0-100."""

    text: str
    bbox: tuple[int, int, int, int]
    confidence: float | None = None


@dataclass
class TextLine:
    """One line of text with its provenance; `confidence` is the OCR mean (0-100) when known.

    `words` are the OCR words of the line with their boxes, when the page was OCR'd (or its
    text layer gave word positions); empty for text input."""

    text: str
    prov: Provenance
    confidence: float | None = None
    words: list[WordBox] = field(default_factory=list)


@dataclass
class Page:
    """One page of a scanned document: its lines in reading order."""

    number: int  # 1-based
    lines: list[TextLine] = field(default_factory=list)
    width: int | None = None
    height: int | None = None
    method: str = "ocr"  # "ocr" | "text-layer" | "text" | "skipped" (too big, or OCR timed out)
    dpi: int | None = None  # resolution of the page pixels (boxes and width/height)


@dataclass
class ScannedDocument:
    """What the OCR stage returns: pages of lines, traceable to `source`."""

    source: str
    pages: list[Page] = field(default_factory=list)

    def lines(self) -> list[TextLine]:
        return [line for page in self.pages for line in page.lines]

    def text(self) -> str:
        """Plain text, one line per OCR line; pages separated by an empty line."""
        return "\n\n".join("\n".join(ln.text for ln in p.lines) for p in self.pages)


@dataclass(frozen=True)
class RestoredToken:
    """One token of a restored line: what OCR gave, what the restorer chose, and how sure it is."""

    source: str
    text: str
    confidence: float  # probability of `text` under the model, 0-1

    @property
    def changed(self) -> bool:
        return self.source != self.text


@dataclass
class RestoredLine:
    """A restored line; `tokens` cover its words and punctuation in order."""

    text: str
    source: str
    tokens: list[RestoredToken] = field(default_factory=list)
    prov: Provenance | None = None
