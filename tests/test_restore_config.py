"""DecodingConfig (restore.config) and Profile (restore.profile): one source for every setting."""

import json
from dataclasses import asdict

import numpy as np
import pytest
from vanban.models import RESTORER_DIR
from vanban.restore.config import DecodingConfig
from vanban.restore.decoder.beam import Slot, beam_search
from vanban.restore.decoder.lm import SPECIALS, NgramLM
from vanban.restore.profile import CHANNEL_WEIGHTS, choose_profile, make_profile, network_profile

from vanban.core.text import split_chunks


def test_the_defaults_are_the_shipped_settings():
    path = RESTORER_DIR / "decoding.json"
    if not path.exists():
        pytest.skip("no shipped decoding.json")
    shipped = json.loads(path.read_text(encoding="utf-8"))
    loaded = DecodingConfig.load(path)
    assert loaded == DecodingConfig()  # the json repeats the defaults: one set of values
    for key, value in shipped.items():
        expected = tuple(value) if isinstance(value, list) else value
        assert getattr(loaded, key) == expected, key


def test_unknown_settings_are_refused_and_missing_ones_default():
    with pytest.raises(ValueError, match="nn_wieght"):
        DecodingConfig.from_dict({"nn_wieght": 0.5})
    partial = DecodingConfig.from_dict({"beam": 8, "discounts": [0.5, 0.6, 0.7]})
    assert partial.beam == 8 and partial.discounts == (0.5, 0.6, 0.7)
    assert asdict(partial) | {"beam": 16, "discounts": (0.75, 0.8, 0.9)} == asdict(DecodingConfig())


def test_the_ngram_baseline_has_no_network_and_its_own_lm_weight():
    baseline = DecodingConfig.ngram_baseline()
    assert baseline.lm_weight == 0.9 and baseline.lm_smoothing == "stupid-backoff"
    assert make_profile("vie", baseline).nn_weight == 0.0
    assert make_profile("default", baseline).nn_weight == 0.0


def test_one_profile_carries_every_per_profile_setting():
    config = DecodingConfig()
    vie = choose_profile(["Thực hiện Nghị quyết số 147/NQ-CP của Chính phủ"], config)
    eng = choose_profile(["Thuc hién Nghi quyét s6 147/NQ-CP ctia Chinh phu"], config)
    plain = choose_profile(["Thuc hien Nghi quyet so 147 cua Chinh phu ve ban hanh"] * 3, config)
    assert (vie.name, eng.name, plain.name) == ("vie", "default", "plain")
    assert vie.channel_weights == {"vie": 1.0} and eng.channel_weights == CHANNEL_WEIGHTS["default"]
    assert vie.nn_weight == config.profile_nn_weight["vie"] and eng.nn_weight == config.nn_weight
    assert vie.keep_bonus == config.vie_keep_bonus and eng.keep_bonus == plain.keep_bonus == 0.0
    assert vie.change_penalty == config.vie_change_penalty and eng.change_penalty == 0.0
    assert not vie.digit_misreads and eng.digit_misreads and plain.digit_misreads
    assert eng.horn_marks and not vie.horn_marks and not plain.horn_marks
    assert vie.keep_acronyms and not eng.keep_acronyms and not plain.keep_acronyms
    assert vie.network_keep_bias == config.network_keep_bias and eng.network_keep_bias == 0.0


def test_the_network_alone_keeps_its_own_test_for_fresh_vie_ocr():
    vocabulary = {"quý": 0, "của": 1}
    config = DecodingConfig()
    line = "Quý III, IV/2026"  # one word of the decoder's test, and it is Latin-1: default there
    words = [c.core.lower() for c in split_chunks(line) if c.core.isalpha()]
    assert choose_profile([line], config).name == "default"
    assert network_profile(words, vocabulary, config).name == "vie"


def test_beam_search_is_a_public_function_over_slots():
    vocab = SPECIALS + ["của", "cua", "chính", "phủ"]
    lm = NgramLM.train(["của chính phủ"] * 5, vocab, min_trigram=1)
    chunks = split_chunks("cua chinh phu")
    options = [["cua", "của"], ["chính"], ["phủ"]]
    slots = [
        Slot(0, chunk, words, np.array([lm.index[w] for w in words]), np.zeros(len(words)), False,
             position=k)
        for k, (chunk, words) in enumerate(zip(chunks, options, strict=True))
    ]  # fmt: skip
    choice, confidence = beam_search(lm, slots, set(), lm_weight=1.0, beam=4)
    assert [s.words[c] for s, c in zip(slots, choice, strict=True)] == ["của", "chính", "phủ"]
    assert confidence[0] > 0.5 and confidence[1:] == [1.0, 1.0]
