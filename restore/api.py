"""The restorer interface the pipeline uses (placeholder until the trained model lands)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from restore.text import normalize
from vanban.records import RestoredLine, RestoredToken


class Restorer(Protocol):
    def restore_lines(self, lines: list[str]) -> list[RestoredLine]:
        """Restore each line; exactly one output per input, in order."""
        ...


class NormalizingRestorer:
    """Placeholder: NFC + tone-style normalization only."""

    def restore_lines(self, lines: list[str]) -> list[RestoredLine]:
        out = []
        for line in lines:
            text = normalize(line)
            toks = [RestoredToken(a, b, 1.0) for a, b in zip(line.split(), text.split(), strict=False)]
            out.append(RestoredLine(text=text, source=line, tokens=toks))
        return out


def load_restorer(model_dir: Path | None = None) -> Restorer:
    """Load the shipped restorer from `models/` (or `model_dir`)."""
    return NormalizingRestorer()
