"""Shallow fusion: a syllable trigram LM rescoring the seq2seq decoder's best few choices.

The decoder knows the channel and the line's context; the trigram LM (counted over millions of
corpus lines, far more text than the network saw on 2 CPU cores) knows which syllables follow
which. At each step the decoder's `k` best ids get `weight * log P_lm(w | u v)` added.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from restore.features import is_passthrough
from restore.model import COPY_ID
from restore.ngram import BOS, NgramLM
from restore.text import Chunk


class TrigramFusion:
    """Per-batch state: the LM ids of the last two choices of every line in the batch."""

    def __init__(self, lm: NgramLM, vocab_tokens: list[str], weight: float = 0.5, k: int = 8):
        self.lm = lm
        self.weight = weight
        self.k = k
        self.to_lm = np.array([lm.token_id(t) for t in vocab_tokens], dtype=np.int64)

    @classmethod
    def load(cls, path: Path, vocab_tokens: list[str], **kw) -> TrigramFusion:
        return cls(
            NgramLM.load(path.parent) if path.name == "lm.npz" else NgramLM.load(path),
            vocab_tokens,
            **kw,
        )

    def start(self, lines: list[list[Chunk]], steps: int) -> TrigramFusion:
        """Prepare for a batch: the LM id each chunk has if it is copied unchanged."""
        self.copy_ids = np.zeros((len(lines), steps), dtype=np.int64)
        for b, chunks in enumerate(lines):
            for t, chunk in enumerate(chunks):
                core = chunk.core if not is_passthrough(chunk.core) else "0"
                self.copy_ids[b, t] = self.lm.token_id(core.lower())
        self.u = np.full(len(lines), BOS, dtype=np.int64)
        self.v = np.full(len(lines), BOS, dtype=np.int64)
        return self

    def _lm_ids(self, t: int, ids: np.ndarray) -> np.ndarray:
        lm_ids = self.to_lm[ids]
        copy = ids == COPY_ID
        return np.where(copy, self.copy_ids[:, t : t + 1], lm_ids)

    def scores(self, t: int, ids: torch.Tensor) -> torch.Tensor:
        cand = self._lm_ids(t, ids.numpy())
        u = np.repeat(self.u[:, None], cand.shape[1], axis=1)
        v = np.repeat(self.v[:, None], cand.shape[1], axis=1)
        score = self.lm.logscore(u.ravel(), v.ravel(), cand.ravel()).reshape(cand.shape)
        return torch.from_numpy(self.weight * score).float()

    def advance(self, t: int, chosen: torch.Tensor) -> None:
        w = self._lm_ids(t, chosen.numpy()[:, None])[:, 0]
        self.u, self.v = self.v, w
