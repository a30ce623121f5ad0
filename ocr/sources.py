"""Input triage: what a file is, how many pages it has, each page as an image or as layer text."""

from __future__ import annotations

import re
import subprocess
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path

import pdf2image
from pdf2image.exceptions import PDFInfoNotInstalledError, PDFPageCountError, PDFSyntaxError
from PIL import Image, ImageSequence, UnidentifiedImageError
from vanban.ocr.engine import OcrSettings

from vanban.core.errors import VanbanError
from vanban.core.text import is_valid_syllable

RENDER_DPI = 300
MAX_PAGE_PIXELS = 89_478_485  # Pillow's bomb limit, A2 at 300 DPI: larger pages are refused
MIN_TEXT_LAYER_CHARS = 20  # a PDF page with fewer letters/digits in its text layer is OCR'd
MIN_SCAN_LAYER_CHARS = 400  # on a scanned page, less text is a signature stamp, not the page
SCAN_COVER = 0.5  # an image covering this share of the page makes it a scanned page

_WORD_CHAR = re.compile(r"\w")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class PageRef:
    """One page of a source file: enough for a worker process to load it on its own."""

    path: str
    kind: str  # "pdf" | "image"
    number: int  # 1-based page (PDF page or image frame + 1)
    settings: OcrSettings = OcrSettings()  # engine, time limit, size limit


# ---- .txt -------------------------------------------------------------------------------------


def decode_text(raw: bytes, path: Path) -> str:
    """UTF-8 (BOM allowed) or UTF-16 with a BOM, NFC-normalized; anything else is refused."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError as err:
            raise VanbanError(
                str(path), "text file has a UTF-16 mark but invalid UTF-16 data"
            ) from err
    elif b"\x00" in raw or len(_CONTROL_BYTES.findall(raw)) > max(2, len(raw) // 200):
        raise VanbanError(
            str(path), "binary data, not a text file (or UTF-16 without a byte-order mark)"
        )
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise VanbanError(
                str(path),
                f"text is not UTF-8 (byte 0x{raw[err.start]:02x} at offset {err.start}); "
                "legacy encodings such as Windows-1258 or TCVN3 are not supported: "
                "convert the file to UTF-8",
            ) from err
    if len(_CONTROL.findall(text)) > max(2, len(text) // 200):
        raise VanbanError(str(path), "binary data, not a text file (many control characters)")
    return unicodedata.normalize("NFC", text)


def read_text_lines(path: Path) -> list[tuple[int, str]]:
    """(line number in the file, text) for each non-empty line of an already-OCR'd text file."""
    text = decode_text(path.read_bytes(), path)
    lines = [(i, line.strip()) for i, line in enumerate(text.splitlines(), start=1)]
    lines = [(i, line) for i, line in lines if line]
    if not lines:
        raise VanbanError(str(path), "empty text file")
    return lines


# ---- PDF --------------------------------------------------------------------------------------


def _pdf_error(path: Path, err: Exception) -> VanbanError:
    message = str(err).lower()
    if "page count 0" in message:
        return VanbanError(str(path), "PDF has no pages")
    if "password" in message or "encrypt" in message:
        return VanbanError(str(path), "encrypted PDF: a password is needed to open it")
    return VanbanError(str(path), "corrupt or unreadable PDF")


def pdf_page_count(path: Path) -> int:
    """Number of pages (poppler's pdfinfo); VanbanError for corrupt, encrypted or empty PDFs."""
    try:
        info = pdf2image.pdfinfo_from_path(str(path))
    except PDFInfoNotInstalledError as err:
        raise VanbanError(str(path), "poppler-utils (pdfinfo) is not installed") from err
    except (PDFPageCountError, PDFSyntaxError, ValueError) as err:
        raise _pdf_error(path, err) from err
    pages = int(info.get("Pages", 0) or 0)
    if pages == 0:
        raise VanbanError(str(path), "PDF has no pages")
    return pages


def pdf_text_layer(path: Path, pages: int) -> list[str]:
    """Text of each page's text layer (pdftotext, reading order) where it can stand for the page;
    '' where the page must be OCR'd: no text layer, or a scanned page whose layer is only a
    signature stamp or a poor hidden OCR (no Vietnamese marks, invalid syllables)."""
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=False
    )
    if result.returncode != 0:
        return [""] * pages
    texts = result.stdout.decode("utf-8", errors="replace").split("\f")
    texts = (texts + [""] * pages)[:pages]
    scans = scanned_pages(path)
    usable = []
    for number, text in enumerate(texts, start=1):
        enough = len(_WORD_CHAR.findall(text)) >= MIN_TEXT_LAYER_CHARS
        if number in scans:
            enough = enough and len(text) >= MIN_SCAN_LAYER_CHARS and looks_vietnamese(text)
        usable.append(text if enough else "")
    return usable


def scanned_pages(path: Path) -> set[int]:
    """Pages where one image covers most of the page (a scan), from `pdfimages -list`."""
    listing = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, check=False)
    sizes = subprocess.run(["pdfinfo", "-f", "1", "-l", "99999", str(path)], capture_output=True)
    page_area = {
        int(m.group(1)): float(m.group(2)) * float(m.group(3)) / 72**2
        for m in re.finditer(rb"Page\s+(\d+) size:\s+([\d.]+) x ([\d.]+)", sizes.stdout)
    }
    scans = set()
    for line in listing.stdout.decode(errors="replace").splitlines()[2:]:
        cols = line.split()
        if len(cols) < 14 or cols[2] != "image":
            continue
        page, width, height, x_ppi, y_ppi = (
            int(cols[0]),
            int(cols[3]),
            int(cols[4]),
            cols[12],
            cols[13],
        )
        try:
            inches = (width / float(x_ppi)) * (height / float(y_ppi))
        except (ValueError, ZeroDivisionError):
            continue
        if inches >= SCAN_COVER * page_area.get(page, float("inf")):
            scans.add(page)
    return scans


def looks_vietnamese(text: str) -> bool:
    """Most words are Vietnamese syllables and many carry marks (a good OCR layer, not garbage)."""
    words = [w for w in re.findall(r"[^\W\d_]+", text) if len(w) > 1]
    if len(words) < 20:
        return False
    valid = sum(is_valid_syllable(w) for w in words) / len(words)
    marked = sum(not w.isascii() for w in words) / len(words)
    return valid >= 0.8 and marked >= 0.3


def _pdf_page_pixels(path: str, number: int) -> int:
    info = pdf2image.pdfinfo_from_path(path, first_page=number, last_page=number)
    size = next((v for k, v in info.items() if k.startswith("Page") and "size" in k), "")
    match = re.match(r"\s*([\d.]+) x ([\d.]+) pts", str(size))
    if not match:
        return 0
    width, height = (float(v) * RENDER_DPI / 72 for v in match.groups())
    return int(width * height)


def render_pdf_page(path: str, number: int) -> Image.Image:
    """One PDF page as an RGB image at 300 DPI; refuses pages above the pixel limit."""
    pixels = _pdf_page_pixels(path, number)
    if pixels > MAX_PAGE_PIXELS:
        raise VanbanError(
            path,
            f"page {number} is {pixels / 1e6:.0f} Mpx at {RENDER_DPI} DPI, above the "
            f"{MAX_PAGE_PIXELS / 1e6:.0f} Mpx limit",
        )
    try:
        images = pdf2image.convert_from_path(
            path, dpi=RENDER_DPI, first_page=number, last_page=number
        )
    except (PDFPageCountError, PDFSyntaxError, ValueError) as err:
        raise _pdf_error(Path(path), err) from err
    if not images:
        raise VanbanError(path, f"page {number} could not be rendered")
    return images[0]


# ---- images -----------------------------------------------------------------------------------


def open_image(path: Path) -> Image.Image:
    """Open (lazily) and check an image file: a real image, not above the pixel limit."""
    try:
        image = Image.open(path)
    except Image.DecompressionBombError as err:  # Pillow refuses twice its limit at once
        size = re.search(r"\((\d+) pixels\)", str(err))
        pixels = f"{int(size.group(1)) / 1e6:.0f} Mpx" if size else "too many pixels"
        raise VanbanError(
            str(path), f"image is {pixels}, above the {MAX_PAGE_PIXELS / 1e6:.0f} Mpx limit"
        ) from err
    except UnidentifiedImageError as err:
        raise VanbanError(str(path), "not a readable image (unknown or damaged format)") from err
    width, height = image.size
    if width * height > MAX_PAGE_PIXELS:
        raise VanbanError(
            str(path),
            f"image is {width}x{height} px, above the {MAX_PAGE_PIXELS / 1e6:.0f} Mpx limit",
        )
    return image


def image_frame_count(path: Path) -> int:
    """Pages in an image file (frames of a multi-page TIFF; 1 otherwise)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # refused just below
        image = open_image(path)
    with image:
        return int(getattr(image, "n_frames", 1))


def load_image_page(path: str, number: int) -> Image.Image:
    """Frame `number` (1-based) of an image file, decoded."""
    with open_image(Path(path)) as image:
        try:
            frame = ImageSequence.Iterator(image)[number - 1]
            frame.load()
        except (OSError, SyntaxError) as err:
            raise VanbanError(path, f"damaged image data ({err})") from err
        return frame.copy()


def load_page(ref: PageRef) -> Image.Image:
    """The page image behind a PageRef."""
    if ref.kind == "pdf":
        return render_pdf_page(ref.path, ref.number)
    return load_image_page(ref.path, ref.number)


def image_dpi(image: Image.Image) -> int:
    """Resolution stored in an image, if plausible; else the 300 DPI of our PDF renders."""
    dpi = image.info.get("dpi")
    try:
        value = int(round(float(dpi[0])))
    except (TypeError, ValueError, IndexError):
        return RENDER_DPI
    return value if 100 <= value <= 1200 else RENDER_DPI
