"""Restore stage: puts back the Vietnamese marks and letters OCR mangled.

The one entry is `load_restorer()`; it imports the model code (torch) only when called.
"""

from vanban.restore.api import Restorer, load_restorer

__all__ = ["Restorer", "load_restorer"]
