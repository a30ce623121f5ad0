"""The restorer the pipeline uses: load the shipped model, restore lines one output per input."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from vanban.models import RESTORER_DIR

from vanban.core.records import RestoredLine

DEFAULT_MODEL_DIR = RESTORER_DIR
M_MMAP_THRESHOLD = -3  # glibc mallopt parameter
MMAP_THRESHOLD = 4 * 1024 * 1024  # the trade-off of memory against CPU: docs/BENCHMARKS.md


def pin_mmap_threshold() -> bool:
    """Keep glibc's mmap threshold at 4 MiB for the process, so that the network's big buffers
    (4 MiB and up) are always mapped and unmapped, never parked in the heap.

    glibc raises the threshold to the size of each mapped block freed (up to 32 MiB); the
    network's buffers then come from the main heap, whose freed holes glibc keeps: up to ~300 MB
    more peak RSS on 2,568 lines with the same live memory, how much more depending on the order
    of unrelated allocations (an import, a module split; docs/BENCHMARKS.md, issue 13). Setting the
    threshold, like MALLOC_MMAP_THRESHOLD_ in the environment, turns that raising off. A user's
    own MALLOC_MMAP_THRESHOLD_ is left alone; no-op off glibc. True when set here."""
    if os.environ.get("MALLOC_MMAP_THRESHOLD_") is not None:
        return False
    mallopt = _glibc("mallopt")
    return mallopt is not None and bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def release_memory() -> None:
    """Give back what restoring holds beside a loaded restorer, once the caller has dropped its
    Restorer: the module-level caches are cleared and glibc's heap trimmed (no-op elsewhere)."""
    import gc

    from vanban.restore.decoder.candidates import clear_caches as clear_candidate_caches
    from vanban.restore.network.features import clear_caches as clear_feature_caches

    clear_feature_caches()
    clear_candidate_caches()
    gc.collect()
    malloc_trim = _glibc("malloc_trim")
    if malloc_trim is not None:
        malloc_trim(0)


def _glibc(name: str):
    """The C library's function `name`, or None off glibc (macOS, Windows)."""
    try:
        import ctypes

        return getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError, TypeError):
        return None


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
    pin_mmap_threshold()
    if (directory / "decoding.json").exists():
        return HybridRestorer.from_pretrained(directory)
    return ModelRestorer.from_pretrained(directory)
