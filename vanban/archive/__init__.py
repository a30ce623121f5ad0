"""The outputs archives keep: searchable PDF/A with the restored text layer, ALTO and hOCR."""

from vanban.archive.alto import render_alto
from vanban.archive.hocr import render_hocr
from vanban.archive.pdf import write_searchable_pdf
from vanban.archive.words import PageLayout, page_layouts

__all__ = ["PageLayout", "page_layouts", "render_alto", "render_hocr", "write_searchable_pdf"]
