"""Output vocabulary of the restorer: lowercase syllables and frequent tokens, plus specials."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from vanban.restore.network.features import is_passthrough
from vanban.restore.network.specials import COPY_ID, SPECIAL_TOKENS, UNK_ID

from vanban.core.text import is_valid_syllable, split_chunks

IGNORE = -100  # target that carries no loss (gold not expressible by the vocabulary)


class OutputVocab:
    """Maps output tokens (lowercase syllables) to ids and back."""

    def __init__(self, tokens: list[str]):
        self.tokens = list(tokens)
        self.index = {t: i for i, t in enumerate(self.tokens)}

    def __len__(self) -> int:
        return len(self.tokens)

    @classmethod
    def build(
        cls, lines: Iterable[str], min_syllable: int = 3, min_other: int = 200, size: int = 12000
    ):
        """Valid syllables seen `min_syllable` times and other tokens seen `min_other` times."""
        counts: Counter[str] = Counter()
        for line in lines:
            counts.update(c.core.lower() for c in split_chunks(line) if c.core)
        keep = [
            (n, w) for w, n in counts.items()
            if not is_passthrough(w)
            and ((is_valid_syllable(w) and n >= min_syllable) or (n >= min_other and w.isalpha()))
        ]  # fmt: skip
        keep.sort(key=lambda x: (-x[0], x[1]))
        return cls(SPECIAL_TOKENS + [w for _, w in keep[: size - len(SPECIAL_TOKENS)]])

    def save(self, path: Path) -> None:
        path.write_text("\n".join(self.tokens) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> OutputVocab:
        return cls(path.read_text(encoding="utf-8").rstrip("\n").split("\n"))

    def target(self, noisy_core: str, gold_core: str) -> int:
        """Training target for a chunk: the gold syllable, <copy>, or IGNORE."""
        if is_passthrough(noisy_core):
            return COPY_ID
        idx = self.index.get(gold_core.lower())
        if idx is not None:
            return idx
        if gold_core == noisy_core:
            return COPY_ID
        return IGNORE

    def token(self, idx: int) -> str:
        return self.tokens[idx] if idx != UNK_ID else ""
