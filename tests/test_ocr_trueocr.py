"""The optional trueocr engine: its word table from a real page; one clear line when it is missing.

The real-page tests run only where trueocr is installed (`pip install 'vanban[ocr-trueocr]'`): it is
not in the test extra (with onnxruntime it adds ~90 MB)."""

from __future__ import annotations

import importlib.util
import logging

import numpy as np
import pytest
from PIL import Image
from vanban.ocr import engine, read_document, reader, sources
from vanban.ocr.engine import (
    OcrEngineMissing,
    OcrSettings,
    OcrTimeout,
    TrueOcrEngine,
    get_engine,
    line_words,
    word_table,
)
from vanban.ocr.sources import PageRef

from tests.conftest import REPO
from vanban.cli import main
from vanban.core.errors import VanbanError
from vanban.pipeline import Options, ocr_settings

SAMPLE = REPO / "examples" / "kh-sample.pdf"
needs_trueocr = pytest.mark.skipif(
    importlib.util.find_spec("trueocr") is None,
    reason="trueocr not installed (pip install 'vanban[ocr-trueocr]')",
)
KEYS = ("text", "conf", "left", "top", "width", "height", "block_num", "par_num", "line_num")
MISSING = "OCR engine 'trueocr' is not installed (pip install 'vanban[ocr-trueocr]')"


def test_a_line_box_is_shared_out_to_its_words_by_characters():
    # 8 characters over 80 px: 10 px each, the space counted
    assert line_words("Số 12/KH", (200, 50, 280, 90)) == [("Số", 200, 20), ("12/KH", 230, 50)]
    assert line_words("  a  ", (0, 0, 50, 10)) == [("a", 20, 10)]
    assert line_words("", (0, 0, 50, 10)) == []


def test_word_table_has_tesseracts_shape():
    data = word_table([("Kế hoạch", 0.97, (100, 40, 260, 80)), ("Số 5", 0.5, (10, 100, 50, 130))])
    assert set(data) == set(KEYS)
    assert data["text"] == ["Kế", "hoạch", "Số", "5"]
    assert data["line_num"] == [1, 1, 2, 2]
    assert data["conf"] == [97.0, 97.0, 50.0, 50.0]
    assert data["top"] == [40, 40, 100, 100] and data["height"] == [40, 40, 30, 30]
    assert data["left"] == [100, 160, 10, 40] and data["width"] == [40, 100, 20, 10]


@pytest.fixture
def no_trueocr(monkeypatch):
    """trueocr as if it were not installed (and no model loaded in this process)."""
    monkeypatch.setattr(engine, "find_spec", lambda name: None)
    engine._trueocr_models.cache_clear()
    yield
    engine._trueocr_models.cache_clear()


def test_a_missing_trueocr_is_one_line_naming_the_extra(no_trueocr, tmp_path):
    trueocr = get_engine("trueocr")
    assert not trueocr.available("vie")
    assert trueocr.missing("vie") == MISSING
    with pytest.raises(OcrEngineMissing, match=r"^OCR engine 'trueocr' is not installed \(pip"):
        trueocr.image_to_data(np.zeros((40, 40), np.uint8), lang="vie", psm=4, dpi=300, timeout=0)
    with pytest.raises(VanbanError) as caught:
        read_document(SAMPLE, force_ocr=True, ocr=OcrSettings(engine="trueocr"))
    assert caught.value.reason == MISSING
    # a page handed to a worker (batch, Ray) fails the same way, as (path, reason)
    ref = PageRef(str(SAMPLE), "pdf", 1, OcrSettings(engine="trueocr"))
    assert reader.ocr_page_or_error(ref, "vie") == (str(SAMPLE), MISSING)


def test_trueocr_refuses_languages_it_does_not_read(monkeypatch):
    monkeypatch.setattr(engine, "find_spec", lambda name: object())  # as if installed
    trueocr = TrueOcrEngine()
    assert trueocr.available("vie") and trueocr.available("vie+eng")
    assert not trueocr.available("chi_sim") and not trueocr.available("vie+fra")
    assert trueocr.missing("vie") is None
    assert trueocr.missing("chi_sim") == "trueocr reads only eng/vie, not 'chi_sim'"


@needs_trueocr
def test_trueocr_reads_a_real_page_into_a_word_table():
    image = sources.load_page(PageRef(str(SAMPLE), "pdf", 1))
    gray = np.asarray(image.convert("L"))
    data = TrueOcrEngine().image_to_data(gray, lang="vie", psm=4, dpi=300, timeout=0)
    assert set(data) == set(KEYS)
    assert len({len(column) for column in data.values()}) == 1 and len(data["text"]) > 100
    height, width = gray.shape
    for i, text in enumerate(data["text"]):
        assert text and " " not in text
        assert 0 <= data["left"][i] and data["left"][i] + data["width"][i] <= width
        assert 0 <= data["top"][i] and data["top"][i] + data["height"][i] <= height
        assert 0 < data["conf"][i] <= 100
    lines: dict[int, list[int]] = {}
    for i, number in enumerate(data["line_num"]):
        lines.setdefault(number, []).append(i)
    for words in lines.values():  # a line's words left to right, side by side, one box height
        for a, b in zip(words, words[1:], strict=False):
            assert data["left"][a] + data["width"][a] <= data["left"][b]
        assert len({data["top"][i] for i in words}) == 1
    text = " ".join(data["text"])
    for phrase in ("NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "TỈNH NGHỆ AN"):
        assert phrase in text


@needs_trueocr
def test_trueocr_past_its_time_limit_raises_timeout():
    gray = np.full((3508, 2480), 255, dtype=np.uint8)
    gray[200:3300:60, 200:2300] = 0
    with pytest.raises(OcrTimeout, match="trueocr took longer than 1e-06 s"):
        TrueOcrEngine().image_to_data(gray, lang="vie", psm=4, dpi=300, timeout=1e-6)


@needs_trueocr
@pytest.mark.slow
def test_read_document_with_trueocr_orders_the_header_blocks(caplog):
    with caplog.at_level(logging.WARNING, logger="vanban.ocr"):
        doc = read_document(SAMPLE, force_ocr=True, ocr=OcrSettings(engine="trueocr"))
    lines = [line.text for line in doc.pages[0].lines]
    assert lines.index("ỦY BAN NHÂN DÂN") < lines.index("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    assert all(line.words and line.confidence > 0 for line in doc.pages[0].lines)


def test_the_cli_refuses_a_missing_trueocr_once_up_front(no_trueocr, tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    for k in range(2):
        Image.new("L", (200, 200), 255).save(folder / f"scan{k}.png")
    argv = ["process", str(folder), "-o", str(tmp_path / "out"), "--ocr-engine", "trueocr", "-q"]
    assert main(argv) == 2
    assert capsys.readouterr().err == f"vanban: error: --ocr-engine trueocr: {MISSING}\n"
    assert not (tmp_path / "out").exists()
    assert main(["ocr", str(folder / "scan0.png"), "--ocr-engine", "trueocr"]) == 2
    assert capsys.readouterr().err == f"vanban: error: --ocr-engine trueocr: {MISSING}\n"


def test_the_engine_choice_reaches_the_ocr_stage_and_the_manifest():
    options = Options(ocr_engine="trueocr")
    assert ocr_settings(options).engine == "trueocr"
    assert options.to_dict()["ocr_engine"] == "trueocr"
    assert "ocr_engine" not in Options().to_dict()  # earlier manifests stay valid
