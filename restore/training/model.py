"""The restorer network: a BART encoder-decoder over OCR chunks, emitting one syllable per chunk.

The encoder reads the line's chunks (each a bag of hashed character n-grams) with a few chunks of
the neighbouring lines as context. The decoder emits, for chunk t, a syllable from the output
vocabulary (or <copy>), conditioned on the syllables it already chose; its input at step t is
the previous choice plus the encoder state of chunk t, so the output stays aligned with the input.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import BartConfig, BartModel, PreTrainedModel
from vanban.restore.network.specials import BOS_ID, COPY_ID, PAD_ID, SPECIAL_TOKENS, UNK_ID

__all__ = ["BOS_ID", "COPY_ID", "PAD_ID", "SPECIAL_TOKENS", "UNK_ID", "RestorerConfig",
           "RestorerModel"]  # fmt: skip


class RestorerConfig(BartConfig):
    model_type = "vanban-restorer"

    def __init__(self, n_buckets: int = 32768, max_chunks: int = 48, context_chunks: int = 8, **kw):
        kw.setdefault("max_position_embeddings", 128)
        super().__init__(**kw)
        self.n_buckets = n_buckets
        self.max_chunks = max_chunks
        self.context_chunks = context_chunks


class RestorerModel(PreTrainedModel):
    config_class = RestorerConfig
    base_model_prefix = "restorer"

    def __init__(self, config: RestorerConfig):
        super().__init__(config)
        d = config.d_model
        self.features = nn.EmbeddingBag(config.n_buckets, d, mode="mean", padding_idx=0)
        self.segments = nn.Embedding(3, d)  # previous line, this line, next line
        inner = BartConfig(**{**config.to_dict(), "vocab_size": 4})  # embeddings are ours
        self.bart = BartModel(inner)
        self.bridge = nn.Linear(d, d)
        self.targets = nn.Embedding(config.vocab_size, d, padding_idx=PAD_ID)
        self.lm_head = nn.Linear(d, config.vocab_size, bias=True)
        self.post_init()

    def encode(self, feats, offsets, segments, attention_mask):
        """Chunk features (flat, EmbeddingBag layout) -> encoder states [B, S, d]."""
        bsz, seq = segments.shape
        emb = self.features(feats, offsets).view(bsz, seq, -1) + self.segments(segments)
        out = self.bart.encoder(inputs_embeds=emb, attention_mask=attention_mask)
        return out.last_hidden_state

    def decoder_inputs(self, prev_targets, aligned_states):
        return self.targets(prev_targets) + self.bridge(aligned_states)

    def forward(self, feats, offsets, segments, attention_mask, line_index, prev_targets):
        """Teacher-forced logits [B, T, V] for the chunks of the line at `line_index` [B, T]."""
        return self.lm_head(
            self.hidden(feats, offsets, segments, attention_mask, line_index, prev_targets)
        )

    def hidden(self, feats, offsets, segments, attention_mask, line_index, prev_targets):
        """The decoder's last states [B, T, d], before `lm_head`."""
        states = self.encode(feats, offsets, segments, attention_mask)
        aligned = torch.gather(states, 1, line_index.unsqueeze(-1).expand(-1, -1, states.size(-1)))
        dec_mask = (prev_targets != PAD_ID).long()
        dec_mask[:, 0] = 1
        out = self.bart.decoder(
            inputs_embeds=self.decoder_inputs(prev_targets, aligned),
            attention_mask=dec_mask,
            encoder_hidden_states=states,
            encoder_attention_mask=attention_mask,
        )
        return out.last_hidden_state

    @torch.no_grad()
    def greedy(self, feats, offsets, segments, attention_mask, line_index, allowed=None, keep=None):
        """Choose one output id per line chunk, left to right, optionally within `allowed`.

        `allowed` is a bool mask [B, T, V] (or None for the whole vocabulary). `keep` = (ids
        [B, T], b) adds b to the logit of each chunk's own reading. Returns ids [B, T] and the
        probability of each choice.
        """
        states = self.encode(feats, offsets, segments, attention_mask)
        bsz, steps = line_index.shape
        aligned = torch.gather(states, 1, line_index.unsqueeze(-1).expand(-1, -1, states.size(-1)))
        prev = torch.full((bsz, 1), BOS_ID, dtype=torch.long)
        cache = None
        ids, probs = [], []
        for t in range(steps):
            out = self.bart.decoder(
                inputs_embeds=self.decoder_inputs(prev, aligned[:, t : t + 1]),
                encoder_hidden_states=states,
                encoder_attention_mask=attention_mask,
                past_key_values=cache,
                use_cache=True,
            )
            cache = out.past_key_values
            logits = self.lm_head(out.last_hidden_state[:, -1]).float()
            if keep is not None:
                own, boost = keep
                rows = (own[:, t] >= 0).nonzero().squeeze(1)
                logits[rows, own[rows, t]] += boost
            if allowed is not None:
                logits = logits.masked_fill(~allowed[:, t], float("-inf"))
            best = logits.argmax(dim=-1)
            prob = torch.softmax(logits, dim=-1).gather(1, best.unsqueeze(1)).squeeze(1)
            ids.append(best)
            probs.append(torch.nan_to_num(prob, nan=1.0))
            prev = best.unsqueeze(1)
        return torch.stack(ids, 1), torch.stack(probs, 1)
