"""Reading order and page clean-up, on synthetic word boxes and images (no Tesseract)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from vanban.ocr.layout import order_lines
from vanban.ocr.preprocess import clean_page, estimate_skew, is_blank, to_gray

FONT = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf"


def tesseract_data(rows: list[list[tuple[str, int, int]]], conf: float = 90.0) -> dict:
    """An image_to_data dict: each row is one Tesseract line of (word, left, top) at 40 px high."""
    data = {k: [] for k in ("text", "conf", "left", "top", "width", "height")}
    data.update(block_num=[], par_num=[], line_num=[])
    for line_no, row in enumerate(rows, start=1):
        for text, left, top in row:
            data["text"].append(text)
            data["conf"].append(conf)
            data["left"].append(left)
            data["top"].append(top)
            data["width"].append(22 * len(text))
            data["height"].append(40)
            data["block_num"].append(1)
            data["par_num"].append(1)
            data["line_num"].append(line_no)
    return data


def reading_order_of(rows: list[list[tuple[str, int, int]]]) -> list[str]:
    """The text of each output line of `order_lines`, in order."""
    return [seg.text for seg in order_lines(tesseract_data(rows))]


def words(text: str, left: int, top: int) -> list[tuple[str, int, int]]:
    out, x = [], left
    for word in text.split():
        out.append((word, x, top))
        x += 22 * len(word) + 15
    return out


def test_two_column_header_is_read_left_block_then_right_block():
    rows = [
        words("ỦY BAN NHÂN DÂN", 300, 100) + words("CỘNG HÒA XÃ HỘI CHỦ NGHĨA", 1200, 100),
        words("TỈNH QUẢNG NGÃI", 300, 150) + words("Độc lập - Tự do", 1250, 150),
        words("Theo đề nghị của Bộ Thông tin và Truyền thông tại Công văn", 300, 260),
    ]
    lines = reading_order_of(rows)
    assert lines == [
        "ỦY BAN NHÂN DÂN",
        "TỈNH QUẢNG NGÃI",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA",
        "Độc lập - Tự do",
        "Theo đề nghị của Bộ Thông tin và Truyền thông tại Công văn",
    ]


def test_recipients_come_before_the_signer():
    rows = [
        words("Nơi nhận:", 300, 1000) + words("TL. CHỦ TỊCH", 1500, 1000),
        words("- Như trên;", 300, 1050) + words("KT. CHÁNH VĂN PHÒNG", 1400, 1050),
        words("- Lưu: VT.", 300, 1100),
    ]
    lines = reading_order_of(rows)
    assert lines == [
        "Nơi nhận:",
        "- Như trên;",
        "- Lưu: VT.",
        "TL. CHỦ TỊCH",
        "KT. CHÁNH VĂN PHÒNG",
    ]


def test_flat_order_and_noise_words():
    rows = [words("Số: 12/KH-UBND", 300, 100) + words("Hà Nội, ngày 5", 1400, 100)]
    data = tesseract_data(rows)
    data["text"].append("~")  # a speck read as punctuation, with low confidence
    for key, value in (("conf", 5.0), ("left", 2000), ("top", 100), ("width", 10), ("height", 8)):
        data[key].append(value)
    for key in ("block_num", "par_num", "line_num"):
        data[key].append(1)
    flat = order_lines(data, columns=False)
    assert [seg.text for seg in flat] == ["Số: 12/KH-UBND Hà Nội, ngày 5"]
    assert flat[0].bbox[0] == 300 and flat[0].confidence == 90.0


def text_page(angle: float = 0.0) -> Image.Image:
    page = Image.new("L", (1600, 900), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(FONT, 40)
    for row in range(12):
        draw.text((100, 80 + 60 * row), "Kế hoạch phòng ngừa, ứng phó với các đe dọa " * 2, 0, font)
    if angle:
        matrix = cv2.getRotationMatrix2D((800, 450), angle, 1.0)
        rotated = cv2.warpAffine(np.asarray(page), matrix, (1600, 900), borderValue=255)
        page = Image.fromarray(rotated)
    return page


@pytest.mark.parametrize("angle", [-3.0, -0.8, 0.0, 1.5, 4.0])
def test_skew_is_estimated_within_a_tenth_of_a_degree(angle):
    gray = np.asarray(text_page(angle))
    assert estimate_skew(gray) == pytest.approx(-angle, abs=0.1)


def test_clean_page_levels_a_tilted_page():
    cleaned = clean_page(text_page(2.0))
    assert cleaned.skew_degrees == pytest.approx(-2.0, abs=0.1)
    assert estimate_skew(cleaned.image) == pytest.approx(0.0, abs=0.1)
    assert not cleaned.blank


def test_blank_page_and_red_stamp():
    assert is_blank(np.full((800, 600), 250, np.uint8))
    noisy = np.clip(np.random.default_rng(0).normal(245, 4, (800, 600)), 0, 255).astype(np.uint8)
    assert is_blank(noisy)
    stamp = Image.new("RGB", (400, 400), "white")
    ImageDraw.Draw(stamp).ellipse((50, 50, 350, 350), outline=(220, 30, 40), width=12)
    ImageDraw.Draw(stamp).text((100, 190), "Sở Tài chính", fill=(0, 0, 0))
    gray = to_gray(stamp)
    assert gray[200, 50:62].min() == 255  # the red ring is gone
    assert gray.min() < 100  # the black text stays


def test_zero_confidence_words_kept_only_when_they_are_vietnamese():
    rows = [words("ỦY BAN NHÂN DÂN", 300, 100) + words("CỘNG HÒA XÃ HỘI", 1200, 100)]
    data = tesseract_data(rows)
    data["conf"][4] = 0.0  # Tesseract scores some real words 0 (here "CỘNG" after the gap)
    data["text"].append("ñvw2")  # stamp garbage, also scored 0
    for key, value in (("conf", 0.0), ("left", 2000), ("top", 100), ("width", 80), ("height", 40)):
        data[key].append(value)
    for key in ("block_num", "par_num", "line_num"):
        data[key].append(1)
    assert [seg.text for seg in order_lines(data)] == ["ỦY BAN NHÂN DÂN", "CỘNG HÒA XÃ HỘI"]


def test_a_word_the_ocr_dropped_does_not_make_two_columns():
    """One body line split by the gap a dropped word left, over a short heading: the line's two
    halves stay together, before the heading (one split row is not a two-column band)."""
    rows = [
        words("đạo, tổ chức triển khai thực hiện", 300, 100)
        + words("nội dung chỉ đạo của Kế hoạch này.", 1250, 100),
        words("2. Sở Nông nghiệp và Môi trường", 300, 160),
        words("- Là cơ quan thường trực, đôn đốc các Sở, ngành, địa phương", 300, 220),
    ]
    lines = reading_order_of(rows)
    assert lines == [
        "đạo, tổ chức triển khai thực hiện",
        "nội dung chỉ đạo của Kế hoạch này.",
        "2. Sở Nông nghiệp và Môi trường",
        "- Là cơ quan thường trực, đôn đốc các Sở, ngành, địa phương",
    ]
