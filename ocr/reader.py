"""Entry point of the OCR stage: a file in, a ScannedDocument of lines with provenance out.

Reads like a pipeline: triage the input, list its pages, use a PDF's text layer where it has one,
OCR the other pages (one worker process per page when `jobs` > 1), number the lines, report.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import cv2
import pytesseract
from vanban.ocr import sources
from vanban.ocr.engine import (
    DEFAULT_PSM,
    OcrEngineMissing,
    OcrSettings,
    OcrTimeout,
    get_engine,
)
from vanban.ocr.layout import order_lines
from vanban.ocr.preprocess import clean_page
from vanban.ocr.sources import PageRef

from vanban.core.errors import VanbanError
from vanban.core.formats import file_kind
from vanban.core.records import Page, Provenance, ScannedDocument, TextLine, WordBox

log = logging.getLogger("vanban.ocr")
MIN_PAGE_SIDE = 16  # px: a narrower page image cannot hold one line of readable text


def read_document(
    path: Path,
    *,
    force_ocr: bool = False,
    lang: str = "vie",
    jobs: int = 1,
    ocr: OcrSettings | None = None,
) -> ScannedDocument:
    """Read a PDF, image or .txt file into pages of lines; raise VanbanError on bad input.

    PDF pages with a text layer keep it unless `force_ocr`; other pages are rendered at 300 DPI,
    cleaned (deskew, denoise, stamp removal) and read by the OCR engine (`ocr`, Tesseract by
    default) in logical reading order.
    """
    path = Path(path)
    with reading(path):
        return _read(path, force_ocr=force_ocr, lang=lang, jobs=jobs, ocr=ocr or OcrSettings())


@contextmanager
def reading(path: Path) -> Iterator[None]:
    """Refuse a missing or irregular file; an OSError while reading it becomes one VanbanError."""
    if not path.is_file():
        raise VanbanError(str(path), "no such file" if not path.exists() else "not a regular file")
    try:
        yield
    except OSError as err:  # unreadable file, disk errors: one line, not a traceback
        raise VanbanError(str(path), f"cannot read file ({err.strerror or err})") from err


def _read(
    path: Path, *, force_ocr: bool, lang: str, jobs: int, ocr: OcrSettings
) -> ScannedDocument:
    if file_kind(path) == "text":
        return read_text_document(path)
    ready, refs = plan_pages(path, force_ocr=force_ocr, lang=lang, ocr=ocr)
    return finish_document(str(path), ready + ocr_pages(refs, lang, jobs))


def plan_pages(
    path: Path, *, force_ocr: bool, lang: str, ocr: OcrSettings | None = None
) -> tuple[list[Page], list[PageRef]]:
    """A scan's pages before OCR: those read from a PDF text layer, and refs of those to OCR.

    A batch executor can OCR the refs anywhere (one task per page) and pass `ready` plus the
    OCR'd pages to `finish_document`: the same document as `read_document` makes.
    """
    ocr = ocr or OcrSettings()
    if file_kind(path) == "pdf":
        ready, refs = split_pdf_pages(path, force_ocr=force_ocr, ocr=ocr)
    else:
        count = sources.image_frame_count(path)
        ready, refs = [], [PageRef(str(path), "image", n, ocr) for n in range(1, count + 1)]
    if refs:
        check_engine(refs[0].path, ocr.engine, lang)
    return ready, refs


def check_engine(path: str, name: str, lang: str) -> None:
    """Refuse (VanbanError naming `path`) an unknown engine or one that cannot read `lang`."""
    try:
        engine = get_engine(name)
    except ValueError as err:
        raise VanbanError(path, str(err)) from err
    reason = engine.missing(lang)
    if reason:
        raise VanbanError(path, reason)


def read_text_document(path: Path) -> ScannedDocument:
    """An already-OCR'd text file: one TextLine per non-empty line, numbered as in the file."""
    lines = [
        TextLine(text, Provenance(source=str(path), line=number))
        for number, text in sources.read_text_lines(path)
    ]
    return ScannedDocument(source=str(path), pages=[Page(number=1, lines=lines, method="text")])


def split_pdf_pages(
    path: Path, *, force_ocr: bool, ocr: OcrSettings | None = None
) -> tuple[list[Page], list[PageRef]]:
    """A PDF's text-layer pages as they are, and refs of the pages that need OCR."""
    count = sources.pdf_page_count(path)
    layer = [""] * count if force_ocr else sources.pdf_text_layer(path, count)
    ready = [
        text_layer_page(str(path), number, text)
        for number, text in enumerate(layer, start=1)
        if text
    ]
    ocr = ocr or OcrSettings()
    refs = [PageRef(str(path), "pdf", n, ocr) for n, text in enumerate(layer, start=1) if not text]
    return ready, refs


def text_layer_page(source: str, number: int, text: str) -> Page:
    """A page built from a PDF text layer (no boxes or confidences)."""
    texts = [line.strip() for line in text.splitlines() if line.strip()]
    lines = [
        TextLine(t, Provenance(source=source, line=i, page=number, page_line=i))
        for i, t in enumerate(texts, start=1)
    ]
    return Page(number=number, lines=lines, method="text-layer")


def ocr_pages(refs: list[PageRef], lang: str, jobs: int) -> list[Page]:
    """OCR pages in order, in `jobs` worker processes (inline when jobs == 1)."""
    if not refs:
        return []
    if jobs <= 1 or len(refs) == 1:
        results = [ocr_page_or_error(ref, lang) for ref in refs]
    else:
        with ProcessPoolExecutor(max_workers=min(jobs, len(refs))) as pool:
            results = list(pool.map(ocr_page_or_error, refs, [lang] * len(refs)))
    for result in results:
        if isinstance(result, tuple):  # (path, reason) of the first failed page
            raise VanbanError(*result)
    return results


def ocr_page_or_error(ref: PageRef, lang: str) -> Page | tuple[str, str]:
    """ocr_page, with a failure returned as (path, reason): VanbanError does not pickle."""
    try:
        return ocr_page(ref, lang)
    except VanbanError as err:
        return (err.path, err.reason)
    except OcrEngineMissing as err:
        return (ref.path, str(err))
    except pytesseract.TesseractError as err:
        return (ref.path, f"Tesseract failed on page {ref.number}: {err.message or err.status}")
    except cv2.error as err:  # an image OpenCV cannot work on: one line, not a traceback
        reason = str(err).strip().splitlines()[-1][:200]
        return (ref.path, f"image clean-up failed on page {ref.number} ({reason})")


def ocr_page(ref: PageRef, lang: str = "vie", psm: int = DEFAULT_PSM) -> Page:
    """Load, clean and OCR one page; lines carry page-local numbers (renumbered by the caller).

    A page above `skip_big` megapixels, or whose OCR outlasts the time limit, comes back without
    lines (method "skipped") and a warning: the rest of the document goes on."""
    settings = ref.settings
    image = sources.load_page(ref)
    dpi = sources.image_dpi(image) if ref.kind == "image" else sources.RENDER_DPI
    width, height = image.size
    if min(width, height) < MIN_PAGE_SIDE:
        what = "image" if ref.kind == "image" and ref.number == 1 else f"page {ref.number}"
        raise VanbanError(
            ref.path,
            f"{what} is {width}x{height} px, too small to hold text "
            f"(at least {MIN_PAGE_SIDE} px a side)",
        )
    page = Page(number=ref.number, width=width, height=height, method="ocr", dpi=dpi)
    if settings.skip_big is not None and width * height > settings.skip_big * 1e6:
        log.warning(
            "%s: page %d is %.0f Mpx, above --skip-big %g: not OCR'd",
            ref.path,
            ref.number,
            width * height / 1e6,
            settings.skip_big,
        )
        return replace(page, method="skipped")
    engine = get_engine(settings.engine)
    cleaned = clean_page(image, engine.clean)
    if cleaned.blank:
        return page
    try:
        data = engine.image_to_data(
            cleaned.image,
            lang=lang,
            psm=psm,
            dpi=round(dpi * cleaned.scale),
            timeout=settings.timeout,
        )
    except OcrTimeout as err:
        log.warning("%s: page %d not OCR'd: %s", ref.path, ref.number, err)
        return replace(page, method="skipped")
    for index, segment in enumerate(order_lines(data), start=1):
        bbox = tuple(round(v / cleaned.scale) for v in segment.bbox)
        prov = Provenance(source=ref.path, line=index, page=ref.number, page_line=index, bbox=bbox)
        words = [
            WordBox(w.text, tuple(round(v / cleaned.scale) for v in w.bbox), w.conf)
            for w in segment.words
        ]
        page.lines.append(TextLine(segment.text, prov, confidence=segment.confidence, words=words))
    return page


def finish_document(source: str, pages: list[Page]) -> ScannedDocument:
    """Pages in order, lines numbered 1.. across them; warn about blank pages, refuse all-blank."""
    pages = sorted(pages, key=lambda page: page.number)
    if not any(page.lines for page in pages):
        raise VanbanError(source, "no text found on any page (blank or unreadable scan)")
    number = 0
    for page in pages:
        if not page.lines:
            log.warning("%s: page %d is blank (no text found)", source, page.number)
        for i, line in enumerate(page.lines):
            number += 1
            page.lines[i] = replace(line, prov=replace(line.prov, line=number))
    return ScannedDocument(source=source, pages=pages)
