"""OCR stage: PDF/image scans -> cleaned page images -> Tesseract lines with provenance."""

from vanban.ocr.reader import read_document

__all__ = ["read_document"]
