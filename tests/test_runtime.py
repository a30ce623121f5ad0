"""The torch-only inference network gives what the transformers model it was trained as gives."""

from __future__ import annotations

import pytest
import torch
from vanban.restore.api import DEFAULT_MODEL_DIR
from vanban.restore.network.batching import Example, make_batch
from vanban.restore.network.runtime import RestorerNet
from vanban.restore.network.specials import BOS_ID, COPY_ID
from vanban.restore.training.model import RestorerConfig, RestorerModel

from vanban.core.text import split_chunks

LINES = ["Thuc hién Nghi quyét s6 147/NQ-CP ctia Chinh phu", "Dé nghi Uy ban", "KE HOACH"]


def batch_for(config) -> dict:
    chunked = [split_chunks(line) for line in LINES]
    examples = [
        Example(chunks, chunked[i - 1] if i else [], chunked[i + 1] if i + 1 < len(LINES) else [])
        for i, chunks in enumerate(chunked)
    ]
    return make_batch(examples, config.n_buckets, config.context_chunks)


def twins(directory) -> tuple[RestorerModel, RestorerNet]:
    reference = RestorerModel.from_pretrained(directory, dtype=torch.float32).eval()
    return reference, RestorerNet.from_pretrained(directory)


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    torch.manual_seed(0)
    config = RestorerConfig(
        vocab_size=40, d_model=32, n_buckets=512, encoder_layers=2, decoder_layers=2,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64,
        decoder_ffn_dim=64, max_chunks=16, context_chunks=4, dropout=0.0,
    )  # fmt: skip
    model = RestorerModel(config)
    with torch.no_grad():  # post_init leaves biases and norms at 0/1: make them matter
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    directory = tmp_path_factory.mktemp("tiny")
    model.save_pretrained(directory)
    return directory


def assert_same(reference, net) -> None:
    batch = batch_for(net.config)
    steps = batch["line_index"].shape[1]
    prev = torch.randint(4, net.config.vocab_size, (len(LINES), steps))
    prev[:, 0] = BOS_ID
    prev[1, 3:] = 0  # padding after a short line
    with torch.no_grad():
        expected = reference(**batch, prev_targets=prev)
    got = net(**batch, prev_targets=prev)
    real = prev != 0
    real[:, 0] = True
    torch.testing.assert_close(got[real], expected[real], atol=2e-4, rtol=1e-4)

    allowed = torch.rand(len(LINES), steps, net.config.vocab_size) > 0.5
    allowed[..., COPY_ID] = True
    keep = (torch.randint(-1, net.config.vocab_size, (len(LINES), steps)), 3.0)
    ids_ref, probs_ref = reference.greedy(**batch, allowed=allowed, keep=keep)
    ids, probs = net.greedy(**batch, allowed=allowed, keep=keep)
    assert torch.equal(ids, ids_ref)
    torch.testing.assert_close(probs, probs_ref, atol=1e-4, rtol=1e-4)


def test_tiny_model_gives_the_same_logits_and_choices(tiny_dir):
    assert_same(*twins(tiny_dir))


def test_shipped_model_gives_the_same_logits_and_choices():
    if not (DEFAULT_MODEL_DIR / "model.safetensors").exists():
        pytest.skip("no shipped model in models/restorer")
    assert_same(*twins(DEFAULT_MODEL_DIR))


def test_missing_weights_are_an_error(tiny_dir, tmp_path):
    from safetensors.torch import load_file, save_file

    weights = load_file(tiny_dir / "model.safetensors")
    del weights["lm_head.weight"]
    save_file(weights, tmp_path / "model.safetensors")
    (tmp_path / "config.json").write_text((tiny_dir / "config.json").read_text())
    with pytest.raises(ValueError, match="lm_head.weight"):
        RestorerNet.from_pretrained(tmp_path)
