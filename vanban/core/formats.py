"""The inputs vanban reads: file kinds by suffix or by their first bytes, and input discovery."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from vanban.core.errors import VanbanError

PDF_SUFFIXES = {".pdf"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"}
TEXT_SUFFIXES = {".txt", ".text"}
SUPPORTED_SUFFIXES = PDF_SUFFIXES | IMAGE_SUFFIXES | TEXT_SUFFIXES
DESCRIPTION = "PDF, PNG, JPEG, TIFF, BMP, WebP or .txt"

# Magic numbers of the binary kinds: (leading bytes, kind, suffix to give a nameless stream).
_SIGNATURES = (
    (b"%PDF", "pdf", ".pdf"),
    (b"\x89PNG", "image", ".png"),
    (b"\xff\xd8\xff", "image", ".jpg"),
    (b"II*\x00", "image", ".tif"),
    (b"MM\x00*", "image", ".tif"),
)


def kind_of_suffix(suffix: str) -> str | None:
    """'pdf', 'image' or 'text' for a supported suffix, else None."""
    suffix = suffix.lower()
    if suffix in PDF_SUFFIXES:
        return "pdf"
    if suffix in IMAGE_SUFFIXES:
        return "image"
    if suffix in TEXT_SUFFIXES:
        return "text"
    return None


def sniff(data: bytes) -> tuple[str, str] | None:
    """(kind, suffix) from a file's first bytes, or None when no known signature matches."""
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image", ".webp"
    return next(((kind, sfx) for magic, kind, sfx in _SIGNATURES if data.startswith(magic)), None)


def file_kind(path: Path) -> str:
    """'pdf', 'image' or 'text': from the first bytes when they carry a known signature (a JPEG
    named .pdf is read as a JPEG), else from the suffix."""
    with path.open("rb") as handle:
        sniffed = sniff(handle.read(12))
    if sniffed is not None:
        return sniffed[0]
    kind = kind_of_suffix(path.suffix)
    if kind is not None:
        return kind
    suffix = path.suffix.lower() or "no suffix"
    raise VanbanError(str(path), f"unsupported file type '{suffix}' (expected {DESCRIPTION})")


def is_supported(path: Path) -> bool:
    """True when the file's extension is one vanban reads."""
    return kind_of_suffix(path.suffix) is not None


def walk_inputs(
    root: Path, exclude: Path | None = None, marker: str | None = None
) -> Iterator[Path]:
    """Supported files under `root` in a stable order, skipping hidden entries, `exclude` and
    folders that hold a file named `marker` (another run's output directory)."""
    excluded = exclude.resolve() if exclude else None
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(".")
            and (here / d).resolve() != excluded
            and not (marker and (here / d / marker).is_file())
        )
        for name in sorted(filenames):
            path = here / name
            if not name.startswith(".") and is_supported(path):
                yield path
