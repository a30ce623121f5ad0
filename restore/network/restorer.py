"""The network alone as a restorer: one greedy decoder step per OCR chunk, within a candidate
mask; and the network's log-probabilities of given options, for the shipped beam search."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from vanban.restore.config import DecodingConfig
from vanban.restore.network.batching import Example, make_batch
from vanban.restore.network.constraint import CandidateMask, load_confusions
from vanban.restore.network.features import apply_case, is_passthrough
from vanban.restore.network.runtime import RestorerNet
from vanban.restore.network.specials import BOS_ID, COPY_ID, PAD_ID, UNK_ID
from vanban.restore.network.vocab import OutputVocab
from vanban.restore.profile import network_profile

from vanban.core.records import RestoredLine, RestoredToken
from vanban.core.text import Chunk, split_chunks


class ModelRestorer:
    """The network alone: one greedy decoder step per OCR chunk, within the candidate mask.

    The shipped restorer (`restore.hybrid.HybridRestorer`) uses this class for the network's
    scores (`option_logprobs`); on its own it is the "network" ablation of
    `scripts/eval_restore.py`. In fresh vie OCR (`restore.profile.network_profile`) each
    chunk's own reading gets the profile's logit bonus, so only confident fixes are made.
    """

    def __init__(
        self,
        model: RestorerNet,  # or a restore.training.model.RestorerModel (training, tests)
        vocab: OutputVocab,
        mask: CandidateMask | None = None,
        batch_size: int = 64,
        config: DecodingConfig | None = None,
    ):
        self.model = model.eval()
        self.vocab = vocab
        self.mask = mask or CandidateMask(vocab.tokens)
        self.batch_size = batch_size
        self.config = config or DecodingConfig()
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
        words = [c.core.lower() for chunks in chunked for c in chunks if not is_passthrough(c.core)]
        keep_bias = network_profile(words, self.vocab.index, self.config).network_keep_bias
        pieces = self.windows(chunked)
        choices: dict[tuple[int, int], tuple[int, float]] = {}
        order = sorted(range(len(pieces)), key=lambda i: len(pieces[i][2].chunks))
        for start in range(0, len(order), self.batch_size):
            batch = [pieces[i] for i in order[start : start + self.batch_size]]
            for (line_no, offset, example), (ids, probs) in zip(
                batch, self._decode(batch, keep_bias), strict=True
            ):
                for k in range(len(example.chunks)):
                    choices[(line_no, offset + k)] = (ids[k], probs[k])
        return [
            self._render(line, chunks, i, choices)
            for i, (line, chunks) in enumerate(zip(lines, chunked, strict=True))
        ]

    def windows(self, chunked: list[list[Chunk]]) -> list[tuple[int, int, Example]]:
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

    def teacher_forced_logprobs(
        self, chunked: list[list[Chunk]], history: dict[tuple[int, int], int],
        wanted: dict[tuple[int, int], np.ndarray],
    ) -> dict[tuple[int, int], np.ndarray]:  # fmt: skip
        """log p_net of the output ids `wanted` at each chunk (line, index) of `wanted`, the
        decoder fed `history` (chunk -> output id; <copy> where absent) as its previous choices.
        Only those ids are kept: whole rows of every chunk of a long document would take GBs."""
        out: dict[tuple[int, int], np.ndarray] = {}
        pieces = sorted(self.windows(chunked), key=lambda p: len(p[2].chunks))
        cfg = self.model.config
        for start in range(0, len(pieces), self.batch_size):
            batch_pieces = pieces[start : start + self.batch_size]
            examples = [p[2] for p in batch_pieces]
            batch = make_batch(examples, cfg.n_buckets, cfg.context_chunks)
            steps = batch["line_index"].shape[1]
            prev = torch.full((len(examples), steps), COPY_ID, dtype=torch.long)
            prev[:, 0] = BOS_ID
            for b, (line_no, offset, ex) in enumerate(batch_pieces):
                for k in range(len(ex.chunks) - 1):
                    prev[b, k + 1] = history.get((line_no, offset + k), COPY_ID)
            needed = [
                (b, k, (line_no, offset + k))
                for b, (line_no, offset, ex) in enumerate(batch_pieces)
                for k in range(len(ex.chunks))
                if (line_no, offset + k) in wanted
            ]
            if not needed:
                continue
            with torch.no_grad():
                states = self.model.hidden(**batch, prev_targets=prev)
                rows, cols = torch.tensor([(b, k) for b, k, _ in needed]).T
                logits = self.model.lm_head(states[rows, cols]).float()
                logp = torch.log_softmax(logits, -1).numpy()
            for row, (_, _, key) in zip(logp, needed, strict=True):
                out[key] = row[wanted[key]]
        return out

    def _allowed(self, example: Example, steps: int) -> torch.Tensor:
        """Mask [steps, V] of allowed ids (<copy> only for pass-through chunks)."""
        cores = [c.core for c in example.chunks]
        rows = np.zeros((steps, len(self.vocab)), dtype=bool)
        rows[:, COPY_ID] = True
        live = [t for t, core in enumerate(cores) if not is_passthrough(core)]
        if live:
            rows[live] = self.mask.rows([cores[t] for t in live])
        return torch.from_numpy(rows)

    def _decode(self, pieces, keep_bias: float) -> list[tuple[list[int], list[float]]]:
        examples = [p[2] for p in pieces]
        cfg = self.model.config
        batch = make_batch(examples, cfg.n_buckets, cfg.context_chunks)
        steps = batch["line_index"].shape[1]
        allowed = torch.stack([self._allowed(ex, steps) for ex in examples])
        keep = None
        if keep_bias:
            own = torch.full((len(examples), steps), -1, dtype=torch.long)
            for b, ex in enumerate(examples):
                for t, chunk in enumerate(ex.chunks):
                    own[b, t] = self.vocab.index.get(chunk.core.lower(), -1)
            keep = (own, keep_bias)
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
