"""What kind of text a batch is, and every decoding setting that depends on it.

`choose_profile(lines, config)` is the one place the kind is decided for the decoder. Kinds:

- `default`: legacy English-data (eng) OCR: marks lost or misread (ộ -> 6, ư -> ir, đ -> P);
- `vie`: fresh OCR with Tesseract's vie data: most words carry correct marks;
- `plain`: text typed without marks.

Words printed in capitals are not a profile: within any profile they are read with the capitals
channels (`CandidateGenerator.for_capitals`) and no vie change penalty
(`restore.decoder.restorer`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import regex
from vanban.restore.config import DecodingConfig
from vanban.restore.decoder.channel import DEFAULT_WEIGHTS

DEFAULT, VIE, PLAIN = "default", "vie", "plain"
# Channel mixture weights of each profile (the model card says how they were chosen).
CHANNEL_WEIGHTS: dict[str, dict[str, float]] = {
    DEFAULT: DEFAULT_WEIGHTS,
    VIE: {"vie": 1.0},
    PLAIN: {"eng": 0.2, "vie": 0.05, "strip": 0.75},
}
VIE_PROFILE_SHARE = 0.25  # words with a letter beyond Latin-1 (ư, ộ, đ...): fresh vie OCR
PLAIN_PROFILE_SHARE = 0.01  # words with any accented letter, below which text is `plain`
PLAIN_MIN_WORDS = 20  # fewer words cannot tell `plain` from `default`
# The network-alone decoder's own test for fresh vie OCR (see `network_profile`).
NETWORK_VIE_SHARE = 0.4  # words that are marked syllables of the network's vocabulary
_LETTERS = regex.compile(r"\p{L}+")


@dataclass(frozen=True)
class Profile:
    """Every per-profile decoding setting."""

    name: str
    channel_weights: Mapping[str, float]  # mixture weights of the channel
    keep_bonus: float = 0.0  # added to `keep_penalty` (keeping a word outside the inventory)
    change_penalty: float = 0.0  # added to each option that replaces a word of the inventory
    digit_misreads: bool = True  # digits may be words eng OCR misread (restore.rules.digits)
    keep_acronyms: bool = False  # OCR that keeps marks: a capital word without any is an acronym
    horn_marks: bool = False  # a ? ’ or ' right after a word may be the horn of its ư/ơ
    nn_weight: float = 0.0  # weight of the network's scores in the beam search
    network_keep_bias: float = 0.0  # the network alone: logit bonus of a chunk's own reading


def make_profile(name: str, config: DecodingConfig) -> Profile:
    """The settings of profile `name` under `config`."""
    vie = name == VIE
    return Profile(
        name=name,
        channel_weights=CHANNEL_WEIGHTS[name],
        keep_bonus=config.vie_keep_bonus if vie else 0.0,
        change_penalty=config.vie_change_penalty if vie else 0.0,
        digit_misreads=not vie,
        keep_acronyms=vie,
        horn_marks=name == DEFAULT,
        nn_weight=config.profile_nn_weight.get(name, config.nn_weight),
        network_keep_bias=config.network_keep_bias if vie else 0.0,
    )


def detect_profile(lines: Iterable[str]) -> str:
    """'vie' when a good share of the words carry Vietnamese letters beyond Latin-1 (ư, ộ, đ...)
    as fresh vie OCR does; 'plain' when (almost) no word has an accented letter (text typed
    without marks); 'default' otherwise (legacy eng OCR)."""
    words = [w for line in lines for w in _LETTERS.findall(line)]
    if not words:
        return DEFAULT
    rich = sum(1 for w in words if any(ord(ch) > 0xFF for ch in w)) / len(words)
    accented = sum(1 for w in words if any(ord(ch) > 0x7F for ch in w)) / len(words)
    if rich >= VIE_PROFILE_SHARE:
        return VIE
    if accented < PLAIN_PROFILE_SHARE and len(words) >= PLAIN_MIN_WORDS:
        return PLAIN
    return DEFAULT


def choose_profile(lines: Iterable[str], config: DecodingConfig) -> Profile:
    """The profile of a batch (one document, ideally), for the decoder."""
    return make_profile(detect_profile(lines), config)


def network_profile(
    words: list[str], vocabulary: Mapping[str, int], config: DecodingConfig
) -> Profile:
    """The profile the network-alone decoder uses: `vie` when at least `NETWORK_VIE_SHARE` of the
    word chunks (lowercase) are marked syllables of its vocabulary, else `default`. This test is
    older than `detect_profile` and kept for that decoder's numbers (the model card compares
    the two)."""
    marked = sum(1 for w in words if w in vocabulary and not w.isascii())
    share = marked / max(len(words), 1)
    return make_profile(VIE if share >= NETWORK_VIE_SHARE else DEFAULT, config)
