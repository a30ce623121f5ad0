"""The restorer guarantees: line alignment, pass-through of numbers, codes, punctuation."""

from __future__ import annotations

import pytest
import torch
from vanban.restore.api import DEFAULT_MODEL_DIR, load_restorer, pin_mmap_threshold
from vanban.restore.network.restorer import ModelRestorer
from vanban.restore.network.vocab import OutputVocab
from vanban.restore.training.model import RestorerConfig, RestorerModel

from vanban.core.text import split_chunks

CODES_LINE = "Nghị quyết số 147/NQ-CP ngày 22/5/2025, Kế hoạch 167/KH-UBND (trang 3/12)."
NUMBERS = ["147/NQ-CP", "22/5/2025", "167/KH-UBND", "3/12", "2030", "1.000.000", "30-NQ/TW"]


def tiny_restorer() -> ModelRestorer:
    """A randomly initialised model: the guarantees must hold whatever the weights say."""
    torch.manual_seed(0)
    vocab = OutputVocab(["<pad>", "<bos>", "<copy>", "<unk>", "của", "số", "ngày", "kế", "hoạch"])
    config = RestorerConfig(
        vocab_size=len(vocab), d_model=32, n_buckets=512, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64,
        decoder_ffn_dim=64, max_chunks=8, context_chunks=4,
    )  # fmt: skip
    return ModelRestorer(RestorerModel(config), vocab)


@pytest.fixture(scope="module", params=["tiny", "shipped"])
def restorer(request):
    if request.param == "tiny":
        return tiny_restorer()
    if not (DEFAULT_MODEL_DIR / "config.json").exists():
        pytest.skip("no shipped model in models/restorer")
    return load_restorer()


def test_one_output_line_per_input_line(restorer):
    lines = ["Thuc hién Nghi quyét", "", "   ", "ctia Chinh phu", "", "KE HOACH"]
    out = restorer.restore_lines(lines)
    assert len(out) == len(lines)
    assert [o.source for o in out] == lines
    assert out[1].text == "" and out[2].text == "   "


def test_empty_input(restorer):
    assert restorer.restore_lines([]) == []


@pytest.mark.parametrize("code", NUMBERS)
def test_numbers_and_codes_pass_through(restorer, code):
    line = f"theo van ban {code} cua Chinh phu, ngay {code}"
    out = restorer.restore_lines([line])[0].text
    assert out.count(code) == 2


def test_punctuation_and_spacing_unchanged(restorer):
    out = restorer.restore_lines([CODES_LINE])[0]
    strip = [(c.space_before, c.prefix, c.suffix) for c in split_chunks(out.text)]
    assert strip == [(c.space_before, c.prefix, c.suffix) for c in split_chunks(CODES_LINE)]
    for code in ("147/NQ-CP", "22/5/2025", "167/KH-UBND", "3/12"):
        assert code in out.text


def test_very_long_line_is_kept_whole(restorer):
    line = " ".join(["cac de doa an ninh phi truyen thong 2025"] * 60)
    out = restorer.restore_lines([line])[0]
    assert len(out.text.split()) == len(line.split())
    assert out.text.count("2025") == 60


def test_non_vietnamese_line_keeps_its_shape(restorer):
    line = "The quick brown fox, version 2.0 (see https://example.org/a-b)."
    out = restorer.restore_lines([line])[0].text
    assert len(out.split()) == len(line.split())
    assert "2.0" in out and "https://example.org/a-b" in out


def test_each_token_has_a_confidence(restorer):
    out = restorer.restore_lines(["Thuc hién Nghi quyét so 147/NQ-CP"])[0]
    assert len(out.tokens) == 6
    assert all(0.0 <= t.confidence <= 1.0 for t in out.tokens)
    assert out.tokens[-1].text == "147/NQ-CP" and out.tokens[-1].confidence == 1.0


def test_shipped_model_restores_real_ocr_errors():
    if not (DEFAULT_MODEL_DIR / "config.json").exists():
        pytest.skip("no shipped model in models/restorer")
    out = load_restorer().restore_lines(["Pé nghi Uy ban nhan dan thanh phé", "ctia Chinh phu"])
    assert out[0].text.startswith("Đề nghị Ủy ban nhân dân thành phố")
    assert out[1].text == "của Chính phủ"


def test_text_that_already_has_its_marks_is_kept():
    if not (DEFAULT_MODEL_DIR / "config.json").exists():
        pytest.skip("no shipped model in models/restorer")
    lines = [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "ỦY BAN NHÂN DÂN THÀNH PHỐ HẢI PHÒNG",
        "Sở Tài chính chủ trì, phối hợp với các sở, ban, ngành thực hiện.",
    ]
    out = load_restorer().restore_lines(lines)
    assert [o.text for o in out] == lines


def test_tokens_run_together_by_ocr_are_kept(restorer):
    out = restorer.restore_lines(["V.TO CHUC THUC HIEN", "a),b) cac noi dung"])
    assert out[0].text.startswith("V.TO ")
    assert out[1].text.startswith("a),b) ")


def test_shipped_restorer_reads_digits_eng_ocr_printed_for_words():
    if not (DEFAULT_MODEL_DIR / "config.json").exists():
        pytest.skip("no shipped model in models/restorer")
    restorer = load_restorer()
    out = restorer.restore_lines(["phong ngua, ung phé, nhat 14 cac hé thong canh bao som"])
    assert "nhất là các hệ thống" in out[0].text
    kept = restorer.restore_lines(["Diéu 14 cac quy dinh chung; ngay 14/5/2025 c6 14 xa"])[0].text
    assert kept.count("14") == 3


def test_mmap_threshold_pinned_unless_the_user_set_it(monkeypatch):
    import platform

    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "262144")
    assert pin_mmap_threshold() is False  # the user's own setting is left alone
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_")
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert pin_mmap_threshold() is True
