"""Damaged document codes read back as the known parts; numbers and unknown codes never change."""

from __future__ import annotations

from collections import Counter

from vanban.restore.rules.code_repair import (
    count_parts,
    load_parts,
    readings,
    repair_ocr_code,
    repair_part,
    write_parts,
)

PARTS = {"QĐ": 4208, "TTg": 3363, "BCA": 2508, "CP": 28787, "NQ": 671, "TT": 31932, "BTC": 9544,
         "QH": 40, "OD": 2, "QH15": 2917}  # fmt: skip


def test_parts_are_counted_from_codes_only(tmp_path):
    lines = ["Quyết định số 77/QĐ-TTg ngày 5/3/2024", "Nghị quyết 01/NQ-CP và 30-NQ/TW",
             "ngày 22/5/2025 lúc 10-11 giờ"]  # fmt: skip
    counts = count_parts(lines)
    assert counts == Counter({"QĐ": 1, "TTg": 1, "NQ": 2, "CP": 1, "TW": 1})
    write_parts(counts, tmp_path / "parts.tsv")
    load_parts.cache_clear()
    assert load_parts(tmp_path / "parts.tsv") == dict(counts)


def test_ocr_damaged_parts_read_as_the_known_part():
    assert repair_ocr_code("77/0P-TTg", PARTS) == "77/QĐ-TTg"
    assert repair_ocr_code("Qb-BCA", PARTS) == "QĐ-BCA"
    assert repair_ocr_code("12/2024/TT-8TC", PARTS) == "12/2024/TT-BTC"
    assert repair_ocr_code("01/NQ-Cp", PARTS) == "01/NQ-CP"
    assert repair_ocr_code("63/2025/QHI5", PARTS) == "63/2025/QH15"
    assert repair_ocr_code("24/2021/QĐ-TT¢", PARTS) == "24/2021/QĐ-TTg"


def test_numbers_known_parts_and_lone_words_never_change():
    for code in ("77/QĐ-TTg", "22/5/2025", "2O24/TT-BTC", "10-11", "COVID-19", "A-B", "Qb",
                 "0P-X1", "0P/0P", "V.TO", "77/ZZZ-TTg"):  # fmt: skip
        assert repair_ocr_code(code, PARTS) == code
    assert repair_ocr_code("7O/0P-TTg", PARTS) == "7O/QĐ-TTg"  # the number part stays as printed


def test_ambiguous_or_rare_readings_stay():
    assert repair_part("0H", PARTS) == "QH"  # the one frequent reading
    assert repair_part("QO", {"QĐ": 100, "QD": 50}) == "QO"  # two readings, neither dominates
    assert repair_part("Q0", {"QĐ": 5}) == "Q0"  # the reading is too rare
    assert "QĐ" in readings("0P") and all(len(r) == 2 for r in readings("0P"))
