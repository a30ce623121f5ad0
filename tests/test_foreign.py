"""Text that is not Vietnamese is left as printed (issue 16): the detector, then the restorer."""

from __future__ import annotations

from dataclasses import replace

import pytest
from vanban.restore.api import DEFAULT_MODEL_DIR
from vanban.restore.decoder.restorer import NgramRestorer
from vanban.restore.rules.foreign import (
    ENGLISH_WORDS,
    foreign_chunks,
    foreign_shape,
    word_evidence,
    word_kind,
)

from tests.conftest import run_vanban
from vanban.core.text import is_valid_syllable, split_chunks

# Real eng OCR of Vietnamese (seed 000 and the test suite's own examples): marks lost or misread.
ENG_OCR = [
    "ctia ca hé théng chinh tri va toan xa hoi tir thu dong, chd dugc bao vé sang chu",
    "Pé nghi Uy ban nhan dan cac tinh, thanh phd trién khai Chirong trinh phat trién",
    "c) Pa dang hoa cac kénh théng tin, tuyén truyén. Trién khai c6 hé théng",
    "Thuc hién Nghi quyét s6 147/NQ-CP ctia Chinh phu vé phirong an",
]


def kept(lines: list[str]) -> list[list[str]]:
    """The cores the detector keeps, line by line."""
    chunks = [split_chunks(line) if line.strip() else [] for line in lines]
    flags = foreign_chunks(chunks)
    return [
        [c.core for c, f in zip(cs, fs, strict=True) if f]
        for cs, fs in zip(chunks, flags, strict=True)
    ]


def test_english_sentence_is_kept_whole():
    line = "Each province should send its report to the ministry before the end of the year."
    words = [c.core for c in split_chunks(line)]
    assert kept([line]) == [words]  # "to", "the" (Vietnamese syllables) too: decided by context


@pytest.mark.parametrize("line", ENG_OCR)
def test_eng_ocr_vietnamese_is_not_kept(line):
    assert kept([line]) == [[]]


def test_eng_ocr_paragraph_is_not_kept():
    assert kept(ENG_OCR) == [[] for _ in ENG_OCR]


@pytest.mark.parametrize(
    "text",
    ["https://www.undp.org/vietnam", "www.chinhphu.vn", "info@example.com", "vanphong@hanoi.gov.vn",
     "huongdan.pdf", "config.json", "/usr/share/doc", "VANBAN_DATA", "load_restorer()", "```",
     "```python", "--lang", "-o"],
)  # fmt: skip
def test_shapes_are_kept_anywhere(text):
    assert foreign_shape(text)
    chunks = split_chunks(f"Tai lieu huong dan {text} cua Bo Tai chinh")
    flags = foreign_chunks([chunks])[0]
    assert [c.text for c, f in zip(chunks, flags, strict=True) if f] == [text]


@pytest.mark.parametrize("text", ["147/NQ-CP", "12/2020/ND-CP", "V.TO", "ngày;", "{mg", "cOng"])
def test_codes_and_ocr_noise_are_not_shapes(text):
    assert not foreign_shape(text)  # codes are the decoder's (repaired Đ), noise is eng OCR's


def test_acronym_in_a_vietnamese_sentence_is_decided_by_the_sentence():
    line = "Cac nuoc thanh vien ASEAN thong nhat thuc day thuong mai dien tu trong khu vuc."
    assert kept([line]) == [[]]  # the words around it stay restorable; the decoder keeps ASEAN
    english = "The ASEAN members agreed on a plan for the digital economy of the region."
    assert "ASEAN" in kept([english])[0]


def test_english_run_inside_a_vietnamese_line_is_kept_to_its_edges():
    english = "This report is based on a survey of the households in the northern provinces"
    marked = "Báo cáo của Ngân hàng Thế giới viết: {} theo đó tỷ lệ nghèo giảm."
    stripped = "Bao cao cua Ngan hang The gioi viet: {} theo do ty le ngheo giam."
    for vietnamese in (marked, stripped):
        assert kept([vietnamese.format(english)]) == [english.split()]


def test_short_english_run_is_left_to_the_decoder():
    # evidence 1 + 5 - 1 + 1 + 1 = 7 does not pay for switching in and out (2 * SWITCH)
    line = "Khẩu hiệu của hội nghị là Together for a Green Future do ban tổ chức lựa chọn."
    assert kept([line]) == [[]]


def test_evidence_kinds():
    assert word_evidence("phường") < 0 < word_evidence("with")
    assert word_evidence("chinh") < 0 < word_evidence("dugc")
    assert word_evidence("147/NQ-CP") is None is word_evidence("...")


def test_listed_english_words_that_are_syllables_are_weaker_evidence():
    for word in ENGLISH_WORDS:
        kind = "listed-syllable" if is_valid_syllable(word) else "english"
        assert word_kind(word) == kind and word_evidence(word) > 0
        assert word_evidence(word.upper()) < word_evidence(word)  # IT, WHO: acronyms
    assert word_evidence("the") < word_evidence("with")


def test_blank_line_ends_the_window():
    english = "This report is based on data from the survey of households."
    assert kept(["Ke hoach", "", english])[0] == []
    assert kept([english, "", "Ke hoach"])[2] == []


needs_model = pytest.mark.skipif(
    not (DEFAULT_MODEL_DIR / "config.json").exists(), reason="no shipped model in models/restorer"
)


@pytest.mark.slow
@needs_model
def test_restore_leaves_english_and_restores_vietnamese(tmp_path):
    text = (
        "Use -o to choose the output folder; each file is written in UTF-8 too.\n"
        "```\n"
        "vanban restore scan.txt -o out/\n"
        "```\n"
        "\n"
        "Thong tin chi tiet dang tai tai https://www.chinhphu.vn cua Chinh phu.\n"
        "Pé nghi Uy ban nhan dan cac tinh, thanh phd trién khai Chirong trinh\n"
    )
    source = tmp_path / "mixed.txt"
    source.write_text(text, encoding="utf-8")
    result = run_vanban("restore", str(source))
    assert result.returncode == 0, result.stderr
    out = result.stdout.split("\n")
    assert out[:5] == text.split("\n")[:5]  # English, the fence and the code as printed
    assert "https://www.chinhphu.vn" in out[5] and "Chính phủ" in out[5]
    assert out[6].startswith("Đề nghị Ủy ban nhân dân")


@pytest.fixture(scope="module")
def decoder():
    from vanban.restore.decoder.candidates import CandidateGenerator
    from vanban.restore.decoder.lexicon import load_inventory
    from vanban.restore.decoder.lm import SPECIALS, NgramLM

    from tests.test_ngram import CLEAN

    lm = NgramLM.train(CLEAN, SPECIALS + sorted(load_inventory()), min_trigram=1, order=4)
    return NgramRestorer(lm, CandidateGenerator.load())


def test_kept_tokens_are_recorded_as_printed(decoder):
    lines = [
        "This report is based on data from the survey of households in the north of Jørgensen.",
        "```",
        "Thuc hién Nghi quyét s6 147/NQ-CP ctia Chinh phu",
    ]
    out = decoder.restore_lines(lines)
    assert [r.text for r in out[:2]] == lines[:2]
    assert all(t.text == t.source and t.confidence == 1.0 for r in out[:2] for t in r.tokens)
    assert out[2].text != lines[2]  # the Vietnamese line is still restored
    switched_off = replace(decoder.config, keep_foreign=False)
    off = NgramRestorer(decoder.lm, decoder.base_generator, switched_off).restore_lines(lines)
    assert off[1].text == ""  # without the detector a fence is read as stray accent marks
