"""TrueOCR as an OCR engine: ONNX Runtime on the CPU, its models inside the `trueocr` wheel.

`pip install 'vanban[ocr-trueocr]'`; chosen with `OcrSettings(engine="trueocr")`. The package is
imported only when a page is read, so vanban runs without it (asking for it then fails in one line).

What is used of trueocr: its text-line detector (`PageEngine.detect`) and its Vietnamese line
recognizer (`Recognizer`, CTC), one ONNX thread per process like Tesseract. Not used: its deskew and
quarter-turn model (vanban's clean-up has already straightened the page, and the boxes must stay in
the cleaned page's pixels; the clean-up skips its median filter for this engine, which reads the
marks better without it) and its reading-order model (`layout.order_lines` orders the lines, as it
does Tesseract's).

TrueOCR gives **line** boxes only. Each line becomes one Tesseract-style line of words: its text is
split at spaces and the line box is shared out along x in proportion to the characters (a space
counts as one), so a word box is an estimate, good for placing a text layer, not for cutting out a
word. Every word carries its line's confidence (the mean CTC peak probability x 100, uncalibrated).

The time limit is checked between the detector and each recognizer batch (an ONNX call cannot be
interrupted): a page stops within one batch after its limit.
"""

from __future__ import annotations

import time
from functools import lru_cache
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path

import numpy as np
from vanban.ocr.engine import OcrEngine, OcrEngineMissing, OcrTimeout
from vanban.ocr.preprocess import CleanOptions

LANGS = {"vie", "eng"}  # its charset: Latin and Vietnamese letters, digits, punctuation
BATCH = 32  # lines per recognizer call (trueocr's default)
INSTALL = "pip install 'vanban[ocr-trueocr]'"


def installed() -> bool:
    return find_spec("trueocr") is not None


@lru_cache(maxsize=1)
def _models():
    """trueocr's line detector and recognizer, loaded once per process (1 ONNX thread each)."""
    if not installed():
        raise OcrEngineMissing(f"OCR engine 'trueocr' is not installed ({INSTALL})")
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
    """TrueOCR's line detector and Vietnamese recognizer (see the module docstring)."""

    name = "trueocr"
    clean = CleanOptions(median=False)  # the median filter thins marks: CER 0.039 -> 0.036

    def version(self) -> str:
        package, _, recognizer = _models()
        return f"trueocr {package.__version__} ({recognizer.name})"

    def available(self, lang: str) -> bool:
        return installed() and set(lang.split("+")) <= LANGS

    def missing(self, lang: str) -> str | None:
        if not installed():
            return f"OCR engine 'trueocr' is not installed ({INSTALL})"
        if not set(lang.split("+")) <= LANGS:
            return f"trueocr reads only {'/'.join(sorted(LANGS))}, not '{lang}'"
        return None

    def image_to_data(
        self, gray: np.ndarray, *, lang: str, psm: int, dpi: int, timeout: float
    ) -> dict:
        """`psm` and `dpi` are Tesseract's and unused: the detector scales the page itself."""
        deadline = time.monotonic() + timeout if timeout > 0 else None
        _, detector, recognizer = _models()

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
        for start in range(0, len(crops), BATCH):
            for box, pred in zip(
                boxes[start : start + BATCH],
                recognizer.predict(crops[start : start + BATCH], batch_size=BATCH),
                strict=True,
            ):
                lines.append((pred.text, pred.confidence, box))
            check()
        return word_table(lines)
