"""ALTO v4 of the restored pages, for digital libraries that highlight hits on the page image.

A `String` holds the restored word (CONTENT) on the OCR word's box, in pixels. WC is the
restorer's confidence in that content (0-1); the printed OCR form is an `ALTERNATIVE` whose
PURPOSE carries the OCR confidence ("ocr WC=0.91"), since ALTO has one confidence per string.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from vanban import __version__
from vanban.archive.words import Box, PageLayout, PlacedWord

ALTO_NS = "http://www.loc.gov/standards/alto/ns-v4#"
ALTO_SCHEMA = "http://www.loc.gov/standards/alto/v4/alto-4-4.xsd"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"


def render_alto(pages: list[PageLayout], source: str, lang: str = "vi") -> str:
    """One ALTO v4.4 document for all pages of `source` (pages without size are left out).

    It uses nothing newer than ALTO 4.2 (the language is on each TextBlock, not on the Page as
    4.4 allows), so readers of 4.2 and later take it and the 4.2 schema validates it."""
    ET.register_namespace("", ALTO_NS)
    ET.register_namespace("xsi", XSI_NS)
    root = ET.Element(
        _tag("alto"),
        {"SCHEMAVERSION": "4.4", f"{{{XSI_NS}}}schemaLocation": f"{ALTO_NS} {ALTO_SCHEMA}"},
    )
    _description(ET.SubElement(root, _tag("Description")), source)
    layout = ET.SubElement(root, _tag("Layout"))
    for page in pages:
        if page.width and page.height:
            _page(ET.SubElement(layout, _tag("Page")), page, lang)
    ET.indent(root, space=" ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _description(description: ET.Element, source: str) -> None:
    ET.SubElement(description, _tag("MeasurementUnit")).text = "pixel"
    info = ET.SubElement(description, _tag("sourceImageInformation"))
    ET.SubElement(info, _tag("fileName")).text = source
    step = ET.SubElement(description, _tag("Processing"), {"ID": "vanban"})
    ET.SubElement(step, _tag("processingCategory")).text = "contentModification"
    ET.SubElement(step, _tag("processingDateTime")).text = dt.date.today().isoformat()
    ET.SubElement(step, _tag("processingStepDescription")).text = (
        "OCR (Tesseract) and restoration of Vietnamese marks; String WC is the restorer's "
        "confidence, ALTERNATIVE PURPOSE='ocr WC=..' the printed OCR form and its confidence"
    )
    software = ET.SubElement(step, _tag("processingSoftware"))
    ET.SubElement(software, _tag("softwareName")).text = "vanban"
    ET.SubElement(software, _tag("softwareVersion")).text = __version__


def _page(element: ET.Element, page: PageLayout, lang: str) -> None:
    n = page.number
    element.attrib.update(
        {
            "ID": f"page_{n}",
            "PHYSICAL_IMG_NR": str(n),
            "WIDTH": str(page.width),
            "HEIGHT": str(page.height),
            "PROCESSINGREFS": "vanban",
        }
    )
    space = ET.SubElement(element, _tag("PrintSpace"), _position((0, 0, page.width, page.height)))
    for k, line in enumerate(page.lines, start=1):
        block = ET.SubElement(
            space,
            _tag("TextBlock"),
            {"ID": f"block_{n}_{k}", **_position(line.bbox), "LANG": lang},
        )
        text_line = ET.SubElement(
            block, _tag("TextLine"), {"ID": f"line_{n}_{k}", **_position(line.bbox)}
        )
        for j, word in enumerate(line.words, start=1):
            if j > 1:
                ET.SubElement(text_line, _tag("SP"))
            _string(text_line, word, f"string_{n}_{k}_{j}")


def _string(parent: ET.Element, word: PlacedWord, ident: str) -> None:
    attrs = {"ID": ident, **_position(word.bbox), "CONTENT": word.text}
    if word.restorer_confidence is not None:
        attrs["WC"] = f"{min(1.0, max(0.0, word.restorer_confidence)):.4g}"
    string = ET.SubElement(parent, _tag("String"), attrs)
    purpose = "ocr"
    if word.ocr_confidence is not None:
        purpose += f" WC={min(100.0, max(0.0, word.ocr_confidence)) / 100:.4g}"
    ET.SubElement(string, _tag("ALTERNATIVE"), {"PURPOSE": purpose}).text = word.ocr_text


def _position(box: Box) -> dict[str, str]:
    left, top, width, height = box
    return {"HPOS": str(left), "VPOS": str(top), "WIDTH": str(width), "HEIGHT": str(height)}


def _tag(name: str) -> str:
    return f"{{{ALTO_NS}}}{name}"
