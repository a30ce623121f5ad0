"""Segment stage: restored lines -> document metadata, numbered sections, agency assignments."""

from segment.tree import load_schema, segment_document

__all__ = ["load_schema", "segment_document"]
