"""OCR engines behind one small interface (as OCRmyPDF's `OcrEngine`); Tesseract is the default.

An engine reads one cleaned grayscale page and returns a *word table*: the dict of lists that
Tesseract's `image_to_data` returns (text, conf, left, top, width, height, block_num, par_num,
line_num), which `layout.order_lines` turns into lines in reading order.
"""

from __future__ import annotations

import os
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path

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


# --- TrueOCR (optional extra `ocr-trueocr`; see TrueOcrEngine) ---------------------------------

TRUEOCR_LANGS = {"vie", "eng"}  # its charset: Latin and Vietnamese letters, digits, punctuation
TRUEOCR_BATCH = 32  # lines per recognizer call (trueocr's default)
TRUEOCR_INSTALL = "pip install 'vanban[ocr-trueocr]'"


def trueocr_installed() -> bool:
    return find_spec("trueocr") is not None


@lru_cache(maxsize=1)
def _trueocr_models():
    """trueocr's line detector and recognizer, loaded once per process (1 ONNX thread each)."""
    if not trueocr_installed():
        raise OcrEngineMissing(f"OCR engine 'trueocr' is not installed ({TRUEOCR_INSTALL})")
    package = import_module("trueocr")
    page = import_module("trueocr.page")
    folder = Path(package.__file__).parent / "models"
    return package, page.PageEngine(folder, threads=1), package.Recognizer(folder, threads=1)


def line_words(text: str, box: tuple[int, int, int, int]) -> list[tuple[str, int, int]]:
    """Words of a line with (left, width) shared out of the line box `box` (x0, y0, x1, y1) in
    proportion to their characters, spaces included."""
    x0, _, x1, _ = box
    per_char = (x1 - x0) / max(1, len(text))
    words, start = [], 0
    for word in text.split(" "):
        if word:
            left = x0 + round(start * per_char)
            right = x0 + round((start + len(word)) * per_char)
            words.append((word, left, max(1, right - left)))
        start += len(word) + 1
    return words


def word_table(lines: list[tuple[str, float, tuple[int, int, int, int]]]) -> dict:
    """(text, confidence 0-1, box x0 y0 x1 y1) per line -> Tesseract's `image_to_data` dict, one
    block and paragraph, line_num 1.. in the order given."""
    keys = ("text", "conf", "left", "top", "width", "height", "block_num", "par_num", "line_num")
    data: dict[str, list] = {key: [] for key in keys}
    for number, (text, confidence, box) in enumerate(lines, start=1):
        for word, left, width in line_words(text, box):
            conf, top, height = round(100 * confidence, 2), box[1], box[3] - box[1]
            values = (word, conf, left, top, width, height, 1, 1, number)
            for key, value in zip(keys, values, strict=True):
                data[key].append(value)
    return data


class TrueOcrEngine(OcrEngine):
    """TrueOCR: ONNX Runtime on the CPU, its models inside the `trueocr` wheel.

    `pip install 'vanban[ocr-trueocr]'`; chosen with `OcrSettings(engine="trueocr")` or
    `--ocr-engine trueocr`. The package is imported only when a page is read, so vanban runs
    without it (asking for it then fails in one line).

    Used: trueocr's text-line detector (`PageEngine.detect`) and its Vietnamese line recognizer
    (`Recognizer`, CTC), one ONNX thread per process like Tesseract. Not used: its deskew and
    quarter-turn model (vanban's clean-up has straightened the page, and the boxes must stay in the
    cleaned page's pixels) and its reading-order model (`layout.order_lines` orders the lines, as
    it does Tesseract's). The clean-up skips its median filter for this engine (`clean`).

    TrueOCR gives **line** boxes only. Each line becomes one Tesseract-style line of words: its
    text is split at spaces and the line box shared out along x in proportion to the characters
    (a space counts as one), so a word box is an estimate, good for placing a text layer, not for
    cutting out a word. Every word carries its line's confidence (the mean CTC peak probability
    x 100, uncalibrated).

    The time limit is checked after the detector and after each recognizer batch (an ONNX call
    cannot be interrupted): a page stops within one batch past its limit.
    """

    name = "trueocr"
    clean = CleanOptions(median=False)  # the median filter thins marks: CER 0.039 -> 0.036

    def version(self) -> str:
        package, _, recognizer = _trueocr_models()
        return f"trueocr {package.__version__} ({recognizer.name})"

    def available(self, lang: str) -> bool:
        return trueocr_installed() and set(lang.split("+")) <= TRUEOCR_LANGS

    def missing(self, lang: str) -> str | None:
        if not trueocr_installed():
            return f"OCR engine 'trueocr' is not installed ({TRUEOCR_INSTALL})"
        if not set(lang.split("+")) <= TRUEOCR_LANGS:
            return f"trueocr reads only {'/'.join(sorted(TRUEOCR_LANGS))}, not '{lang}'"
        return None

    def image_to_data(
        self, gray: np.ndarray, *, lang: str, psm: int, dpi: int, timeout: float
    ) -> dict:
        """`psm` and `dpi` are Tesseract's and unused: the detector scales the page itself."""
        deadline = time.monotonic() + timeout if timeout > 0 else None
        _, detector, recognizer = _trueocr_models()

        def check() -> None:
            if deadline is not None and time.monotonic() > deadline:
                raise OcrTimeout(f"trueocr took longer than {timeout:g} s")

        height, width = gray.shape
        boxes, crops = [], []
        for x0, y0, x1, y1, _ in detector.detect(gray):
            box = (
                max(0, int(x0)),
                max(0, int(y0)),
                min(width, int(np.ceil(x1))),
                min(height, int(np.ceil(y1))),
            )
            if box[2] > box[0] and box[3] > box[1]:
                boxes.append(box)
                crops.append(gray[box[1] : box[3], box[0] : box[2]])
        check()
        lines = []
        for start in range(0, len(crops), TRUEOCR_BATCH):
            for box, pred in zip(
                boxes[start : start + TRUEOCR_BATCH],
                recognizer.predict(crops[start : start + TRUEOCR_BATCH], batch_size=TRUEOCR_BATCH),
                strict=True,
            ):
                lines.append((pred.text, pred.confidence, box))
            check()
        return word_table(lines)


ENGINES: dict[str, Callable[[], OcrEngine]] = {
    "tesseract": TesseractEngine,
    "trueocr": TrueOcrEngine,
}


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
