"""Restore stage: a seq2seq model that puts back the Vietnamese marks OCR mangled."""

from restore.api import Restorer, load_restorer

__all__ = ["Restorer", "load_restorer"]
