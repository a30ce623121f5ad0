"""End to end: render a Vietnamese page in the test, run `vanban process` on it, score the text."""

from __future__ import annotations

import json
import shutil
import subprocess
import unicodedata
from pathlib import Path

import jsonschema
import pytest
from rapidfuzz.distance import Levenshtein
from vanban.segment import load_schema

from tests.conftest import needs_ocr, run_vanban

PAGE_LINES = [
    "ỦY BAN NHÂN DÂN THÀNH PHỐ HẢI PHÒNG",
    "Số: 167/KH-UBND",
    "KẾ HOẠCH",
    "Thực hiện Nghị quyết số 147/NQ-CP ngày 22/5/2025 của Chính phủ",
    "I. MỤC ĐÍCH, YÊU CẦU",
    "1. Mục đích",
    "Nâng cao nhận thức, trách nhiệm của các cấp, các ngành",
    "trong công tác phòng ngừa, ứng phó với các đe dọa an ninh.",
    "II. TỔ CHỨC THỰC HIỆN",
    "1. Công an thành phố chủ trì, phối hợp với Sở Tài chính",
    "tham mưu Ủy ban nhân dân thành phố triển khai thực hiện.",
]
# Measured on this page (Tesseract 5 vie, 300 DPI, Liberation Serif 11 pt): CER 0.005 with
# normalization only; kept with margin for other Tesseract builds and for the restorer model.
MAX_CER = 0.03


def find_serif_font() -> Path | None:
    """Liberation Serif (has the Vietnamese glyphs), where Debian puts it or where fc-list says."""
    default = Path("/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf")
    if default.exists():
        return default
    if shutil.which("fc-list"):
        listing = subprocess.run(
            ["fc-list", "Liberation Serif:style=Regular", "file"], capture_output=True, text=True
        ).stdout
        for line in listing.splitlines():
            path = Path(line.split(":")[0].strip())
            if path.exists():
                return path
    return None


def render_page(path: Path, font_path: Path) -> str:
    """Draw PAGE_LINES black on white at 300 DPI; return the text as drawn (NFC)."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(font_path), 46)  # 11 pt at 300 DPI
    image = Image.new("L", (2200, 160 + 75 * len(PAGE_LINES)), 255)
    draw = ImageDraw.Draw(image)
    for k, line in enumerate(PAGE_LINES):
        draw.text((150, 100 + 75 * k), line, font=font, fill=0)
    image.save(path, dpi=(300, 300))
    return "\n".join(unicodedata.normalize("NFC", line) for line in PAGE_LINES)


def cer(hypothesis: str, reference: str) -> float:
    return Levenshtein.distance(hypothesis, reference) / max(1, len(reference))


@needs_ocr
@pytest.mark.slow
def test_rendered_page_comes_back_as_text_and_valid_json(tmp_path):
    font = find_serif_font()
    if font is None or not shutil.which("tesseract"):
        pytest.skip("needs Liberation Serif and tesseract")
    reference = render_page(tmp_path / "page.png", font)

    result = run_vanban("process", str(tmp_path / "page.png"), "-o", str(tmp_path / "out"), "-q")
    assert result.returncode == 0, result.stderr
    assert "processed 1, skipped 0, failed 0" in result.stdout

    ocr_text, restored = (
        "\n".join(line for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
        for path in (tmp_path / "out" / "page.ocr.txt", tmp_path / "out" / "page.txt")
    )
    assert cer(restored, reference) <= MAX_CER, (
        f"restored text CER {cer(restored, reference):.3f} > {MAX_CER} "
        f"(OCR text CER {cer(ocr_text, reference):.3f}):\n{restored}"
    )

    tree = json.loads((tmp_path / "out" / "page.json").read_text(encoding="utf-8"))
    jsonschema.validate(tree, load_schema())
    assert tree["pages"] == 1 and tree["source"].endswith("page.png")
    assert tree["document"]["number"] == "167/KH-UBND"
    first = tree["lines"][0]
    assert first["page"] == 1 and first["page_line"] == 1 and len(first["bbox"]) == 4
