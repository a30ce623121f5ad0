"""Segment stage: restored lines -> document metadata, numbered sections, agency assignments."""

from vanban.segment.tree import SCHEMA_VERSION, load_schema, segment_document, segment_text

__all__ = ["SCHEMA_VERSION", "load_schema", "segment_document", "segment_text"]
