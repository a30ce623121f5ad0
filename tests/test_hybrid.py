"""The shipped decoder: network + n-gram LM + channel in one beam search."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from vanban.restore.decoder.candidates import CandidateGenerator
from vanban.restore.decoder.lexicon import load_inventory
from vanban.restore.decoder.lm import SPECIALS, NgramLM
from vanban.restore.decoder.restorer import NgramRestorer
from vanban.restore.hybrid import HybridRestorer

from tests.test_ngram import CLEAN
from tests.test_restore_api import tiny_restorer


@pytest.fixture(scope="module")
def decoder() -> NgramRestorer:
    lm = NgramLM.train(CLEAN, SPECIALS + sorted(load_inventory()), min_trigram=1, order=4)
    return NgramRestorer(lm, CandidateGenerator.load())


@pytest.fixture(scope="module")
def hybrid(decoder) -> HybridRestorer:
    return HybridRestorer(tiny_restorer(), decoder, replace(decoder.config, nn_weight=0.3))


def test_without_the_network_it_is_the_ngram_decoder(decoder):
    lines = ["Thuc hién Nghi quyét s6 147/NQ-CP ctia Chinh phu", "", "bdo cao B6 Cong an"]
    alone = [r.text for r in decoder.restore_lines(lines)]
    off = HybridRestorer(tiny_restorer(), decoder, replace(decoder.config, nn_weight=0.0))
    assert [r.text for r in off.restore_lines(lines)] == alone


def test_network_scores_cover_every_option(hybrid, decoder):
    lines = ["Thuc hién Nghi quyét s6 147/NQ-CP", "ctia Chinh phu"]
    slots, _ = decoder.stream(lines)
    positions = [(s.line, s.position) for s in slots]
    assert positions == [(0, k) for k in range(6)] + [(1, k) for k in range(3)]
    scores = hybrid.network_scores(lines, slots, [0] * len(slots))
    for slot, score in zip(slots, scores, strict=True):
        assert score.shape == (len(slot.words),)
        assert np.isfinite(score).all() and (score <= 0).all()
        if slot.fixed:
            assert (score == 0).all()


def test_guarantees_hold_with_the_network_on(hybrid):
    code_line = "Số: 167 /KH-UBND, ngày 18/7/2025; theo 30-NQ/TW: 1.000 đồng."
    lines = ["Thuc hién Nghi quyét", "", "   ", code_line, " ".join(["ctia Chinh phu 2025"] * 80)]
    out = hybrid.restore_lines(lines)
    assert [o.source for o in out] == lines
    assert out[1].text == "" and out[2].text == "   "
    assert [c for c in out[3].text if not c.isalpha()] == [c for c in code_line if not c.isalpha()]
    assert out[4].text.count("2025") == 80 and len(out[4].text.split()) == 320
    assert all(0.0 <= t.confidence <= 1.0 for o in out for t in o.tokens)
    assert hybrid.restore_lines([]) == []


def test_joined_chunks_get_no_network_score(hybrid, decoder):
    lines = ["ctia Chinh phu.Ve toi pham"]
    slots, _ = decoder.stream(lines)
    pieces = [(s.position, s.piece) for s in slots]
    assert pieces == [(0, -1), (1, -1), (2, 0), (2, 1), (3, -1), (4, -1)]
    scores = hybrid.network_scores(lines, slots, [0] * len(slots))
    assert not scores[2].any() and not scores[3].any()
    assert hybrid.restore_lines(lines)[0].text.endswith("phủ.Về tội phạm")


def test_cache_prefers_the_documents_own_words_but_not_a_slots_own_choice(hybrid, decoder):
    lines = ["phong ngua toi pham", "phong ngua va phong"]
    slots, _ = decoder.stream(lines)
    choice = [0] * len(slots)
    phong = [t for t, s in enumerate(slots) if s.chunk.core == "phong"]
    for t in phong:
        choice[t] = slots[t].words.index("phòng")
    without_cache = hybrid.config
    hybrid.config = replace(without_cache, cache_weight=1.0)
    try:
        scores = hybrid.cache_scores(slots, choice)
    finally:
        hybrid.config = without_cache
    for t in phong:  # chosen in the two other places: ahead of every other reading
        best = slots[t].words.index("phòng")
        assert scores[t][best] == scores[t].max() and (scores[t] < scores[t][best]).sum() > 0
    lone = [t for t, s in enumerate(slots) if s.chunk.core == "toi"][0]
    assert np.allclose(scores[lone], scores[lone][0])  # its own choice does not count
    assert not any(s.any() for s in hybrid.cache_scores(slots, choice))  # weight 0: no prior


def test_network_weight_can_depend_on_the_channel_profile(decoder):
    def no_network(*args):
        raise AssertionError("the network was asked")

    config = replace(decoder.config, nn_weight=0.3, profile_nn_weight={"vie": 0.0})
    off_in_vie = HybridRestorer(tiny_restorer(), decoder, config)
    off_in_vie.network_scores = no_network
    vie = ["Thực hiện Nghị quyết của Chính phủ về tội phạm"]
    assert [r.text for r in off_in_vie.restore_lines(vie)] == [
        r.text for r in decoder.restore_lines(vie)
    ]
    with pytest.raises(AssertionError, match="network was asked"):
        off_in_vie.restore_lines(["Thuc hién Nghi quyét ctia Chinh phu"])
