"""The restorer the pipeline uses: load the shipped model, restore lines one output per input."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from vanban.models import RESTORER_DIR

from vanban.core.records import RestoredLine

DEFAULT_MODEL_DIR = RESTORER_DIR


class Restorer(Protocol):
    def restore_lines(self, lines: list[str]) -> list[RestoredLine]:
        """Restore each line; exactly one output per input, in order."""
        ...


def load_restorer(model_dir: Path | None = None) -> Restorer:
    """Load the shipped restorer from `models/restorer` (or `model_dir`, or $VANBAN_MODEL_DIR):
    the hybrid beam search when the folder has a `decoding.json`, else the network alone."""
    import torch
    from vanban.restore.hybrid import HybridRestorer
    from vanban.restore.network.restorer import ModelRestorer

    directory = Path(model_dir or os.environ.get("VANBAN_MODEL_DIR") or DEFAULT_MODEL_DIR)
    if not (directory / "config.json").exists():
        raise FileNotFoundError(f"{directory}: no restorer model (config.json missing)")
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    if (directory / "decoding.json").exists():
        return HybridRestorer.from_pretrained(directory)
    return ModelRestorer.from_pretrained(directory)
