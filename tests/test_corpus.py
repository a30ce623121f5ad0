"""The data engine: clean text, channel guarantees, rendering, alignment (no Tesseract here)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import regex
from vanban.corpus.channel import (
    NoiseChannel,
    char_pieces,
    is_corruptible,
    strip_accents_line,
    word_pairs,
)
from vanban.corpus.clean import document_lines, split_of, strip_markdown, wrap_paragraph
from vanban.corpus.render import A4_SIZE, PageStyle, degrade, render_page
from vanban.corpus.true_channel import (
    align_lines,
    aligned_pairs,
    is_chunk_aligned,
    trim_scan_junk,
)

from vanban.core.text import split_chunks

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"

TRUE_PAIRS = [
    (
        "Thuc hién Nghi quyét s6 147/NQ-CP ngay 22/5/2025 cia Chinh phu",
        "Thực hiện Nghị quyết số 147/NQ-CP ngày 22/5/2025 của Chính phủ",
    ),
    (
        "1. T6 chirc quan triét va tuyén truyén Nghi quyét",
        "1. Tổ chức quán triệt và tuyên truyền Nghị quyết",
    ),
    (
        "phong ngira, ung pho v6i cac de doa an ninh phi truyén thong",
        "phòng ngừa, ứng phó với các đe dọa an ninh phi truyền thống",
    ),
    ("I. MUC PICH, YEU CAU", "I. MỤC ĐÍCH, YÊU CẦU"),
    ("Quan 1y nha nudc vé ctia Pang", "Quản lý nhà nước về của Đảng"),
]
REAL_PAIRS = [("tmg phé v6i 1a", "ứng phó với là")]
LINES = [
    "Số: 167/KH-UBND ngày 18/7/2025 (Ủy ban nhân dân thành phố Hải Phòng).",
    "Căn cứ Luật Tổ chức chính quyền địa phương số 72/2025/QH15; UBND, NĐ-CP, https://x.vn",
    "- Phòng ngừa, ứng phó với các đe dọa an ninh phi truyền thống; Internet, ICT…",
    "Điều 16.1.LQ.1. “Trách nhiệm” của các sở, ban, ngành: 1,5% ngân sách.",
]


@pytest.fixture(scope="module")
def channel() -> NoiseChannel:
    return NoiseChannel.fit(TRUE_PAIRS, REAL_PAIRS, real_char_share=0.2)


def test_wrap_keeps_short_lines_and_wraps_long_paragraphs_to_printed_width():
    rng = random.Random(1)
    assert wrap_paragraph("Điều 1. Phạm vi điều chỉnh", rng) == ["Điều 1. Phạm vi điều chỉnh"]
    paragraph = " ".join(["phòng ngừa, ứng phó với các đe dọa an ninh phi truyền thống"] * 8)
    lines = wrap_paragraph(paragraph, rng)
    assert len(lines) > 4 and all(len(line) <= 90 for line in lines)
    assert " ".join(lines) == paragraph


def test_document_lines_normalize_to_old_tone_style_and_drop_source_notes():
    doc = [
        "Ủy ban nhân dân  thành phố hoà\tthuỷ",
        "(Điều 31 Nghị định số 92/2024/NĐ-CP, có hiệu lực thi hành kể từ ngày 18/07/2024)",
    ]
    lines = document_lines(doc, "doc-key", note_share=0.0)
    assert lines == ["Ủy ban nhân dân thành phố hòa thủy"]


def test_markdown_is_stripped():
    assert strip_markdown("## KẾ HOẠCH") == "KẾ HOẠCH"
    assert (
        strip_markdown("(*chủ động phương án*) và **bốn tại chỗ**")
        == "(chủ động phương án) và bốn tại chỗ"
    )
    assert strip_markdown("| STT | Nội dung |") == "STT Nội dung"
    assert strip_markdown("|---|---|") == ""


def test_split_is_deterministic_by_document():
    splits = [split_of(f"legal:{i}") for i in range(2000)]
    assert splits == [split_of(f"legal:{i}") for i in range(2000)]
    assert 0.9 < splits.count("train") / len(splits) < 0.99 and splits.count("test") > 20


def test_word_pairs_and_char_pieces_align_ocr_with_source():
    assert ("của", "ctia") in word_pairs(
        "Quan 1y nha nudc vé ctia Pang", "Quản lý nhà nước về của Đảng"
    )
    assert word_pairs("N ghl quyét", "Nghị quyết") == []  # split word: not chunk-aligned
    assert char_pieces("của", "ctia") == [("c", "c"), ("ủ", "ti"), ("a", "a")]
    assert char_pieces("là", "1a") == [("l", "1"), ("à", "a")]


def test_codes_and_foreign_words_are_not_corruptible():
    assert is_corruptible("Đảng") and is_corruptible("ngừa") and is_corruptible("HOA")
    for core in ("UBND", "NĐ-CP", "147", "Internet", "QH15", ""):
        assert not is_corruptible(core), core


def test_corrupt_keeps_chunks_digits_codes_and_punctuation(channel):
    rng = random.Random(3)
    changed = 0
    for _ in range(200):
        for line in LINES:
            noisy = channel.corrupt(line, rng)
            clean_chunks, noisy_chunks = split_chunks(line), split_chunks(noisy)
            assert len(noisy_chunks) == len(clean_chunks)
            assert "\t" not in noisy and "\n" not in noisy
            for c, n in zip(clean_chunks, noisy_chunks, strict=True):
                assert (n.prefix, n.suffix, n.space_before) == (c.prefix, c.suffix, c.space_before)
                if not is_corruptible(c.core):
                    assert n.core == c.core
            assert regex.findall(r"\d+/\S+", noisy) == regex.findall(r"\d+/\S+", line)
            changed += noisy != line
    assert changed > 700  # eng-OCR noise changes almost every line


def test_corrupt_reproduces_learned_confusions(channel):
    rng = random.Random(0)
    readings = {channel.corrupt("ứng phó của Đảng", rng) for _ in range(300)}
    assert any(r.startswith("tmg ") for r in readings)
    assert any(r.endswith(" Pang") for r in readings)


def test_channel_json_round_trip(tmp_path, channel):
    path = tmp_path / "channel.json"
    channel.to_json(path)
    again = NoiseChannel.from_json(path)
    line = LINES[2]
    assert again.corrupt(line, random.Random(5)) == channel.corrupt(line, random.Random(5))


def test_accent_stripping():
    assert strip_accents_line("Đề nghị Ủy ban, số 147/NQ-CP.") == "De nghi Uy ban, so 147/NQ-CP."


def test_render_produces_a4_grayscale_page_that_degrades_in_place():
    rng = random.Random(2)
    page = render_page(LINES + ["x" * 200], PageStyle(font="liberation", size_pt=13, level=2), rng)
    assert page.size == A4_SIZE and page.mode == "L"
    assert page.getextrema()[0] < 50  # ink was printed
    scanned = degrade(page, 3, rng)
    assert scanned.size == A4_SIZE and scanned.mode == "L"


def test_align_lines_matches_ocr_lines_to_sources_in_order():
    clean = ["Thực hiện Nghị quyết số 147", "của Chính phủ về ban hành", "I. MỤC ĐÍCH, YÊU CẦU"]
    ocr = [
        "~ ;",
        "Thuc hién Nghi quyét s6 147",
        "cia Chinh phu vé ban hanh",
        "I. MUC PICH, YEU CAU",
    ]
    assert align_lines(ocr, clean) == [(1, 0), (2, 1), (3, 2)]


def test_trim_scan_junk_restores_chunk_alignment():
    clean = "cia Chinh phủ về ban hành"
    noisy = trim_scan_junk(": cia Chinh phu vé ban hanh ee |", clean)
    assert noisy == "cia Chinh phu vé ban hanh ee"
    assert not is_chunk_aligned(noisy, clean)
    assert is_chunk_aligned(trim_scan_junk(". cia Chinh phu vé ban hanh |", clean), clean)


@pytest.mark.shared
@pytest.mark.skipif(not (SHARED / "dev" / "000.gold.part1.txt").exists(), reason="../shared absent")
def test_real_part1_pairs_are_chunk_aligned():
    from vanban.corpus.real import real_part1_pairs

    pairs = real_part1_pairs(SHARED)
    assert len(pairs) == 370
    assert sum(is_chunk_aligned(n, c) for n, c in pairs) == 369


def test_roman_heading_numbers_pass_unchanged(channel):
    rng = random.Random(4)
    for _ in range(50):
        assert channel.corrupt("II. QUAN ĐIỂM, MỤC TIÊU", rng).startswith("II. ")


def test_split_plus_merge_is_not_chunk_aligned():
    clean = "Điều 35.4.TT.6.7. Hiệu lực thi hành"
    assert not is_chunk_aligned("| Diéu 35.4.TT.6.7. Hiéulycthihanh . :", clean)
    assert is_chunk_aligned("Diéu 35.4.TT.6.7. Hiéu luc thi hanh", clean)


def test_unseen_syllables_are_read_by_onset_and_rhyme(channel):
    from vanban.corpus.channel import split_syllable

    assert split_syllable("Nghĩa") == ("Ngh", "ĩa")
    assert split_syllable("giữa") == ("gi", "ữa") and split_syllable("gìn") == ("g", "ìn")
    assert "Đọa" not in channel.tokens and "đọa" not in channel.tokens
    rng = random.Random(6)
    readings = {channel.corrupt("Đọa", rng) for _ in range(200)}
    assert "Poa" in readings  # onset Đ -> P (ĐÍCH, Đảng) + rhyme ọa -> oa (dọa)
    assert all(len(split_chunks(r)) == 1 for r in readings)


def test_capitals_pages_print_upper_case_lines_in_body_or_bold_faces():
    from vanban.corpus.render import FONTS
    from vanban.corpus.true_channel import page_jobs

    docs = [["Đề nghị Ủy ban nhân dân thành phố", "báo cáo kết quả thực hiện"] * 30]
    jobs = page_jobs(docs, "vie", seed=7, prefix="t.", capitals=True)
    styles = []
    for job in (next(jobs) for _ in range(12)):
        assert all(line == line.upper() for line in job.lines)
        assert "ĐỀ NGHỊ ỦY BAN NHÂN DÂN THÀNH PHỐ" in job.lines
        assert job.style.font in FONTS and not job.style.justify
        styles.append(job.style.font.endswith("-bold"))
    assert any(styles) and not all(styles)
    plain = next(page_jobs(docs, "vie", seed=7, prefix="t."))
    assert "Đề nghị Ủy ban nhân dân thành phố" in plain.lines


def test_a_page_that_cannot_be_shaped_is_skipped(monkeypatch):
    import vanban.corpus.true_channel as true_channel

    def fail(*args):
        raise RuntimeError("raqm_layout() failed")

    monkeypatch.setattr(true_channel, "render_page", fail)
    job = true_channel.PageJob("p.0", ("Đề nghị",), PageStyle(), "vie", 1)
    assert true_channel.ocr_page(job) == []


def test_aligned_pairs_of_a_run_file_keep_only_chunk_aligned_rows(tmp_path):
    rows = [
        ("Uy ban nhan dan", "Ủy ban nhân dân", "1"),  # kept
        ("Uy ban nhan dan", "Ủy ban nhân dân", "0"),  # the renderer found it unaligned
        ("Uyban nhan dan", "Ủy ban nhân dân", "1"),  # chunks differ
        ("Uy ban", "Ủy ban", "1\textra"),  # more columns: still read
    ]
    run = tmp_path / "eng.train.r1.tsv"
    run.write_text(
        "".join(f"{n}\t{c}\teng\tfreeserif\t13\t0\t{a}\tp1\n" for n, c, a in rows) + "short\trow\n",
        encoding="utf-8",
    )
    assert list(aligned_pairs(run)) == [
        ("Uy ban nhan dan", "Ủy ban nhân dân"),
        ("Uy ban", "Ủy ban"),
    ]
