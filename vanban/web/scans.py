"""Crops of the source scan around one OCR line, rendered on demand and cached on disk."""

from __future__ import annotations

import hashlib
import io
import threading
from pathlib import Path

from PIL import Image

from vanban.core.errors import VanbanError
from vanban.core.files import atomic_write_bytes
from vanban.core.formats import file_kind

PAD = 16  # pixels of page around the line's box
MAX_CROP_WIDTH = 1400  # wider crops are scaled down (a 300 DPI A4 line is ~2000 px)


class ScanCrops:
    """Find a document's source scan, render its pages once, cut and cache line crops as PNG.

    The scan is the JSON's `source` (as `vanban process` was given it): absolute, else looked up
    relative to the working directory, the OUTDIR's parent, OUTDIR and each of `scan_dirs` (also by
    file name there). URLs never name a file: callers pass a document's own source and a line box.
    """

    def __init__(self, outdir: Path, cache_dir: Path, scan_dirs: tuple[Path, ...] = ()):
        self.outdir = outdir
        self.cache_dir = cache_dir
        self.scan_dirs = scan_dirs
        self._lock = threading.Lock()

    def find_source(self, source: str) -> Path | None:
        path = Path(source)
        if path.is_absolute():
            candidates = [path]
        else:
            bases = [Path.cwd(), self.outdir.parent, self.outdir, *self.scan_dirs]
            candidates = [base / path for base in bases]
            candidates += [base / path.name for base in self.scan_dirs]
        for candidate in candidates:
            if candidate.is_file() and _scan_kind(candidate) is not None:
                return candidate
        return None

    def crop_png(self, source: str, page: int, bbox: list[int]) -> bytes:
        """PNG bytes of the padded box on `page` of `source`; VanbanError when it cannot be made."""
        path = self.find_source(source)
        if path is None:
            raise VanbanError(source, "source scan not found (start `vanban serve` with --scans)")
        stat = path.stat()
        key = hashlib.sha1(
            f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()
        ).hexdigest()
        left, top, width, height = (int(v) for v in bbox)
        crop_file = (
            self.cache_dir / "crops" / f"{key[:20]}-p{page}-{left}-{top}-{width}-{height}.png"
        )
        if crop_file.is_file():
            return crop_file.read_bytes()
        with self._lock:  # one render at a time: a page render takes a core for a second or two
            image = self._page_image(path, key, page)
        box = (
            max(0, left - PAD),
            max(0, top - PAD),
            min(image.width, left + width + PAD),
            min(image.height, top + height + PAD),
        )
        if box[2] <= box[0] or box[3] <= box[1]:
            raise VanbanError(source, f"line box {bbox} is outside page {page}")
        crop = image.crop(box)
        if crop.width > MAX_CROP_WIDTH:
            scale = MAX_CROP_WIDTH / crop.width
            crop = crop.resize((MAX_CROP_WIDTH, max(1, round(crop.height * scale))))
        data = _png(crop)
        _save(crop_file, data)
        return data

    def _page_image(self, path: Path, key: str, page: int) -> Image.Image:
        from vanban.ocr.sources import PageRef, load_page

        page_file = self.cache_dir / "pages" / f"{key[:20]}-p{page}.png"
        if page_file.is_file():
            return Image.open(page_file)
        image = load_page(PageRef(str(path), _scan_kind(path) or "image", page)).convert("L")
        _save(page_file, _png(image))
        return image


def _scan_kind(path: Path) -> str | None:
    try:
        kind = file_kind(path)
    except (VanbanError, OSError):
        return None
    return kind if kind in ("pdf", "image") else None


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def _save(path: Path, data: bytes) -> None:
    """Cache write; a read-only cache folder only costs a re-render."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, data)
    except OSError:
        pass
