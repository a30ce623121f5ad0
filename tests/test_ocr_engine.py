"""OCR engines behind one interface: Tesseract's per-page time limit and the page size limit."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from PIL import Image, ImageDraw
from vanban.ocr import read_document, reader
from vanban.ocr.engine import (
    ENGINES,
    OcrSettings,
    OcrTimeout,
    TesseractEngine,
    get_engine,
    tesseract_available,
)
from vanban.ocr.sources import PageRef

from tests.conftest import REPO
from vanban.core.errors import VanbanError

SAMPLE = REPO / "examples" / "kh-sample.pdf"
needs_tesseract = pytest.mark.skipif(
    not tesseract_available("vie"), reason="tesseract-ocr-vie not installed"
)


def test_engines_are_looked_up_by_name():
    assert isinstance(get_engine(), TesseractEngine)
    assert set(ENGINES) >= {"tesseract"}
    with pytest.raises(ValueError, match="unknown OCR engine 'nope'"):
        get_engine("nope")


@needs_tesseract
def test_tesseract_past_its_time_limit_raises_timeout():
    gray = np.full((3508, 2480), 255, dtype=np.uint8)
    gray[200:3300:60, 200:2300] = 0  # many rules: seconds of layout analysis, never 10 ms
    with pytest.raises(OcrTimeout, match="longer than 0.01 s"):
        TesseractEngine().image_to_data(gray, lang="vie", psm=4, dpi=300, timeout=0.01)


@needs_tesseract
@pytest.mark.slow
def test_a_page_that_outlasts_the_timeout_is_left_without_text(caplog):
    ref = PageRef(str(SAMPLE), "pdf", 1, OcrSettings(timeout=0.01))
    with caplog.at_level(logging.WARNING, logger="vanban.ocr"):
        page = reader.ocr_page(ref)
    assert page.method == "skipped" and page.lines == []
    assert "page 1 not OCR'd: Tesseract took longer than 0.01 s" in caplog.text


@needs_tesseract
def test_pages_above_skip_big_are_not_ocrd(tmp_path, caplog):
    path = tmp_path / "two.tiff"
    frames = [Image.new("L", (1200, 800), 255), Image.new("L", (2400, 1600), 255)]
    ImageDraw.Draw(frames[0]).text((100, 100), "Kế hoạch số 12", fill=0)
    frames[0].save(path, save_all=True, append_images=frames[1:], dpi=(300, 300))
    with caplog.at_level(logging.WARNING, logger="vanban.ocr"):
        page = reader.ocr_page(PageRef(str(path), "image", 2, OcrSettings(skip_big=2.0)))
    assert page.method == "skipped" and page.lines == []
    assert "page 2 is 4 Mpx, above --skip-big 2" in caplog.text
    with pytest.raises(VanbanError, match="no text found"):  # no page left to read
        read_document(path, ocr=OcrSettings(skip_big=0.5))


def test_ocr_words_keep_their_boxes_and_confidences(monkeypatch):
    """The words of each line reach the records (the archive outputs place restored words)."""
    data = {
        "text": ["Pé", "nghi", "Uy"],
        "conf": [61, 88, 90],
        "left": [100, 200, 320],
        "top": [50, 52, 50],
        "width": [60, 90, 50],
        "height": [40, 38, 40],
        "block_num": [1, 1, 1],
        "par_num": [1, 1, 1],
        "line_num": [1, 1, 1],
    }

    class FixedEngine(TesseractEngine):
        def image_to_data(self, gray, *, lang, psm, dpi, timeout):
            return data

    monkeypatch.setitem(ENGINES, "fixed", FixedEngine)
    monkeypatch.setattr(reader.sources, "load_page", lambda ref: _page_image())
    page = reader.ocr_page(PageRef("scan.png", "image", 1, OcrSettings(engine="fixed")))
    (line,) = page.lines
    assert [(w.text, w.bbox, w.confidence) for w in line.words] == [
        ("Pé", (100, 50, 60, 40), 61.0),
        ("nghi", (200, 52, 90, 38), 88.0),
        ("Uy", (320, 50, 50, 40), 90.0),
    ]
    assert page.dpi == 300


def _page_image() -> Image.Image:
    image = Image.new("L", (1000, 400), 255)
    ImageDraw.Draw(image).rectangle((100, 50, 400, 90), fill=0)
    return image


def test_the_cli_offers_every_engine():
    """`--ocr-engine` names its choices without importing the engines (a light --help)."""
    from vanban.cli import OCR_ENGINES

    assert set(OCR_ENGINES) == set(ENGINES)
