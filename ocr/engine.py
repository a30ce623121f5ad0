"""OCR engines behind one small interface (as OCRmyPDF's `OcrEngine`); Tesseract is the default.

An engine reads one cleaned grayscale page and returns a *word table*: the dict of lists that
Tesseract's `image_to_data` returns (text, conf, left, top, width, height, block_num, par_num,
line_num), which `layout.order_lines` turns into lines in reading order.
"""

from __future__ import annotations

import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import pytesseract
from vanban.ocr.preprocess import CleanOptions

DEFAULT_PSM = 4  # chosen by CER on the bench pages (see docs/BENCHMARKS.md, ## OCR)
DEFAULT_TIMEOUT = 180.0  # seconds of OCR per page before the page is given up (OCRmyPDF's default)


class OcrTimeout(Exception):
    """The engine did not finish a page within its time limit."""


class OcrEngineMissing(RuntimeError):
    """The engine asked for is not installed (its message says how to install it)."""


@dataclass(frozen=True)
class OcrSettings:
    """How pages are OCR'd: which engine, how long a page may take, which pages are too big."""

    engine: str = "tesseract"
    timeout: float = DEFAULT_TIMEOUT  # seconds per page; 0 = no limit
    skip_big: float | None = None  # megapixels: larger pages are not OCR'd (None = no limit)


class OcrEngine(ABC):
    """One OCR engine: what it is, which languages it reads, the clean-up its pages get, and a
    page -> word table."""

    name: str
    clean: CleanOptions = CleanOptions()  # the clean-up measured best for this engine

    @abstractmethod
    def version(self) -> str:
        """Engine name and version, for logs and provenance."""

    @abstractmethod
    def available(self, lang: str) -> bool:
        """True when the engine runs here and reads `lang`."""

    def missing(self, lang: str) -> str | None:
        """Why the engine cannot read `lang` here (one line), or None when it can."""
        if self.available(lang):
            return None
        return f"{self.name} with language '{lang}' is not installed"

    @abstractmethod
    def image_to_data(
        self, gray: np.ndarray, *, lang: str, psm: int, dpi: int, timeout: float
    ) -> dict:
        """Word table of a grayscale page; raise OcrTimeout after `timeout` s (0 = no limit)."""


class TesseractEngine(OcrEngine):
    """Tesseract through pytesseract, one thread per process (pages run in parallel)."""

    name = "tesseract"

    def version(self) -> str:
        return f"tesseract {pytesseract.get_tesseract_version()}"

    def available(self, lang: str) -> bool:
        return not missing_languages(lang)

    def missing(self, lang: str) -> str | None:
        absent = missing_languages(lang)
        if not absent:
            return None
        return f"tesseract with language '{lang}' is not installed (tesseract-ocr-{absent[0]})"

    def image_to_data(
        self, gray: np.ndarray, *, lang: str, psm: int, dpi: int, timeout: float
    ) -> dict:
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")
        with tempfile.TemporaryDirectory(prefix="vanban-ocr-") as tmp:
            path = os.path.join(tmp, "page.pgm")  # uncompressed: quicker to write and read than PNG
            cv2.imwrite(path, gray)
            try:
                return pytesseract.image_to_data(
                    path,
                    lang=lang,
                    config=f"--psm {psm} --dpi {dpi}",
                    output_type=pytesseract.Output.DICT,
                    timeout=timeout,
                )
            except RuntimeError as err:  # pytesseract kills the process and says "timeout"
                if "timeout" in str(err).lower():
                    raise OcrTimeout(f"Tesseract took longer than {timeout:g} s") from err
                raise


def _trueocr() -> OcrEngine:
    """TrueOCR (optional extra `ocr-trueocr`): its module imports trueocr only to read a page."""
    from vanban.ocr.engine_trueocr import TrueOcrEngine

    return TrueOcrEngine()


ENGINES: dict[str, Callable[[], OcrEngine]] = {"tesseract": TesseractEngine, "trueocr": _trueocr}


def get_engine(name: str = "tesseract") -> OcrEngine:
    """The engine called `name`; ValueError naming the known ones otherwise."""
    try:
        return ENGINES[name]()
    except KeyError:
        raise ValueError(f"unknown OCR engine {name!r} (known: {', '.join(ENGINES)})") from None


def installed_languages() -> set[str] | None:
    """Languages Tesseract knows (`tesseract --list-langs`), or None when it does not run."""
    try:
        return set(pytesseract.get_languages(config=""))
    except (pytesseract.TesseractNotFoundError, pytesseract.TesseractError, OSError):
        return None


def missing_languages(lang: str) -> list[str]:
    """The codes of `lang` ('vie', 'vie+eng') Tesseract lacks (all of them when it does not run)."""
    installed = installed_languages() or set()
    return [code for code in lang.split("+") if code not in installed]


def tesseract_available(lang: str = "vie") -> bool:
    """True when the tesseract binary runs and knows every language of `lang`."""
    return not missing_languages(lang)


def image_to_data(
    gray: np.ndarray,
    *,
    lang: str = "vie",
    psm: int = DEFAULT_PSM,
    dpi: int = 300,
    timeout: float = 0,
) -> dict:
    """Word boxes, confidences and block/paragraph/line numbers for a grayscale page (Tesseract).

    `timeout` > 0: Tesseract is stopped after that many seconds (OcrTimeout).
    """
    return TesseractEngine().image_to_data(gray, lang=lang, psm=psm, dpi=dpi, timeout=timeout)
