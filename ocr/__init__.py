"""OCR stage: PDF/image scans -> cleaned page images -> Tesseract lines with provenance."""

from ocr.reader import read_document

__all__ = ["read_document"]
