"""Candidate generation: the right syllable is among a small set for typical OCR damage."""

import pytest
from vanban.restore.config import DecodingConfig
from vanban.restore.decoder.candidates import CandidateGenerator
from vanban.restore.decoder.channel import ChannelModel, align_cores, blocks, token_pairs
from vanban.restore.decoder.lexicon import load_inventory
from vanban.restore.profile import make_profile


@pytest.fixture(scope="module")
def generator() -> CandidateGenerator:
    return CandidateGenerator.load()


@pytest.mark.parametrize(
    "noisy, gold",
    [("ctia", "của"), ("t6i", "tội"), ("Pé", "đề"), ("1y", "lý"), ("tmg", "ứng"), ("s&", "sở"),
     ("Pang", "đảng"), ("véi", "với"), ("ngira", "ngừa"), ("¢én", "đến"), ("phd", "phố"),
     ("nhiém", "nhiệm"), ("UBND", "ubnd"), ("cua", "của")],
)  # fmt: skip
def test_gold_syllable_is_among_candidates(generator, noisy, gold):
    found = [c for c, _ in generator.candidates(noisy)]
    assert gold in found
    assert len(found) <= 24


def test_candidates_are_lowercase_inventory_entries_best_first(generator):
    inventory = load_inventory()
    result = generator.candidates("Chinh", k=10)
    assert result and len(result) <= 10
    assert all(c in inventory and c == c.lower() for c, _ in result)
    assert all(score <= 0 for _, score in result)
    assert "chính" in [c for c, _ in result[:3]]


def test_empty_core_has_no_candidates(generator):
    assert generator.candidates("") == []


def test_blocks_group_insertions_with_their_neighbour():
    assert blocks("của", "ctia") == [("c", "c"), ("ủ", "ti"), ("a", "a")]
    assert blocks("đến", "¢én") == [("đ", "¢"), ("ế", "é"), ("n", "n")]


def test_alignment_pairs_tokens_across_a_split_word():
    pairs = align_cores(["Thlrc", "hién", "N", "ghl", "quyét"], ["Thực", "hiện", "Nghị", "quyết"])
    assert ("Thlrc", "Thực") in pairs and ("quyét", "quyết") in pairs
    assert all(n not in ("N", "ghl") for n, _ in pairs)


def test_learned_confusion_beats_unseen_one():
    model = ChannelModel.fit(token_pairs(["tw do ctia"] * 5, ["tự do của"] * 5))
    assert model.logprob("ctia", "của") > model.logprob("ctia", "cha")
    assert model.logprob("tw", "tự") > model.logprob("tw", "tô")


def test_profile_detection_tells_fresh_vie_ocr_from_legacy_eng_ocr():
    from vanban.restore.profile import detect_profile

    assert detect_profile(["Thực hiện Nghị quyết số 147/NQ-CP của Chính phủ"]) == "vie"
    assert detect_profile(["Thuc hién Nghi quyét s6 147/NQ-CP ctia Chinh phu"]) == "default"
    assert detect_profile(["Thuc hien Nghi quyet so 147"]) == "default"  # too short to tell
    assert detect_profile(["Thuc hien Nghi quyet so 147 cua Chinh phu ve ban hanh"] * 3) == "plain"
    assert detect_profile([]) == "default"
    mixed = "Tổ chức quan triet Nghi quyet cua Chinh phu ve toi pham"  # marks on 2 words of 12
    assert detect_profile([mixed]) == "default"


def test_vie_profile_keeps_a_correct_word_first(generator):
    vie = generator.for_profile(make_profile("vie", DecodingConfig()))
    assert vie.candidates("thẩm")[0][0] == "thẩm"
    assert vie.candidates("của")[0][0] == "của"
    assert generator.for_profile(make_profile("default", DecodingConfig())) is generator
    # eng OCR prints "về" as "vé" almost always; fresh vie OCR never did: no eng share in vie
    assert dict(generator.candidates("vé"))["về"] > -2.0
    assert dict(vie.candidates("vé"))["về"] < -10.0


def test_words_in_capitals_use_the_capitals_channels_where_there_are_some():
    from vanban.restore.decoder import channel
    from vanban.restore.decoder.channel import MixtureChannel

    plain = ChannelModel.fit(token_pairs(["tu do"] * 5, ["tự do"] * 5))
    caps = ChannelModel.fit(token_pairs(["ĐÁM BÁO"] * 5, ["ĐẢM BẢO"] * 5))
    mixture = MixtureChannel({"vie": plain, "vie_caps": caps}, {"vie": 0.9, "strip": 0.1})
    share = channel.CAPITALS_SHARE
    assert mixture.capitals_weights() == pytest.approx(
        {"vie_caps": 0.9 * share, "vie": 0.9 * (1 - share), "strip": 0.1}
    )
    assert "đám" not in mixture.token_table  # the capitals channel is off for other words
    inventory = {"đảm": 5, "bảo": 5, "đám": 5, "báo": 5, "tự": 5, "do": 5}
    generator = CandidateGenerator(inventory, mixture)
    capitals = generator.for_capitals()
    assert capitals is generator.for_capitals() and capitals is not generator
    assert capitals.channel.logprob("đám", "đảm") > generator.channel.logprob("đám", "đảm")
    only_plain = MixtureChannel({"vie": plain}, {"vie": 1.0})
    assert CandidateGenerator(inventory, only_plain).for_capitals().channel.weights == {"vie": 1.0}
