"""Restore stage: a seq2seq model that puts back the Vietnamese marks OCR mangled."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vanban.restore.api import Restorer, load_restorer

__all__ = ["Restorer", "load_restorer"]


def __getattr__(name: str):
    """Import the model code (torch) only when it is used, not for vanban.core.text."""
    if name in __all__:
        from vanban.restore import api

        return getattr(api, name)
    raise AttributeError(f"module 'restore' has no attribute {name!r}")
