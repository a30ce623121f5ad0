"""Placeholder: the segment helper replaces this module."""

from __future__ import annotations

from vanban.records import TextLine


def segment_document(lines: list[TextLine], *, source: str) -> dict:
    """Return the JSON-ready document tree (document, sections, assignments)."""
    raise NotImplementedError


def load_schema() -> dict:
    raise NotImplementedError
