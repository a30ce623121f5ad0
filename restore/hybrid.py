"""The shipped decoder: a beam search over the network's, the channel's and the LM's scores.

The seq2seq network sees the whole line and its neighbours; the syllable 4-gram LM (counted over
millions of corpus lines) and the learned channel see far more text than the network could be
trained on with 2 CPU cores. They are combined as a product of experts over each chunk's
candidate syllables:

    score(path) = sum_t [ channel(noisy_t | w_t) + nn_weight * log p_net(w_t | line, w_<t)
                          + lm_weight * log S(w_t | w_t-3 w_t-2 w_t-1) ]

`nn_weight` can depend on the batch's channel profile (`profile_nn_weight`): the network was
trained mostly on eng OCR noise, so in fresh vie OCR its expectation of eng's confusions gets
less weight. `log p_net` is read from one teacher-forced pass of the network given a first best
path (from a narrow LM + channel beam); `rounds` passes refine it. The beam search itself
(`restore.ngram.NgramRestorer._decode`) runs across line breaks, and each choice goes back to
its own line, so the output stays line-aligned and pass-through chunks stay unchanged.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from vanban.restore.batching import make_batch
from vanban.restore.candidates import CandidateGenerator, channel_profile
from vanban.restore.codes import load_table as load_codes
from vanban.restore.digits import load_table
from vanban.restore.ngram import NgramLM, NgramRestorer, _Slot, as_read
from vanban.restore.specials import BOS_ID, COPY_ID, UNK_ID

from vanban.core.records import RestoredLine
from vanban.core.text import normalize, split_chunks


class HybridRestorer:
    """`NgramRestorer`'s beam search with the network's log-probabilities as an extra score."""

    def __init__(
        self,
        network,  # restore.api.ModelRestorer: the network, its vocabulary and windowing
        decoder: NgramRestorer,
        nn_weight: float = 1.0,
        oov_logprob: float = -6.0,
        rounds: int = 1,
        channel_weight: float = 1.0,
        first_beam: int = 4,
        cache_weight: float = 0.0,
        profile_nn_weight: dict[str, float] | None = None,
    ):
        self.network = network
        self.decoder = decoder
        self.nn_weight = nn_weight
        self.oov_logprob = oov_logprob
        self.rounds = rounds
        self.channel_weight = channel_weight
        self.first_beam = first_beam
        self.cache_weight = cache_weight
        self.profile_nn_weight = profile_nn_weight or {}  # channel profile -> nn_weight

    @classmethod
    def from_pretrained(cls, directory: Path) -> HybridRestorer:
        """The network, `lm.npz` and `decoding.json` of a model folder, and the shipped channel
        (`models/lexicon`)."""
        from vanban.restore.api import ModelRestorer

        directory = Path(directory)
        settings = json.loads((directory / "decoding.json").read_text(encoding="utf-8"))
        network = ModelRestorer.from_pretrained(directory)
        lm = NgramLM.load(directory)
        lm.backoff = math.log(settings.get("backoff", 0.4))
        if settings.get("lm_smoothing") == "absolute-discounting":
            lm.use_discounting(tuple(settings["discounts"]))
        digits = load_table() if settings.get("digit_misreads", True) else None
        decoder = NgramRestorer(
            lm,
            CandidateGenerator.load(),
            digit_misreads=digits,
            code_segments=load_codes() if settings.get("code_segments", True) else None,
            lm_weight=settings.get("lm_weight", 1.0),
            candidates=settings.get("candidates", 24),
            beam=settings.get("beam", 16),
        )
        return cls(
            network,
            decoder,
            nn_weight=settings.get("nn_weight", 0.3),
            oov_logprob=settings.get("oov_logprob", -6.0),
            rounds=settings.get("rounds", 1),
            channel_weight=settings.get("channel_weight", 1.0),
            first_beam=settings.get("first_beam", 4),
            cache_weight=settings.get("cache_weight", 0.0),
            profile_nn_weight=settings.get("profile_nn_weight"),
        )

    def restore_lines(self, lines: list[str]) -> list[RestoredLine]:
        """Restore a batch (one document, ideally); one output line per input line."""
        profile = channel_profile(lines)
        slots, breaks = self.decoder.stream(lines, profile)
        nn_weight = self.profile_nn_weight.get(profile, self.nn_weight)
        if not nn_weight:
            choice, confidence = self.decoder._decode(slots, breaks)
        else:  # a narrow LM + channel pass gives the network its history
            choice, _ = self.decoder._decode(slots, breaks, beam=self.first_beam, confidence=False)
        for round_no in range(self.rounds if nn_weight else 0):
            nn = self.network_scores(lines, slots, choice)
            cache = self.cache_scores(slots, choice)
            scored = [
                replace(s, channel=self.channel_weight * s.channel + nn_weight * extra + c)
                for s, extra, c in zip(slots, nn, cache, strict=True)
            ]
            last = round_no == self.rounds - 1
            choice, confidence = self.decoder._decode(scored, breaks, confidence=last)
        return self.decoder.render_lines(lines, slots, choice, confidence)

    def cache_scores(self, slots: list[_Slot], choice: list[int]) -> list[np.ndarray]:
        """The document's own vocabulary as a prior: cache_weight x log of how often each
        option was chosen elsewhere in the batch (add-one, among the slot's options), so a
        term spelled out clearly in one place helps where it is ambiguous in another."""
        if not self.cache_weight:
            return [np.zeros(len(s.words)) for s in slots]
        counts = Counter(s.words[c] for s, c in zip(slots, choice, strict=True) if len(s.words) > 1)
        out = []
        for slot, c in zip(slots, choice, strict=True):
            if len(slot.words) < 2:
                out.append(np.zeros(len(slot.words)))
                continue
            seen = np.array([counts.get(w, 0) for w in slot.words], dtype=np.float64)
            seen[c] -= 1  # leave this slot's own choice out
            out.append(self.cache_weight * np.log((seen + 1.0) / (seen.sum() + len(seen))))
        return out

    # -- the network's view
    def _option_ids(self, slot: _Slot) -> list[int]:
        """Network output id of each option: its syllable, <copy> for the chunk as printed,
        or -1 when the network cannot say it (a rare syllable outside its vocabulary)."""
        index = self.network.vocab.index
        noisy = normalize(slot.chunk.core).lower()
        ids = []
        for word in slot.words:
            idx = index.get(word.lower())
            if idx is None:
                idx = COPY_ID if slot.fixed or word.lower() == noisy else -1
            ids.append(idx)
        return ids

    def network_scores(
        self, lines: list[str], slots: list[_Slot], choice: list[int]
    ) -> list[np.ndarray]:
        """log p_net of every option of every slot, the network fed `choice` as its history."""
        keys = [(s.line, s.position) for s in slots]
        chunked = [split_chunks(as_read(line)) if line.strip() else [] for line in lines]
        option_ids = [self._option_ids(s) for s in slots]
        prev_id: dict[tuple[int, int], int] = {}
        wanted: dict[tuple[int, int], int] = {}
        for t, (key, ids, c) in enumerate(zip(keys, option_ids, choice, strict=True)):
            if slots[t].piece >= 0:  # a joined chunk: the network read it as one unknown chunk
                prev_id[key] = COPY_ID
                continue
            prev_id[key] = ids[c] if ids[c] >= 0 else UNK_ID
            wanted[key] = t
        out = [np.zeros(len(s.words)) for s in slots]
        pieces = sorted(self.network._pieces(chunked), key=lambda p: len(p[2].chunks))
        cfg = self.network.model.config
        for start in range(0, len(pieces), self.network.batch_size):
            batch_pieces = pieces[start : start + self.network.batch_size]
            examples = [p[2] for p in batch_pieces]
            batch = make_batch(examples, cfg.n_buckets, cfg.context_chunks)
            steps = batch["line_index"].shape[1]
            prev = torch.full((len(examples), steps), COPY_ID, dtype=torch.long)
            prev[:, 0] = BOS_ID
            for b, (line_no, offset, ex) in enumerate(batch_pieces):
                for k in range(len(ex.chunks) - 1):
                    prev[b, k + 1] = prev_id.get((line_no, offset + k), COPY_ID)
            needed = [
                (b, k, s)
                for b, (line_no, offset, ex) in enumerate(batch_pieces)
                for k in range(len(ex.chunks))
                if (s := wanted.get((line_no, offset + k))) is not None
                and len(slots[s].words) > 1
                and not slots[s].chunk.core.isdigit()  # the network always copies digits
            ]
            if not needed:
                continue
            with torch.no_grad():
                states = self.network.model.hidden(**batch, prev_targets=prev)
                rows, cols = torch.tensor([(b, k) for b, k, _ in needed]).T
                logits = self.network.model.lm_head(states[rows, cols]).float()
                logp = torch.log_softmax(logits, -1).numpy()
            for row, (_, _, s) in zip(logp, needed, strict=True):
                ids = np.array(option_ids[s])
                out[s] = np.where(ids >= 0, row[np.maximum(ids, 0)], self.oov_logprob)
        return out
