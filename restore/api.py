"""The restorer the pipeline uses: load the shipped model, restore lines one output per input."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from vanban.models import RESTORER_DIR
from vanban.restore.batching import Example, make_batch
from vanban.restore.constraint import CandidateMask, load_confusions
from vanban.restore.features import apply_case, is_passthrough
from vanban.restore.runtime import RestorerNet
from vanban.restore.specials import COPY_ID, PAD_ID, UNK_ID
from vanban.restore.vocab import OutputVocab

from vanban.core.records import RestoredLine, RestoredToken
from vanban.core.text import Chunk, split_chunks

DEFAULT_MODEL_DIR = RESTORER_DIR


class Restorer(Protocol):
    def restore_lines(self, lines: list[str]) -> list[RestoredLine]:
        """Restore each line; exactly one output per input, in order."""
        ...


class ModelRestorer:
    """The network alone: one greedy decoder step per OCR chunk, within the candidate mask.

    The shipped restorer (`restore.hybrid.HybridRestorer`) uses this class for the network's
    scores; on its own it is the "network" ablation of `scripts/eval_restore.py`. Text whose
    words mostly already carry correct marks (fresh `vie` OCR: ~85% of words are marked
    syllables of the vocabulary, against ~3% in English-data OCR) is restored conservatively:
    each chunk's own reading gets a logit bonus, so only confident fixes are made.
    """

    KEEP_BIAS = 6.0

    def __init__(
        self,
        model: RestorerNet,  # or a restore.model.RestorerModel (training, tests)
        vocab: OutputVocab,
        mask: CandidateMask | None = None,
        batch_size: int = 64,
    ):
        self.model = model.eval()
        self.vocab = vocab
        self.mask = mask or CandidateMask(vocab.tokens)
        self._keep_bias = 0.0
        self.batch_size = batch_size
        self.max_chunks = model.config.max_chunks
        self.context = model.config.context_chunks

    @classmethod
    def from_pretrained(cls, directory: Path, **kw):
        """Load weights (safetensors), vocabulary and learned confusions from a model folder."""
        directory = Path(directory)
        model = RestorerNet.from_pretrained(directory)
        vocab = OutputVocab.load(directory / "vocab.txt")
        mask = CandidateMask(vocab.tokens, load_confusions(directory / "confusions.tsv"))
        return cls(model, vocab, mask, **kw)

    def restore_lines(self, lines: list[str]) -> list[RestoredLine]:
        chunked = [split_chunks(line) for line in lines]
        self._keep_bias = self.KEEP_BIAS if self.marked_share(chunked) >= 0.4 else 0.0
        pieces = self._pieces(chunked)
        choices: dict[tuple[int, int], tuple[int, float]] = {}
        order = sorted(range(len(pieces)), key=lambda i: len(pieces[i][2].chunks))
        for start in range(0, len(order), self.batch_size):
            batch = [pieces[i] for i in order[start : start + self.batch_size]]
            for (line_no, offset, example), (ids, probs) in zip(
                batch, self._decode(batch), strict=True
            ):
                for k in range(len(example.chunks)):
                    choices[(line_no, offset + k)] = (ids[k], probs[k])
        return [
            self._render(line, chunks, i, choices)
            for i, (line, chunks) in enumerate(zip(lines, chunked, strict=True))
        ]

    def marked_share(self, chunked: list[list[Chunk]]) -> float:
        """Share of word chunks that are marked syllables of the vocabulary."""
        words = [c.core.lower() for chunks in chunked for c in chunks if not is_passthrough(c.core)]
        marked = sum(1 for w in words if w in self.vocab.index and not w.isascii())
        return marked / max(len(words), 1)

    def _pieces(self, chunked: list[list[Chunk]]) -> list[tuple[int, int, Example]]:
        """Split lines into windows of at most `max_chunks`, each with its neighbours as context."""
        windows: list[tuple[int, int, list[Chunk]]] = []
        for i, chunks in enumerate(chunked):
            for off in range(0, len(chunks), self.max_chunks):
                windows.append((i, off, chunks[off : off + self.max_chunks]))
        pieces = []
        for w, (i, off, chunks) in enumerate(windows):
            before = windows[w - 1][2] if w > 0 else []
            after = windows[w + 1][2] if w + 1 < len(windows) else []
            pieces.append((i, off, Example(chunks, before, after)))
        return pieces

    def _allowed(self, example: Example, steps: int) -> torch.Tensor:
        """Mask [steps, V] of allowed ids (<copy> only for pass-through chunks)."""
        cores = [c.core for c in example.chunks]
        rows = np.zeros((steps, len(self.vocab)), dtype=bool)
        rows[:, COPY_ID] = True
        live = [t for t, core in enumerate(cores) if not is_passthrough(core)]
        if live:
            rows[live] = self.mask.rows([cores[t] for t in live])
        return torch.from_numpy(rows)

    def _decode(self, pieces) -> list[tuple[list[int], list[float]]]:
        examples = [p[2] for p in pieces]
        cfg = self.model.config
        batch = make_batch(examples, cfg.n_buckets, cfg.context_chunks)
        steps = batch["line_index"].shape[1]
        allowed = torch.stack([self._allowed(ex, steps) for ex in examples])
        keep = None
        if self._keep_bias:
            own = torch.full((len(examples), steps), -1, dtype=torch.long)
            for b, ex in enumerate(examples):
                for t, chunk in enumerate(ex.chunks):
                    own[b, t] = self.vocab.index.get(chunk.core.lower(), -1)
            keep = (own, self._keep_bias)
        ids, probs = self.model.greedy(**batch, allowed=allowed, keep=keep)
        return [(ids[b].tolist(), probs[b].tolist()) for b in range(len(examples))]

    def _render(self, line: str, chunks: list[Chunk], i: int, choices) -> RestoredLine:
        tokens, parts = [], []
        for k, chunk in enumerate(chunks):
            idx, prob = choices.get((i, k), (COPY_ID, 1.0))
            core = chunk.core
            if idx not in (COPY_ID, PAD_ID, UNK_ID) and not is_passthrough(core):
                core = apply_case(chunk.core, self.vocab.token(idx))
            parts.append(chunk.space_before + chunk.prefix + core + chunk.suffix)
            if chunk.core:
                tokens.append(RestoredToken(chunk.core, core, round(float(prob), 4)))
        trailing = line[len(line.rstrip()) :] if line.strip() else line
        return RestoredLine(text="".join(parts) + trailing, source=line, tokens=tokens)


def load_restorer(model_dir: Path | None = None) -> Restorer:
    """Load the shipped restorer from `models/restorer` (or `model_dir`, or $VANBAN_MODEL_DIR)."""
    directory = Path(model_dir or os.environ.get("VANBAN_MODEL_DIR") or DEFAULT_MODEL_DIR)
    if not (directory / "config.json").exists():
        raise FileNotFoundError(f"{directory}: no restorer model (config.json missing)")
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    if (directory / "decoding.json").exists():
        from vanban.restore.hybrid import HybridRestorer

        return HybridRestorer.from_pretrained(directory)
    return ModelRestorer.from_pretrained(directory)
