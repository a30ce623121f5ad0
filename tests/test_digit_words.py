"""Digits in running text compete with words only by a wide margin, flagged; numbers stay."""

from __future__ import annotations

import numpy as np
import pytest
from vanban.restore.decoder.candidates import CandidateGenerator
from vanban.restore.decoder.lexicon import load_inventory
from vanban.restore.decoder.lm import SPECIALS, NgramLM
from vanban.restore.decoder.restorer import NgramRestorer
from vanban.restore.rules.code_repair import FLAGGED
from vanban.restore.rules.digit_words import DigitWords, number_contexts, running_digit
from vanban.restore.rules.digits import NUMBER

from vanban.core.text import split_chunks

TEXT = ["xây dựng cơ sở dữ liệu và nâng cao tỷ lệ bao phủ", "thực hiện đối với các đối tượng",
        "có 14 xã đạt chuẩn", "ngày 15 tháng 6 năm 2026", "có 3 người bị thương",
        "số 12 của", "trong 5 năm qua"] * 20  # fmt: skip


@pytest.fixture(scope="module")
def lm():
    return NgramLM.train(TEXT, SPECIALS + sorted(load_inventory()), min_trigram=1, order=4)


@pytest.fixture(scope="module")
def restorer(lm):
    table = {"1": [(NUMBER, np.log(0.5)), ("là", np.log(0.5))]}  # switches eng digit reading on
    return NgramRestorer(lm, CandidateGenerator.load(), digit_misreads=table)


def eligible(line: str) -> list[str]:
    chunks = split_chunks(line)
    return [
        c.core
        for k, c in enumerate(chunks)
        if running_digit(c, chunks[k - 1] if k else None, (chunks + [None])[k + 1])
    ]


def test_only_short_digits_after_a_lowercase_word_qualify():
    assert eligible("nang cao ty 18 bao phu") == ["18"]
    assert eligible("nguoi lam 16, yeu kem") == ["16"]
    assert eligible("Dieu 14 cac") == [] and eligible("nam 2025 cac") == []
    assert eligible("16 cac") == [] and eligible("cac 16") == []
    assert eligible("so (16) cac") == [] and eligible("cac 1/2 cac") == []


def test_number_contexts_come_from_the_lm_counts(lm):
    takes, counted = number_contexts(lm)
    assert {lm.index[w] for w in ("ngày", "tháng", "số", "trong")} <= takes
    assert {lm.index[w] for w in ("xã", "tháng", "năm", "người")} <= counted
    assert lm.index["tỷ"] not in takes and lm.index["lệ"] not in counted


def test_a_digit_reads_as_a_word_by_a_wide_margin_and_is_flagged(restorer):
    lines = ["nang cao ty 18 bao phu", "xay dung co 50 du lieu", "thuc hien 461 voi cac doi tuong"]
    out = restorer.restore_lines(lines)
    assert [r.text for r in out] == ["nâng cao tỷ lệ bao phủ", "xây dựng cơ sở dữ liệu",
                                     "thực hiện đối với các đối tượng"]  # fmt: skip
    for line, digits in zip(out, ("18", "50", "461"), strict=True):
        token = next(t for t in line.tokens if t.source == digits)
        assert token.changed and token.confidence <= FLAGGED


def test_numbers_in_a_numeric_context_never_change(restorer):
    lines = ["co 14 xa dat chuan", "ngay 15 thang 6 nam 2026", "co 3 nguoi bi thuong",
             "so 12 cua", "trong 5 nam qua"]  # fmt: skip
    out = [r.text for r in restorer.restore_lines(lines)]
    assert out == ["có 14 xã đạt chuẩn", "ngày 15 tháng 6 năm 2026", "có 3 người bị thương",
                   "số 12 của", "trong 5 năm qua"]  # fmt: skip


def test_the_margin_keeps_the_number_when_the_lm_is_unsure(lm):
    words = DigitWords(lm, margin=1e6)
    restorer = NgramRestorer(lm, CandidateGenerator.load(), digit_misreads={"1": []})
    restorer.digit_words = words
    assert restorer.restore_lines(["nang cao ty 18 bao phu"])[0].text == "nâng cao tỷ 18 bao phủ"


def test_fresh_vie_ocr_keeps_its_digits(restorer):
    vie = ["Xây dựng cơ 50 dữ liệu và nâng cao tỷ 18 bao phủ của các đơn vị."]
    assert restorer.restore_lines(vie)[0].text == vie[0]
