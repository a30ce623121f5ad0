"""hOCR of the restored pages: the restored words on their boxes, with what the OCR printed.

Each word carries `x_wconf` (the OCR confidence, 0-100, as Tesseract writes it) in its title,
and `data-ocr` (the printed OCR form) and `data-restorer-confidence` (0-1) attributes. The same
file feeds OCRmyPDF's text-layer renderer (`vanban.archive.pdf`).
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from vanban import __version__
from vanban.archive.words import Box, PageLayout, PlacedWord

XHTML_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
 "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="vi" lang="vi">
<head>
<title>{title}</title>
<meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>
<meta name="ocr-system" content="vanban {version}"/>
<meta name="ocr-capabilities" content="ocr_page ocr_carea ocr_par ocr_line ocrx_word"/>
</head>
<body>
"""


def render_hocr(pages: list[PageLayout], source: str, lang: str = "vie") -> str:
    """One hOCR document holding every page of `source` (pages without size are left out)."""
    body = "".join(_page(page, source, lang) for page in pages if page.width and page.height)
    title = escape(source)
    return XHTML_HEAD.format(title=title, version=__version__) + body + "</body>\n</html>\n"


def _page(page: PageLayout, source: str, lang: str) -> str:
    n = page.number
    title = (
        f"image {_quote_title(source)}; bbox 0 0 {page.width} {page.height}; "
        f"ppageno {n - 1}; scan_res {page.dpi} {page.dpi}"
    )
    out = [f'<div class="ocr_page" id="page_{n}" title={quoteattr(title)}>\n']
    for k, line in enumerate(page.lines, start=1):
        box = _bbox(line.bbox)
        out.append(
            f'<div class="ocr_carea" id="block_{n}_{k}" title="{box}">'
            f'<p class="ocr_par" id="par_{n}_{k}" lang="{lang}" title="{box}">'
            f'<span class="ocr_line" id="line_{n}_{k}" title="{box}; baseline 0 0">'
        )
        out.extend(_word(word, f"word_{n}_{k}_{j}") for j, word in enumerate(line.words, 1))
        out.append("</span></p></div>\n")
    out.append("</div>\n")
    return "".join(out)


def _word(word: PlacedWord, ident: str) -> str:
    title = _bbox(word.bbox)
    if word.ocr_confidence is not None:
        title += f"; x_wconf {round(word.ocr_confidence)}"
    attrs = f" data-ocr={quoteattr(word.ocr_text)}"
    if word.restorer_confidence is not None:
        attrs += f' data-restorer-confidence="{word.restorer_confidence:.4g}"'
    text = escape(word.text)
    return f'<span class="ocrx_word" id="{ident}" title="{title}"{attrs}>{text}</span> '


def _bbox(box: Box) -> str:
    left, top, width, height = box
    return f"bbox {left} {top} {left + width} {top + height}"


def _quote_title(text: str) -> str:
    """A value inside an hOCR title property: double-quoted, with quotes and ; escaped away."""
    return '"' + text.replace("\\", "/").replace('"', "'").replace(";", ",") + '"'
