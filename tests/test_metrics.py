"""Restoration metrics on hand-made examples."""

import pytest
from vanban.restore.training.metrics import score_corpus, score_line


def test_perfect_line_scores_one():
    s = score_line("Thực hiện Nghị quyết số 147/NQ-CP.", "Thực hiện Nghị quyết số 147/NQ-CP.")
    assert s.accuracy == 1.0 and s.char_errors == 0 and s.base_errors == 0


def test_tokens_are_words_and_single_punctuation_marks():
    # reference tokens: của , Chính phủ  -> 4 tokens; hypothesis misses the comma and one mark
    s = score_line("cua Chính phủ", "của, Chính phủ")
    assert s.tokens == 4
    assert s.token_errors == 2
    assert s.accuracy == pytest.approx(0.5)
    assert s.base_errors == 1  # only the comma is wrong once marks are stripped
    assert s.char_errors == 2  # ủ->u and the missing comma


def test_tone_placement_and_nfc_do_not_count_as_errors():
    decomposed = "ho\u0300a"  # 'hòa' written with a combining grave accent
    assert score_line("hoà bình", "hòa bình").token_errors == 0
    assert score_line(decomposed, "hòa").token_errors == 0


def test_corpus_rates_are_sums_over_lines():
    score = score_corpus(["a b c d", "x"], ["a b c d", "y"])
    assert score.tokens == 5
    assert score.syllable_accuracy == pytest.approx(0.8)  # not the mean of 1.0 and 0.0
    assert score.as_dict()["lines"] == 2


def test_line_count_mismatch_is_an_error():
    with pytest.raises(ValueError):
        score_corpus(["a"], ["a", "b"])


def test_empty_reference_line():
    assert score_line("", "").accuracy == 1.0
    assert score_line("junk", "").token_errors == 1


def test_a_run_of_dots_or_ellipses_is_one_token():
    assert score_line("Số:..............ngày", "Số: ……… ngày").token_errors == 0
    assert score_line("như sau...", "như sau…").token_errors == 0
    s = score_line("Số: ngày", "Số: ……… ngày")
    assert (s.tokens, s.token_errors) == (4, 1)  # the fill line is one token, missing once
    assert score_line("Số.", "Số…").token_errors == 1  # a full stop is not an ellipsis
