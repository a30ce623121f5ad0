"""The restorer network for inference, in plain torch: loads the shipped weights without
importing transformers.

`restore.training.model.RestorerModel` (a transformers `PreTrainedModel` around `BartModel`) is
what `scripts/train_restore.py` trains and saves. This module runs the same computation (BART's
post-norm encoder and decoder, learned positions, our chunk embeddings and output head) from the
same `model.safetensors` and `config.json`, without transformers' import cost;
`tests/test_runtime.py` checks that both give the same logits and the same greedy choices.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import torch
from safetensors.torch import load_file
from torch import nn
from torch.nn import functional as F
from vanban.restore.network.specials import BOS_ID, PAD_ID

POSITION_OFFSET = 2  # BART's learned positions start at row 2
ACTIVATIONS = {"gelu": F.gelu, "relu": F.relu, "gelu_new": lambda x: F.gelu(x, approximate="tanh")}


def _additive(mask: torch.Tensor) -> torch.Tensor:
    """1/0 key mask [B, S] -> additive mask [B, 1, 1, S]."""
    return (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.q_proj, self.k_proj = nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.v_proj, self.out_proj = nn.Linear(dim, dim), nn.Linear(dim, dim)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(x.size(0), -1, self.heads, self.head_dim).transpose(1, 2)

    def project_kv(self, source: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self._split(self.k_proj(source)), self._split(self.v_proj(source))

    def forward(self, x, kv: tuple[torch.Tensor, torch.Tensor], mask: torch.Tensor | None):
        q = self._split(self.q_proj(x)) * self.head_dim**-0.5
        scores = q @ kv[0].transpose(2, 3)
        if mask is not None:
            scores = scores + mask
        out = (scores.softmax(-1) @ kv[1]).transpose(1, 2).reshape(x.shape)
        return self.out_proj(out)


class EncoderLayer(nn.Module):
    def __init__(self, dim: int, heads: int, ffn: int, activation: str):
        super().__init__()
        self.self_attn = Attention(dim, heads)
        self.self_attn_layer_norm = nn.LayerNorm(dim)
        self.fc1, self.fc2 = nn.Linear(dim, ffn), nn.Linear(ffn, dim)
        self.final_layer_norm = nn.LayerNorm(dim)
        self.act = ACTIVATIONS[activation]

    def feed_forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.final_layer_norm(x + self.fc2(self.act(self.fc1(x))))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.self_attn_layer_norm(x + self.self_attn(x, self.self_attn.project_kv(x), mask))
        return self.feed_forward(x)


class DecoderLayer(EncoderLayer):
    def __init__(self, dim: int, heads: int, ffn: int, activation: str):
        super().__init__(dim, heads, ffn, activation)
        self.encoder_attn = Attention(dim, heads)
        self.encoder_attn_layer_norm = nn.LayerNorm(dim)

    def forward(self, x, self_kv, self_mask, memory_kv, memory_mask) -> torch.Tensor:
        x = self.self_attn_layer_norm(x + self.self_attn(x, self_kv, self_mask))
        x = self.encoder_attn_layer_norm(x + self.encoder_attn(x, memory_kv, memory_mask))
        return self.feed_forward(x)


class Stack(nn.Module):
    """BART's encoder or decoder body: learned positions, embedding layer norm, layers."""

    def __init__(self, cfg: SimpleNamespace, layer: type, n_layers: int, heads: int, ffn: int):
        super().__init__()
        dim = cfg.d_model
        self.embed_positions = nn.Embedding(cfg.max_position_embeddings + POSITION_OFFSET, dim)
        self.layernorm_embedding = nn.LayerNorm(dim)
        act = cfg.activation_function
        self.layers = nn.ModuleList(layer(dim, heads, ffn, act) for _ in range(n_layers))

    def embed(self, x: torch.Tensor, start: int = 0) -> torch.Tensor:
        positions = torch.arange(start, start + x.size(1)) + POSITION_OFFSET
        return self.layernorm_embedding(x + self.embed_positions(positions))


class RestorerNet(nn.Module):
    """Inference twin of `restore.training.model.RestorerModel`: same parameters, same outputs."""

    def __init__(self, cfg: SimpleNamespace):
        super().__init__()
        self.config = cfg
        d = cfg.d_model
        self.features = nn.EmbeddingBag(cfg.n_buckets, d, mode="mean", padding_idx=0)
        self.segments = nn.Embedding(3, d)
        self.bart = nn.Module()
        self.bart.encoder = Stack(cfg, EncoderLayer, cfg.encoder_layers,
                                  cfg.encoder_attention_heads, cfg.encoder_ffn_dim)  # fmt: skip
        self.bart.decoder = Stack(cfg, DecoderLayer, cfg.decoder_layers,
                                  cfg.decoder_attention_heads, cfg.decoder_ffn_dim)  # fmt: skip
        self.bridge = nn.Linear(d, d)
        self.targets = nn.Embedding(cfg.vocab_size, d, padding_idx=PAD_ID)
        self.lm_head = nn.Linear(d, cfg.vocab_size, bias=True)

    @classmethod
    def from_pretrained(cls, directory: Path) -> RestorerNet:
        """`config.json` + `model.safetensors` of a model folder, as float32, in eval mode."""
        directory = Path(directory)
        cfg = SimpleNamespace(**json.loads((directory / "config.json").read_text("utf-8")))
        model = cls(cfg)
        weights = {k: v.float() for k, v in load_file(directory / "model.safetensors").items()}
        missing, _ = model.load_state_dict(weights, strict=False)  # BART's unused word tables
        if missing:
            raise ValueError(f"{directory}: model.safetensors lacks {', '.join(missing[:5])}")
        return model.eval()

    def encode(self, feats, offsets, segments, attention_mask) -> torch.Tensor:
        """Chunk features (flat, EmbeddingBag layout) -> encoder states [B, S, d]."""
        bsz, seq = segments.shape
        x = self.features(feats, offsets).view(bsz, seq, -1) + self.segments(segments)
        x = self.bart.encoder.embed(x)
        mask = _additive(attention_mask)
        for layer in self.bart.encoder.layers:
            x = layer(x, mask)
        return x

    def _aligned(self, states: torch.Tensor, line_index: torch.Tensor) -> torch.Tensor:
        return torch.gather(states, 1, line_index.unsqueeze(-1).expand(-1, -1, states.size(-1)))

    def _memory(self, states: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return [layer.encoder_attn.project_kv(states) for layer in self.bart.decoder.layers]

    @torch.no_grad()
    def forward(self, feats, offsets, segments, attention_mask, line_index, prev_targets):
        """Teacher-forced logits [B, T, V] for the chunks of the line at `line_index` [B, T]."""
        return self.lm_head(
            self.hidden(feats, offsets, segments, attention_mask, line_index, prev_targets)
        )

    @torch.no_grad()
    def hidden(self, feats, offsets, segments, attention_mask, line_index, prev_targets):
        """The decoder's last states [B, T, d], before `lm_head` (which a caller may apply to
        the few positions it needs)."""
        states = self.encode(feats, offsets, segments, attention_mask)
        steps = prev_targets.size(1)
        dec_mask = (prev_targets != PAD_ID).long()
        dec_mask[:, 0] = 1
        causal = torch.full((steps, steps), torch.finfo(torch.float32).min).triu(1)
        self_mask = causal[None, None] + _additive(dec_mask)
        memory_mask = _additive(attention_mask)
        x = self.bart.decoder.embed(
            self.targets(prev_targets) + self.bridge(self._aligned(states, line_index))
        )
        for layer, memory in zip(self.bart.decoder.layers, self._memory(states), strict=True):
            x = layer(x, layer.self_attn.project_kv(x), self_mask, memory, memory_mask)
        return x

    @torch.no_grad()
    def greedy(self, feats, offsets, segments, attention_mask, line_index, allowed=None, keep=None):
        """Choose one output id per line chunk, left to right, optionally within `allowed`
        (bool [B, T, V]); `keep` = (ids [B, T], b) adds b to the logit of each chunk's own
        reading. Returns ids [B, T] and the probability of each choice."""
        states = self.encode(feats, offsets, segments, attention_mask)
        aligned = self._aligned(states, line_index)
        memory, memory_mask = self._memory(states), _additive(attention_mask)
        bsz, steps = line_index.shape
        prev = torch.full((bsz,), BOS_ID, dtype=torch.long)
        cache: list[tuple[torch.Tensor, torch.Tensor] | None] = [None] * len(memory)
        ids, probs = [], []
        for t in range(steps):
            x = self.targets(prev)[:, None] + self.bridge(aligned[:, t : t + 1])
            x = self.bart.decoder.embed(x, start=t)
            for n, layer in enumerate(self.bart.decoder.layers):
                k, v = layer.self_attn.project_kv(x)
                if cache[n] is not None:
                    k, v = torch.cat([cache[n][0], k], 2), torch.cat([cache[n][1], v], 2)
                cache[n] = (k, v)
                x = layer(x, (k, v), None, memory[n], memory_mask)
            logits = self.lm_head(x[:, -1]).float()
            if keep is not None:
                own, boost = keep
                rows = (own[:, t] >= 0).nonzero().squeeze(1)
                logits[rows, own[rows, t]] += boost
            if allowed is not None:
                logits = logits.masked_fill(~allowed[:, t], -math.inf)
            best = logits.argmax(dim=-1)
            prob = torch.softmax(logits, dim=-1).gather(1, best.unsqueeze(1)).squeeze(1)
            ids.append(best)
            probs.append(torch.nan_to_num(prob, nan=1.0))
            prev = best
        return torch.stack(ids, 1), torch.stack(probs, 1)
