"""OpenCV clean-up of a page image before Tesseract: stamp removal, deskew, upscaling, denoising."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

MAX_SKEW_DEGREES = 5.0
MIN_SKEW_DEGREES = 0.1  # smaller angles are left alone (rotation blurs the glyphs a little)
TARGET_TEXT_HEIGHT = 30  # px: Tesseract reads best with capitals about 30 px high
LARGE_PAGE_PIXELS = 2400  # longest side from which a page is taken to be >= 200 DPI A4
BLANK_INK_FRACTION = 0.0005  # a page with less dark ink than this is treated as blank


@dataclass(frozen=True)
class CleanOptions:
    """Which clean-up steps run; the defaults are the measured best on the bench pages."""

    remove_stamps: bool = True
    deskew: bool = True
    upscale: bool = True
    denoise: bool = True
    median: bool = True  # denoise with a 3x3 median filter first (off: only flatten the paper)
    binarize: bool = False


@dataclass
class CleanPage:
    """A cleaned grayscale page and what was done to it."""

    image: np.ndarray  # uint8, 2-D
    skew_degrees: float = 0.0
    scale: float = 1.0
    blank: bool = False


def to_gray(image: Image.Image, remove_stamps: bool = True) -> np.ndarray:
    """Grayscale array; coloured ink (red/blue stamps, signatures; chroma > 25) becomes white."""
    if image.mode in ("L", "1", "I;16", "I"):
        return np.asarray(image.convert("L"), dtype=np.uint8)
    rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if remove_stamps:
        red, green, blue = cv2.split(rgb)
        high = cv2.max(cv2.max(red, green), blue)
        low = cv2.min(cv2.min(red, green), blue)
        gray[cv2.subtract(high, low) > 25] = 255
    return gray


def ink_mask(gray: np.ndarray) -> np.ndarray:
    """Dark pixels (text) as a 0/255 mask, from Otsu's threshold on a lightly blurred copy."""
    blurred = cv2.GaussianBlur(gray, (3, 3), 0)
    _, mask = cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    return mask


def is_blank(gray: np.ndarray) -> bool:
    """True when the page carries (almost) no dark ink (judged at half resolution)."""
    gray = cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    if int(gray.max()) - int(gray.min()) < 40:
        return True
    mask = ink_mask(gray)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    return float(np.count_nonzero(mask)) / mask.size < BLANK_INK_FRACTION


def estimate_skew(gray: np.ndarray) -> float:
    """Skew angle in degrees (within ±5°) that levels the text rows, by projection profiles."""
    scale = min(1.0, 800 / max(gray.shape))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    mask = ink_mask(small)
    h, w = mask.shape
    center = (w / 2, h / 2)

    def sharpness(angle: float) -> float:
        matrix = cv2.getRotationMatrix2D(center, angle, 1.0)
        rotated = cv2.warpAffine(mask, matrix, (w, h), flags=cv2.INTER_NEAREST, borderValue=0)
        rows = rotated.sum(axis=1, dtype=np.float64)
        return float(np.sum(np.diff(rows) ** 2))

    best = 0.0
    for step, span in ((0.5, MAX_SKEW_DEGREES), (0.1, 0.5), (0.02, 0.1)):
        angles = np.arange(best - span, best + span + step / 2, step)
        angles = angles[np.abs(angles) <= MAX_SKEW_DEGREES]
        best = float(max(angles, key=sharpness))
    return round(best, 2)


def rotate(gray: np.ndarray, angle: float) -> np.ndarray:
    """Rotate about the centre, filling the corners with white."""
    h, w = gray.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(
        gray,
        matrix,
        (w, h),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=255,
    )


def text_height(gray: np.ndarray) -> float | None:
    """Median height of letter-sized connected components, in pixels (None if too few)."""
    mask = ink_mask(gray)
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    heights = stats[1:, cv2.CC_STAT_HEIGHT]
    widths = stats[1:, cv2.CC_STAT_WIDTH]
    letters = heights[(heights >= 4) & (heights <= 200) & (widths <= 3 * heights)]
    if len(letters) < 50:
        return None
    return float(np.percentile(letters, 75))


def upscale_factor(gray: np.ndarray) -> float:
    """How much to enlarge a low-resolution page so that capitals are about 30 px high."""
    if max(gray.shape) >= LARGE_PAGE_PIXELS:
        return 1.0  # a 300 DPI render or scan: text is large enough
    height = text_height(gray)
    if height is None or height >= TARGET_TEXT_HEIGHT * 0.8:
        return 1.0
    return min(4.0, TARGET_TEXT_HEIGHT / height)


def denoise(gray: np.ndarray, median: bool = True) -> np.ndarray:
    """Remove salt-and-pepper specks (`median`) and flatten uneven illumination (shadows,
    yellowed paper).

    Applied to every page: skipping it on clean-looking pages (speck density, paper evenness)
    was tried and lost on the real low-resolution scan (CER 0.022 -> 0.031). The median filter
    also thins Vietnamese marks: TrueOCR reads better without it (docs/BENCHMARKS.md, issue 18)."""
    cleaned = cv2.medianBlur(gray, 3) if median else gray
    small = cv2.resize(cleaned, None, fx=0.125, fy=0.125, interpolation=cv2.INTER_AREA)
    background = cv2.dilate(small, np.ones((7, 7), np.uint8))  # paper brightness without the ink
    background = cv2.resize(
        background, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_LINEAR
    )
    flat = cv2.divide(cleaned, np.maximum(background, 1), scale=255)
    return flat


def binarize(gray: np.ndarray) -> np.ndarray:
    """Black text on white by Otsu's threshold."""
    _, binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return binary


def clean_page(image: Image.Image, options: CleanOptions = CleanOptions()) -> CleanPage:
    """Grayscale, stamp removal, deskew, upscaling of low-resolution scans, denoising."""
    gray = to_gray(image, options.remove_stamps)
    if is_blank(gray):
        return CleanPage(gray, blank=True)
    angle = estimate_skew(gray) if options.deskew else 0.0
    if abs(angle) >= MIN_SKEW_DEGREES:
        gray = rotate(gray, angle)
    scale = upscale_factor(gray) if options.upscale else 1.0
    if scale > 1.0:
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    if options.denoise:
        gray = denoise(gray, options.median)
    if options.binarize:
        gray = binarize(gray)
    return CleanPage(gray, skew_degrees=angle, scale=scale)
