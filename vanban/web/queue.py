"""The review queue: every doubtful word of OUTDIR not reviewed yet, least confident first."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

from vanban.core.errors import VanbanError
from vanban.corrections import corrected_tree
from vanban.outputs import document_files, is_document_tree

DOUBTFUL_BELOW = 0.5  # as the pipeline's `tokens`: a word the restorer is unsure of


@dataclass(frozen=True, order=True)
class Doubt:
    """One doubtful word: sorted by confidence, then document and line."""

    confidence: float
    document: str  # JSON path relative to OUTDIR
    line: int
    token: int  # index in the line's `tokens`
    source: str  # as OCR printed it
    text: str  # as the restorer wrote it


def doubts_of(tree: dict, rel: str) -> list[Doubt]:
    out = []
    for item in tree.get("lines") or []:
        if not isinstance(item, dict):
            continue
        for k, token in enumerate(item.get("tokens") or []):
            if not isinstance(token, dict):
                continue
            confidence = token.get("confidence")
            if isinstance(confidence, int | float) and confidence < DOUBTFUL_BELOW:
                out.append(
                    Doubt(
                        float(confidence),
                        rel,
                        int(item.get("line") or 0),
                        k,
                        str(token.get("source") or ""),
                        str(token.get("text") or ""),
                    )
                )
    return out


class DoubtQueue:
    """Scans OUTDIR once in a background thread; a reviewed document is scanned again alone."""

    def __init__(self, outdir: Path):
        self.outdir = outdir
        self._by_doc: dict[str, list[Doubt]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.scanned = 0
        self.total = 0
        self.done = False

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._scan_all, daemon=True)
                self._thread.start()

    def wait(self, timeout: float | None = None) -> None:
        self.start()
        assert self._thread is not None
        self._thread.join(timeout)

    def _scan_all(self) -> None:
        try:
            files = document_files(self.outdir)
        except VanbanError:
            files = []
        self.total = len(files)
        for path in files:
            self.refresh(path.relative_to(self.outdir).as_posix())
            self.scanned += 1
        self.done = True

    def refresh(self, rel: str) -> None:
        """Re-read one document (after a review)."""
        try:
            tree = json.loads((self.outdir / rel).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            tree = None
        doubts = (
            doubts_of(corrected_tree(self.outdir, rel, tree), rel) if is_document_tree(tree) else []
        )
        with self._lock:
            if doubts:
                self._by_doc[rel] = doubts
            else:
                self._by_doc.pop(rel, None)

    def items(self, limit: int = 50) -> list[Doubt]:
        with self._lock:
            every = [d for doubts in self._by_doc.values() for d in doubts]
        return sorted(every)[:limit]

    def count(self) -> int:
        with self._lock:
            return sum(len(d) for d in self._by_doc.values())
