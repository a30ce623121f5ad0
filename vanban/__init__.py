"""vanban: scanned Vietnamese government documents -> restored text -> structured JSON."""

__version__ = "0.1.0"
