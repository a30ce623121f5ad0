"""Entry point of the OCR stage (placeholder: the OCR helper replaces this module)."""

from __future__ import annotations

from pathlib import Path

from vanban.records import ScannedDocument


def read_document(path: Path, *, force_ocr: bool = False, lang: str = "vie") -> ScannedDocument:
    """Read a PDF, image or .txt file into pages of lines; raise VanbanError on bad input."""
    raise NotImplementedError
