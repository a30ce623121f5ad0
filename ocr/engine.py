"""Tesseract on one cleaned page image, through pytesseract's `image_to_data`."""

from __future__ import annotations

import os
import tempfile

import cv2
import numpy as np
import pytesseract

DEFAULT_PSM = 4  # chosen by CER on the bench pages (see docs/BENCHMARKS.md, ## OCR)


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
    """Word boxes, confidences and block/paragraph/line numbers for a grayscale page.

    `timeout` > 0: pytesseract kills Tesseract after that many seconds (RuntimeError).
    """
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # one thread per process: pages run in parallel
    with tempfile.TemporaryDirectory(prefix="vanban-ocr-") as tmp:
        path = os.path.join(tmp, "page.pgm")  # uncompressed: quicker to write and read than PNG
        cv2.imwrite(path, gray)
        return pytesseract.image_to_data(
            path,
            lang=lang,
            config=f"--psm {psm} --dpi {dpi}",
            output_type=pytesseract.Output.DICT,
            timeout=timeout,
        )
