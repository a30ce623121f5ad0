"""Numbers that OCR printed with letters (I, l, O): where they are repaired, and where not."""

from __future__ import annotations

import pytest
from vanban.restore.api import load_restorer
from vanban.restore.rules.numerals import CERTAINTY, read_document

from vanban.core.text import split_chunks


def repaired(*lines: str) -> dict[str, str]:
    chunked = [split_chunks(line) for line in lines]
    found = read_document(chunked)
    return {chunked[i][k].core: digits for (i, k), (digits, _) in found.items()}


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("theo khoản I Điều 5", {"I": "1"}),
        ("tại Điều l Nghị định", {"l": "1"}),
        ("ngày OI tháng II năm 2025", {"OI": "01", "II": "11"}),
        ("ngày 0l tháng l2 năm 2024", {"0l": "01", "l2": "12"}),
        ("trong thời hạn I5 ngày", {"I5": "15"}),
        ("Điều 30.2.TT.I3.I0. Rút khiếu nại", {"30.2.TT.I3.I0": "30.2.TT.13.10"}),
        ("Điều 25.7.NĐ.I.3. Cơ sở", {"25.7.NĐ.I.3": "25.7.NĐ.1.3"}),
        ("có khoảng cách I.010 m", {"I.010": "1.010"}),
    ],
)
def test_letters_inside_numbers_become_digits(line, expected):
    assert repaired(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        "Chương I quy định chung",  # Roman numbers where they belong
        "theo Mục I và Phụ lục II",
        "Phụ lục I1 kèm theo",  # a Roman number with its footnote mark
        "nghiệp hạng II15 viên chức",
        "thông số CO, O2, O3 và NO2",  # chemistry
        "quy định tại Điều 40l Thông tư",  # an inserted article
        "Mục C.II.1.8 Phụ lục I",  # a Roman segment in a code that starts with a letter
        "Hải đồ số I-300-08",
        "l1) Trường hợp các bên",  # item l1)
        "KHI ĐÓ THI HÀNH",  # words in capitals
        "khoản 1 Điều 2 ngày 15 tháng 3",  # already digits
    ],
)
def test_letters_that_are_letters_stay(line):
    assert repaired(line) == {}


def test_a_label_I_followed_by_2_is_1():
    assert repaired("I. Tổ chức thực hiện", "2. Trách nhiệm") == {"I": "1"}
    assert repaired("l. Việc xây dựng") == {"l": "1"}
    # a Roman section: another Roman label follows, or a "1." comes first
    assert repaired("I. Mục đích", "2. Yêu cầu", "II. Nội dung") == {}
    assert repaired("I. MỤC ĐÍCH", "1. Mục đích", "2. Yêu cầu") == {}
    assert repaired("10. Báo cáo", "II. Sửa đổi quy định") == {"II": "11"}
    assert repaired("10. Báo cáo", "II. NHIỆM VỤ CỤ THỂ") == {}  # a heading in capitals


def test_a_code_family_of_the_document():
    assert repaired("nhóm CGI và CG2, CG3") == {"CGI": "CG1"}
    assert repaired("nhóm CGI và CGJ") == {}  # nothing in the family has digits
    assert repaired("Phụ lục XVII và XVI2") == {}  # Roman numbers are no family


def test_restorer_repairs_them_with_a_capped_confidence():
    out = load_restorer().restore_lines(["quy định tại khoản I Điều 5 Nghị định 15/2020/NĐ-CP"])[0]
    assert out.text == "quy định tại khoản 1 Điều 5 Nghị định 15/2020/NĐ-CP"
    token = next(t for t in out.tokens if t.source == "I")
    assert token.text == "1" and token.confidence <= CERTAINTY["after_word"]
