"""Document codes get their Đ back; nothing else in them changes."""

from __future__ import annotations

from collections import Counter

from vanban.restore.rules.codes import count_segments, load_table, repair_code, write_table

TABLE = {"ND": "NĐ", "QD": "QĐ", "BGDDT": "BGDĐT"}


def test_known_abbreviations_get_their_d_back():
    assert repair_code("15/2020/ND-CP", TABLE) == "15/2020/NĐ-CP"
    assert repair_code("123/QD-UBND", TABLE) == "123/QĐ-UBND"
    assert repair_code("05/2024/TT-BGDDT", TABLE) == "05/2024/TT-BGDĐT"
    assert repair_code("34.4.ND.1.236", TABLE) == "34.4.NĐ.1.236"  # pháp điển numbering


def test_everything_else_stays_as_printed():
    for code in ("147/NQ-CP", "167/KH-UBND", "22/5/2025", "NDX-12", "ND", "30-NQ/TW", "2030",
                 "1.000.000", "V.TO"):  # fmt: skip
        assert repair_code(code, TABLE) == code


def test_table_keeps_only_abbreviations_whose_d_less_form_is_rare(tmp_path):
    lines = ["Nghị định 15/2020/NĐ-CP"] * 30 + ["mẫu 01/ĐT-X"] * 20 + ["mẫu 02/DT-X"] * 15
    with_d, plain = count_segments(lines)
    assert with_d == Counter({"NĐ": 30, "ĐT": 20}) and plain["DT"] == 15
    write_table(with_d, plain, tmp_path / "codes.tsv")
    assert load_table(tmp_path / "codes.tsv") == {"ND": "NĐ"}
