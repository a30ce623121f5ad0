"""Digits eng OCR printed for words in running text: "tỷ 18" (lệ), "co 50" (sở), "461 với" (đối).

A token of 1-3 digits between lowercase words (or closing a clause: "người lầm 16.") may be a
word. It gets the syllables it can be read as: the learned channel's candidates
(`restore.decoder.candidates`: 16 -> lộ, 13 -> là) and the syllables whose letters the digits look
like
(`READS_AS`, from the aligned real pairs of seed 000 part 1: 6 for o/ó/ổ/ộ and đ, 4 for a/á and
đ, 1 for l, 3 for à/ã, 0 for ủ/ò, 9 for ộ; and the issue's 5 for s, 8 for ệ). In the beam search
each such word pays `margin` against keeping the number, so the LM (and the network) must prefer
it by a wide margin; the number is the default. A replaced digit is always flagged
(`restore.rules.code_repair.FLAGGED`).

A digit that reads as a number never competes: one after a word that takes a number (ngày, số,
khoản, điều, năm, tháng, từ, đến, hơn ...) or before a word counted or measured (tháng, năm,
triệu, tuổi, giờ, lần, km ...). Both lists come from the LM's counts: a word after
which the number class follows at least `NUMBER_SHARE` of the time, and a word that follows the
number class at least that share of its occurrences.
"""

from __future__ import annotations

from itertools import product

import numpy as np
import regex

from vanban.core.text import Chunk, is_valid_syllable

READS_AS = {"0": ("o", "u"), "1": ("l", "i", "t"), "3": ("a",), "4": ("a", "d"),
            "5": ("s", "o"), "6": ("o", "d", "b", "oi"), "7": ("t",), "8": ("e", "a", "o"),
            "9": ("o", "g")}  # fmt: skip
NUMBER_SHARE = 0.1
MARGIN = 6.0  # tuned on heldout-tune (scripts/eval_restore.py --sets heldout-tune)
CHANNEL_SHARE = 0.5  # weight of the channel's preference among a digit's readings
MAX_READINGS = 16
_DIGITS = regex.compile(r"\d{1,3}")
_LOWER_WORD = regex.compile(r"\p{Ll}+")
_CLAUSE_END = {",", ".", ";", ":"}


def running_digit(chunk: Chunk, before: Chunk | None, after: Chunk | None) -> bool:
    """A bare 1-3 digit token right after a lowercase word, followed by a lowercase word or
    closing a clause with , . ; or :."""
    if not _DIGITS.fullmatch(chunk.core) or chunk.prefix or before is None:
        return False
    if not _LOWER_WORD.fullmatch(before.core) or before.suffix:
        return False
    if chunk.suffix:
        return chunk.suffix in _CLAUSE_END
    return after is not None and bool(_LOWER_WORD.fullmatch(after.core)) and not after.prefix


class DigitWords:
    """Candidate words for running digits, with the LM's number-context guard."""

    def __init__(self, lm, margin: float = MARGIN):
        self.lm = lm
        self.margin = margin
        self.takes_number, self.counted = number_contexts(lm)

    def options(
        self, chunk: Chunk, before: Chunk, after: Chunk | None, generator
    ) -> tuple[list[str], list[int], list[float]] | None:
        """(words, LM ids, scores): the number first (score 0), then its readings as words."""
        if self.lm.index.get(before.core.lower()) in self.takes_number:
            return None
        if after is not None and not chunk.suffix:
            if self.lm.index.get(after.core.lower()) in self.counted:
                return None
        readings = self.readings(chunk.core, generator)
        if not readings:
            return None
        best = max(score for _, score in readings)
        words = [chunk.core] + [w for w, _ in readings]
        ids = [NUM_ID] + [self.lm.index[w] for w, _ in readings]
        scores = [0.0] + [-self.margin + CHANNEL_SHARE * (s - best) for _, s in readings]
        return words, ids, scores

    def readings(self, digits: str, generator) -> list[tuple[str, float]]:
        """Syllables the digits may stand for, with the channel's log P(digits | syllable)."""
        found = {w for w, _ in generator.candidates(digits, MAX_READINGS)}
        for letters in product(*(READS_AS.get(d, ()) for d in digits)):
            found.update(generator.by_base.get("".join(letters), ()))
        words = [w for w in found if w in self.lm.index and is_valid_syllable(w)]
        prior = generator.log_prior
        words.sort(key=lambda w: -prior.get(w, -30.0))
        return [(w, generator.channel.logprob(digits, w)) for w in words[:MAX_READINGS]]


NUM_ID = 2  # restore.decoder.lm.NUM: the LM's number class


def number_contexts(lm) -> tuple[set[int], set[int]]:
    """LM ids of words followed by a number at least NUMBER_SHARE of the time, and of words
    that follow a number at least that share of their occurrences."""
    size = lm.size
    first, second = lm.bi_keys // size, lm.bi_keys % size
    before = np.zeros(size)
    after = np.zeros(size)
    np.add.at(before, first[second == NUM_ID], lm.bi_counts[second == NUM_ID])
    np.add.at(after, second[first == NUM_ID], lm.bi_counts[first == NUM_ID])
    uni = np.maximum(lm.uni.astype(np.float64), 1.0)
    takes = set(np.flatnonzero(before / uni >= NUMBER_SHARE).tolist())
    counted = set(np.flatnonzero(after / uni >= NUMBER_SHARE).tolist())
    return takes - {NUM_ID}, counted - {NUM_ID}
