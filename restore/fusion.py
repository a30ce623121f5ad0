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
    def load(cls, directory: Path, vocab_tokens: list[str], **kw) -> TrigramFusion:
        """The LM saved as `directory/lm.npz`."""
        return cls(NgramLM.load(directory), vocab_tokens, **kw)

    def start(self, lines: list[list[Chunk]], steps: int) -> TrigramFusion:
        """Prepare for a batch: the LM id each chunk has if it is copied unchanged."""
        self.copy_ids = np.zeros((len(lines), steps), dtype=np.int64)
        for b, chunks in enumerate(lines):
            for t, chunk in enumerate(chunks):
                core = chunk.core if not is_passthrough(chunk.core) else "0"
                self.copy_ids[b, t] = self.lm.token_id(core.lower())
        self.u = np.full(len(lines), BOS, dtype=np.int64)
        self.v = np.full(len(lines), BOS, dtype=np.int64)
        self.lengths = np.array([len(c) for c in lines])
        self.options: list[tuple[np.ndarray, np.ndarray]] = []  # per step: ids, scores [B, k]
        return self

    def _lm_ids(self, t: int, ids: np.ndarray) -> np.ndarray:
        lm_ids = self.to_lm[ids]
        copy = ids == COPY_ID
        return np.where(copy, self.copy_ids[:, t : t + 1], lm_ids)

    def record(self, t: int, ids: torch.Tensor, scores: torch.Tensor) -> None:
        """Keep step t's options (ids and their model + channel scores) for `refine`."""
        self.options.append((ids.numpy().copy(), scores.numpy().copy()))

    def refine(self, chosen: torch.Tensor, sweeps: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
        """Re-choose each step with the LM seeing both sides: the trigrams that contain it.

        The greedy pass scored a choice only against the words before it; a few sweeps of
        iterated conditional modes let the words after it ("trong tâm" -> "trọng tâm") count.
        """
        ids = chosen.numpy().copy()
        bsz, steps = ids.shape
        rows = np.arange(bsz)
        conf = np.ones((bsz, steps))
        for _ in range(sweeps):
            lm_ids = np.stack([self._lm_ids(t, ids[:, t : t + 1])[:, 0] for t in range(steps)], 1)
            for t in range(steps):
                opt_ids, opt_scores = self.options[t]
                cand = self._lm_ids(t, opt_ids)
                k = cand.shape[1]
                u = lm_ids[:, t - 2] if t >= 2 else np.full(bsz, BOS)
                v = lm_ids[:, t - 1] if t >= 1 else np.full(bsz, BOS)
                total = opt_scores + self.weight * self._tri(u, v, cand)
                if t + 1 < steps:
                    after = np.where(t + 1 < self.lengths, 1.0, 0.0)[:, None]
                    nxt = np.repeat(lm_ids[:, t + 1 : t + 2], k, axis=1)
                    total += after * self.weight * self._tri(v, cand, nxt)
                    if t + 2 < steps:
                        after2 = np.where(t + 2 < self.lengths, 1.0, 0.0)[:, None]
                        nxt2 = np.repeat(lm_ids[:, t + 2 : t + 3], k, axis=1)
                        total += after2 * self.weight * self._tri(cand, nxt, nxt2)
                best = total.argmax(axis=1)
                weights = np.exp(total - total.max(axis=1, keepdims=True))
                conf[:, t] = weights[rows, best] / weights.sum(axis=1)
                ids[:, t] = opt_ids[rows, best]
                lm_ids[:, t] = cand[rows, best]
        return torch.from_numpy(ids), torch.from_numpy(np.nan_to_num(conf, nan=1.0)).float()

    def _tri(self, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
        """log S(w | u v) for w [B, k] with u, v [B] or [B, k]."""
        shape = w.shape
        u = np.broadcast_to(u[:, None] if u.ndim == 1 else u, shape)
        v = np.broadcast_to(v[:, None] if v.ndim == 1 else v, shape)
        return self.lm.logscore(u.ravel(), v.ravel(), w.ravel()).reshape(shape)

    def scores(self, t: int, ids: torch.Tensor) -> torch.Tensor:
        score = self._tri(self.u, self.v, self._lm_ids(t, ids.numpy()))
        return torch.from_numpy(self.weight * score).float()

    def advance(self, t: int, chosen: torch.Tensor) -> None:
        w = self._lm_ids(t, chosen.numpy()[:, None])[:, 0]
        self.u, self.v = self.v, w
