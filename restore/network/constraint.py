"""Which output syllables a noisy chunk may become: close in letters once marks are ignored.

A candidate is allowed when the edit distance between the mark-stripped candidate and the
mark-stripped chunk (digits and symbols OCR puts for letters mapped back: 6 -> o, 1 -> l, & -> o)
is small: at most 1 for chunks of up to two letters, 2 for longer ones. Distances to the whole
vocabulary are computed at once (rapidfuzz, C speed) and cached per chunk, so the decoder can
never emit a syllable unrelated to what was printed.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from vanban.restore.network.specials import COPY_ID, UNK_ID

from vanban.core.text import strip_marks

_OCR_LETTERS = str.maketrans({"6": "o", "0": "o", "1": "l", "&": "o", "¢": "d", "@": "a", "$": "s"})


def letter_skeleton(core: str) -> str:
    """Lowercase, marks stripped, OCR digit/symbol look-alikes mapped to letters."""
    return strip_marks(core.lower()).translate(_OCR_LETTERS)


class CandidateMask:
    """Boolean rows over the output vocabulary, one per noisy chunk."""

    def __init__(
        self,
        tokens: list[str],
        confusions: dict[str, list[str]] | None = None,
        cache_size: int = 200_000,
    ):
        self.skeletons = [letter_skeleton(t) if i > UNK_ID else "\0" for i, t in enumerate(tokens)]
        self.size = len(tokens)
        index = {t: i for i, t in enumerate(tokens)}
        self.extra = {
            noisy: [index[g] for g in golds if g in index]
            for noisy, golds in (confusions or {}).items()
        }  # learned readings too far for the distance rule: "g" -> "ứng", "lwge" -> "lược"
        self.row = lru_cache(maxsize=cache_size)(self._row)

    @staticmethod
    def max_distance(skeleton: str) -> int:
        return 1 if len(skeleton) <= 2 else 2

    def _row(self, core: str) -> np.ndarray:
        skel = letter_skeleton(core)
        dist = process.cdist(
            [skel], self.skeletons, scorer=Levenshtein.distance,
            score_cutoff=self.max_distance(skel) + 1, dtype=np.int32,
        )[0]  # fmt: skip
        row = dist <= self.max_distance(skel)
        row[: UNK_ID + 1] = False
        row[COPY_ID] = True
        row[self.extra.get(core, [])] = True
        return row

    def rows(self, cores: list[str]) -> np.ndarray:
        return np.stack([self.row(c) for c in cores]) if cores else np.zeros((0, self.size), bool)


def load_confusions(path) -> dict[str, list[str]]:
    """Read `noisy<TAB>gold<TAB>count` rows into noisy -> [gold, ...]."""
    table: dict[str, list[str]] = {}
    if path.exists():
        for row in path.read_text(encoding="utf-8").splitlines():
            noisy, gold, _ = row.split("\t")
            table.setdefault(noisy, []).append(gold)
    return table
