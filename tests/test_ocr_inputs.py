"""OCR stage input handling: text files, PDF text layers, bad input (no Tesseract needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from vanban.ocr import read_document
from vanban.ocr.sources import decode_text

from vanban.core.errors import VanbanError

FIXTURES = Path(__file__).parent / "fixtures" / "ocr"


def reason_for(path: Path) -> str:
    with pytest.raises(VanbanError) as info:
        read_document(path)
    assert info.value.path == str(path)
    assert "\n" not in str(info.value)
    return info.value.reason


def test_text_file_lines_keep_their_line_numbers(tmp_path):
    path = tmp_path / "plan.txt"
    path.write_bytes("\ufeffỦY BAN NHÂN DÂN\n\n  Số: 12/KH-UBND  \r\nKẾ HOẠCH\n".encode())
    doc = read_document(path)
    lines = doc.lines()
    assert [ln.text for ln in lines] == ["ỦY BAN NHÂN DÂN", "Số: 12/KH-UBND", "KẾ HOẠCH"]
    assert [ln.prov.line for ln in lines] == [1, 3, 4]
    assert all(ln.prov.page is None and ln.prov.source == str(path) for ln in lines)
    assert doc.pages[0].method == "text"


def test_text_file_decomposed_marks_become_nfc(tmp_path):
    path = tmp_path / "nfd.txt"
    path.write_text("Ke\u0302\u0301 hoa\u0323ch\n", encoding="utf-8")
    assert read_document(path).lines()[0].text == "Kế hoạch"


def test_utf16_with_bom_is_decoded(tmp_path):
    path = tmp_path / "utf16.txt"
    path.write_bytes("Quyết định số 5\n".encode("utf-16"))
    assert read_document(path).lines()[0].text == "Quyết định số 5"


def test_legacy_encoded_text_is_refused(tmp_path):
    path = tmp_path / "cp1258.txt"
    path.write_bytes(b"Vi\xea\xf2t Nam quy\xea\xect \xf0i\xf2nh")  # "Việt Nam quyết định"
    assert "not UTF-8" in reason_for(path)


def test_binary_text_file_is_refused(tmp_path):
    path = tmp_path / "junk.txt"
    path.write_bytes(bytes(range(256)) * 8)
    assert "binary" in reason_for(path)


def test_empty_text_file_is_refused(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("\n  \n", encoding="utf-8")
    assert "empty" in reason_for(path)


def test_missing_file_and_unknown_type(tmp_path):
    assert reason_for(tmp_path / "absent.pdf") == "no such file"
    other = tmp_path / "notes.docx"
    other.write_bytes(b"PK\x03\x04 not a scan")
    assert "unsupported file type" in reason_for(other)


def test_corrupt_pdf(tmp_path):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage without xref")
    assert "corrupt" in reason_for(path)


def test_encrypted_pdf():
    assert "encrypted" in reason_for(FIXTURES / "encrypted.pdf")


def test_zero_page_pdf():
    assert reason_for(FIXTURES / "zero-pages.pdf") == "PDF has no pages"


def test_image_that_is_not_an_image(tmp_path):
    path = tmp_path / "scan.png"
    path.write_text("this is not a PNG", encoding="utf-8")
    assert "not a readable image" in reason_for(path)


def test_huge_image_is_refused_before_decoding():
    reason = reason_for(FIXTURES / "huge-20000x20000.png")
    assert "400 Mpx" in reason and "limit" in reason


def test_all_blank_pages_is_an_error(tmp_path):
    path = tmp_path / "blank.pdf"
    pages = [Image.new("L", (620, 877), 255) for _ in range(2)]
    pages[0].save(path, save_all=True, append_images=pages[1:], resolution=75)
    assert "no text found" in reason_for(path)


def test_pdf_text_layer_is_used_unless_forced(tmp_path, monkeypatch):
    from vanban.ocr import reader, sources

    path = tmp_path / "digital.pdf"
    Image.new("L", (100, 100), 255).save(path)
    monkeypatch.setattr(sources, "pdf_page_count", lambda p: 2)
    monkeypatch.setattr(
        sources,
        "pdf_text_layer",
        lambda p, n: ["ỦY BAN NHÂN DÂN\nTỈNH QUẢNG NGÃI\nSố: 507/UBND-KGVX\n", ""],
    )
    ocr_calls = []

    def fake_ocr(refs, lang, jobs):
        ocr_calls.append([r.number for r in refs])
        return [reader.Page(number=r.number, method="ocr") for r in refs]

    monkeypatch.setattr(reader, "ocr_pages", fake_ocr)
    doc = read_document(path)
    assert ocr_calls == [[2]]
    assert doc.pages[0].method == "text-layer"
    assert [ln.text for ln in doc.lines()][1] == "TỈNH QUẢNG NGÃI"
    assert [(ln.prov.line, ln.prov.page, ln.prov.page_line) for ln in doc.lines()] == [
        (1, 1, 1),
        (2, 1, 2),
        (3, 1, 3),
    ]
    with pytest.raises(VanbanError):  # forced OCR of two blank fake pages: no text at all
        read_document(path, force_ocr=True)
    assert ocr_calls[-1] == [1, 2]


def test_real_text_layer_pdf_is_read_without_ocr(tmp_path):
    """A PDF made by a word processor: its text layer comes back line by line."""
    from vanban.ocr import sources

    shared = Path(__file__).resolve().parents[2] / "shared" / "bench" / "real" / "qn-born-digital"
    source = shared / "qn-cv507.source.pdf"
    if not source.exists():
        pytest.skip("../shared is not available")
    doc = read_document(source)
    assert {p.method for p in doc.pages} == {"text-layer"}
    gt = (shared / "qn-cv507.gt.txt").read_text(encoding="utf-8").split()
    assert " ".join(doc.text().split()) == " ".join(gt)
    assert sources.pdf_page_count(source) == len(doc.pages)


def test_decode_text_reason_names_the_offset():
    with pytest.raises(VanbanError) as info:
        decode_text(b"abc\xe0\xe1", Path("x.txt"))
    assert "offset 3" in info.value.reason


def test_page_failure_in_a_worker_process_is_one_clear_error(tmp_path, monkeypatch):
    from vanban.ocr import reader
    from vanban.ocr.engine import tesseract_available

    if not tesseract_available("vie"):
        pytest.skip("tesseract-ocr-vie not installed")
    path = tmp_path / "two.tiff"
    frames = [Image.new("L", (200, 100), 255) for _ in range(2)]
    frames[0].save(path, save_all=True, append_images=frames[1:])

    def failing_page(ref, lang="vie"):
        if ref.number == 2:
            raise VanbanError(ref.path, "page 2 is 99 Mpx, above the 89 Mpx limit")
        return reader.Page(number=ref.number, method="ocr")

    monkeypatch.setattr(reader, "ocr_page", failing_page)
    with pytest.raises(VanbanError) as info:
        read_document(path, jobs=2)
    assert info.value.reason == "page 2 is 99 Mpx, above the 89 Mpx limit"


def test_scanned_page_with_only_a_signature_layer_is_ocrd():
    """Signed scans carry a text layer with just the e-signature ("Ký bởi: ..."): not the page."""
    from vanban.ocr import sources

    shared = Path(__file__).resolve().parents[2] / "shared" / "bench" / "real" / "unscored"
    signed, hidden_ocr = shared / "cucthue-2191-scan.pdf", shared / "dn-sgddt-2019-scan.pdf"
    if not signed.exists():
        pytest.skip("../shared is not available")
    assert sources.scanned_pages(signed) == {1, 2, 3, 4}
    assert sources.pdf_text_layer(signed, 4) == ["", "", "", ""]
    assert sources.pdf_text_layer(hidden_ocr, 2) == ["", ""]  # unmarked garbage OCR layer


def test_looks_vietnamese():
    from vanban.ocr.sources import looks_vietnamese

    good = "Ủy ban nhân dân tỉnh ban hành kế hoạch thực hiện như sau các sở ngành " * 3
    assert looks_vietnamese(good)
    assert not looks_vietnamese("UBND THANH PHO DA NANG CONG Hcok xA HQI CHiJ NGHiA VIVT " * 4)
    assert not looks_vietnamese("Ký bởi: CỤC THUẾ")
