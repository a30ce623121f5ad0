"""The shipped restorer: one beam search over the network's, the channel's and the LM's scores.

The seq2seq network sees the whole line and its neighbours; the syllable 4-gram LM and the
learned channel see far more text than the network could be trained on. They are combined as a
product of experts over each chunk's candidate syllables:

    score(path) = sum_t [ channel_weight * channel(noisy_t | w_t)
                          + nn_weight * log p_net(w_t | line, w_<t)
                          + lm_weight * log S(w_t | w_t-3 w_t-2 w_t-1)
                          + cache_weight * log (how often w_t was chosen elsewhere) ]

`nn_weight` is the batch profile's (`restore.profile`). `log p_net` is read from one
teacher-forced pass of the network given a first best path (from a narrow LM + channel beam);
`rounds` passes refine it. The beam search is `restore.decoder.beam.beam_search`.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
from vanban.restore.config import DecodingConfig
from vanban.restore.decoder.beam import Slot
from vanban.restore.decoder.candidates import CandidateGenerator
from vanban.restore.decoder.lines import as_read
from vanban.restore.decoder.lm import NgramLM
from vanban.restore.decoder.restorer import NgramRestorer
from vanban.restore.network.restorer import ModelRestorer
from vanban.restore.network.specials import COPY_ID, UNK_ID
from vanban.restore.profile import choose_profile
from vanban.restore.rules.codes import load_table as load_codes
from vanban.restore.rules.digits import load_table as load_digits

from vanban.core.records import RestoredLine
from vanban.core.text import normalize, split_chunks


class HybridRestorer:
    """`NgramRestorer`'s beam search with the network's log-probabilities as an extra score."""

    def __init__(
        self, network: ModelRestorer, decoder: NgramRestorer, config: DecodingConfig | None = None
    ):
        self.network = network
        self.decoder = decoder
        self.config = config or decoder.config

    @classmethod
    def from_pretrained(cls, directory: Path) -> HybridRestorer:
        """The network, `lm.npz` and `decoding.json` of a model folder, and the shipped channel
        (`models/lexicon`)."""
        directory = Path(directory)
        config = DecodingConfig.load(directory / "decoding.json")
        network = ModelRestorer.from_pretrained(directory, config=config)
        lm = NgramLM.load(directory)
        lm.backoff = math.log(config.backoff)
        if config.lm_smoothing == "absolute-discounting":
            lm.use_discounting(config.discounts)
        decoder = NgramRestorer(
            lm,
            CandidateGenerator.load(),
            config,
            digit_misreads=load_digits() if config.digit_misreads else None,
            code_segments=load_codes() if config.code_segments else None,
        )
        return cls(network, decoder, config)

    def restore_lines(self, lines: list[str]) -> list[RestoredLine]:
        """Restore a batch (one document, ideally); one output line per input line."""
        config = self.config
        profile = choose_profile(lines, config)
        slots, breaks = self.decoder.stream(lines, profile)
        nn_weight = profile.nn_weight
        if not nn_weight:
            choice, confidence = self.decoder.decode(slots, breaks)
        else:  # a narrow LM + channel pass gives the network its history
            choice, _ = self.decoder.decode(slots, breaks, beam=config.first_beam, confidence=False)
        for round_no in range(config.rounds if nn_weight else 0):
            nn = self.network_scores(lines, slots, choice)
            cache = self.cache_scores(slots, choice)
            scored = [
                replace(s, channel=config.channel_weight * s.channel + nn_weight * extra + c)
                for s, extra, c in zip(slots, nn, cache, strict=True)
            ]
            last = round_no == config.rounds - 1
            choice, confidence = self.decoder.decode(scored, breaks, confidence=last)
        return self.decoder.render_lines(lines, slots, choice, confidence)

    def cache_scores(self, slots: list[Slot], choice: list[int]) -> list[np.ndarray]:
        """The document's own vocabulary as a prior: cache_weight x log of how often each
        option was chosen elsewhere in the batch (add-one, among the slot's options), so a
        term spelled out clearly in one place helps where it is ambiguous in another."""
        weight = self.config.cache_weight
        if not weight:
            return [np.zeros(len(s.words)) for s in slots]
        counts = Counter(s.words[c] for s, c in zip(slots, choice, strict=True) if len(s.words) > 1)
        out = []
        for slot, c in zip(slots, choice, strict=True):
            if len(slot.words) < 2:
                out.append(np.zeros(len(slot.words)))
                continue
            seen = np.array([counts.get(w, 0) for w in slot.words], dtype=np.float64)
            seen[c] -= 1  # leave this slot's own choice out
            out.append(weight * np.log((seen + 1.0) / (seen.sum() + len(seen))))
        return out

    # -- the network's view
    def _option_ids(self, slot: Slot) -> list[int]:
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
        self, lines: list[str], slots: list[Slot], choice: list[int]
    ) -> list[np.ndarray]:
        """log p_net of every option of every slot, the network fed `choice` as its history."""
        chunked = [split_chunks(as_read(line)) if line.strip() else [] for line in lines]
        option_ids = [self._option_ids(s) for s in slots]
        history: dict[tuple[int, int], int] = {}
        wanted: dict[tuple[int, int], int] = {}
        for t, (slot, ids, c) in enumerate(zip(slots, option_ids, choice, strict=True)):
            key = (slot.line, slot.position)
            if slot.piece >= 0:  # a joined chunk: the network read it as one unknown chunk
                history[key] = COPY_ID
                continue
            history[key] = ids[c] if ids[c] >= 0 else UNK_ID
            if len(slot.words) > 1 and not slot.chunk.core.isdigit():  # the network copies digits
                wanted[key] = t
        out = [np.zeros(len(s.words)) for s in slots]
        ids = {key: np.array(option_ids[t]) for key, t in wanted.items()}
        scores = self.network.teacher_forced_logprobs(
            chunked, history, {key: np.maximum(i, 0) for key, i in ids.items()}
        )
        for key, found in scores.items():
            out[wanted[key]] = np.where(ids[key] >= 0, found, self.config.oov_logprob)
        return out
