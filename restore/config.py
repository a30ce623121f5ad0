"""Decoding settings of the restorer: one dataclass, read from a model's `decoding.json`.

The defaults are the shipped model's values (`models/restorer/decoding.json` overrides them);
`DecodingConfig.ngram_baseline()` is the non-neural baseline of `scripts/eval_restore.py`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from pathlib import Path


@dataclass
class DecodingConfig:
    """Every weight, width and switch of the decoders (`restore.hybrid`, `restore.decoder`,
    `restore.network.restorer`)."""

    decoder: str = "hybrid-beam"  # informational: the decoder the weights were tuned for
    # the beam search (restore.decoder.beam)
    lm_weight: float = 1.0  # weight of the LM's log-probability
    channel_weight: float = 1.0  # weight of the channel's log P(noisy | option)
    nn_weight: float = 0.5  # weight of the network's log-probability; 0: network off
    profile_nn_weight: dict[str, float] = field(default_factory=lambda: {"vie": 0.25})
    cache_weight: float = 0.3  # weight of the document's own choices as a prior
    oov_logprob: float = -6.0  # network score of an option outside its vocabulary
    rounds: int = 1  # network passes, each fed the previous best path
    beam: int = 16  # states kept per slot
    first_beam: int = 4  # the narrow LM + channel pass that gives the network its history
    candidates: int = 24  # options per chunk from the candidate generator
    # options of a chunk (restore.decoder.restorer)
    keep_penalty: float = -15.0  # score of keeping a word that is not in the inventory
    vie_keep_bonus: float = 5.0  # added to keep_penalty in fresh vie OCR
    vie_change_penalty: float = -4.0  # fresh vie OCR: added to options replacing inventory words
    digit_misreads: bool = True  # eng OCR's digits printed for words (restore.rules.digits)
    code_segments: bool = True  # Đ put back into code segments (restore.rules.codes)
    keep_foreign: bool = True  # text that is not Vietnamese left as printed (rules.foreign)
    # the LM (restore.decoder.lm)
    lm_smoothing: str = "absolute-discounting"  # or "stupid-backoff"
    discounts: tuple[float, ...] = (0.75, 0.8, 0.9)  # absolute discounting, bigrams up
    backoff: float = 0.2  # stupid backoff's factor
    # the network alone (restore.network.restorer)
    network_keep_bias: float = 6.0  # fresh vie OCR: logit bonus of each chunk's own reading

    @classmethod
    def from_dict(cls, data: dict) -> DecodingConfig:
        """Settings from a parsed `decoding.json`; keys it lacks keep their defaults."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown decoding settings: {', '.join(unknown)}")
        values = dict(data)
        if "discounts" in values:
            values["discounts"] = tuple(values["discounts"])
        return cls(**values)

    @classmethod
    def load(cls, path: Path) -> DecodingConfig:
        """Read a `decoding.json`."""
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    @classmethod
    def ngram_baseline(cls) -> DecodingConfig:
        """The non-neural baseline: trigram LM with stupid backoff, no network."""
        return replace(
            cls(), lm_weight=0.9, nn_weight=0.0, profile_nn_weight={}, cache_weight=0.0,
            lm_smoothing="stupid-backoff", backoff=0.4,
        )  # fmt: skip
