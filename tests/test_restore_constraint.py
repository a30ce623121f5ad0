"""The decoder's candidate mask: OCR readings map to close syllables, never to unrelated ones."""

from __future__ import annotations

import pytest
from vanban.restore.network.constraint import CandidateMask, letter_skeleton

VOCAB = ["<pad>", "<bos>", "<copy>", "<unk>", "của", "tội", "đề", "lý", "ứng", "sở", "đến", "với",
         "phố", "nghị", "quốc", "chính", "hạnh", "phúc"]  # fmt: skip


@pytest.fixture(scope="module")
def mask() -> CandidateMask:
    return CandidateMask(VOCAB, confusions={"g": ["ứng"]})


@pytest.mark.parametrize(
    ("noisy", "gold"),
    [("ctia", "của"), ("t6i", "tội"), ("Pé", "đề"), ("1y", "lý"), ("tmg", "ứng"), ("s&", "sở"),
     ("¢én", "đến"), ("véi", "với"), ("phd", "phố"), ("nghi", "nghị"), ("phiic", "phúc")],
)  # fmt: skip
def test_real_ocr_readings_keep_their_syllable(mask, noisy, gold):
    assert mask.row(noisy)[VOCAB.index(gold)]


def test_unrelated_syllables_are_not_allowed(mask):
    row = mask.row("ctia")
    for far in ("quốc", "chính", "hạnh", "nghị"):
        assert not row[VOCAB.index(far)]


def test_learned_confusions_extend_the_rule(mask):
    assert mask.row("g")[VOCAB.index("ứng")]
    assert not CandidateMask(VOCAB).row("g")[VOCAB.index("ứng")]


def test_copy_is_always_allowed_and_specials_never(mask):
    row = mask.row("xyzzy")
    assert row[VOCAB.index("<copy>")]
    assert not row[VOCAB.index("<pad>")] and not row[VOCAB.index("<unk>")]


def test_skeleton_maps_ocr_lookalikes():
    assert letter_skeleton("T6i") == "toi"
    assert letter_skeleton("1ý") == "ly"
    assert letter_skeleton("Đảng") == "dang"
