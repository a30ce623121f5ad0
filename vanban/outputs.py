"""Read a vanban output directory: its document JSON files, through the batch manifest.

Index, search and export read OUTDIR only through this module. The manifest (`vanban.manifest`)
lists the documents when it is readable; otherwise every *.json below OUTDIR that is a document
tree counts, so a folder of outputs copied without its manifest still reads.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from vanban.core.errors import VanbanError
from vanban.corrections import corrected_tree
from vanban.manifest import MANIFEST_NAME, output_path, read_entries

ROLES = ("lead", "support", "executors")
ROLE_NAMES = {"lead": "lead", "support": "support", "executors": "executor"}
# JSON files of OUTDIR that are never documents (the .jsonl name is an early manifest's).
NOT_DOCUMENTS = (MANIFEST_NAME, "vanban-manifest.jsonl")
SNIFF_FILES = 50  # without a manifest, one of the first this many *.json must be a document


@dataclass
class OutputDocument:
    """One document of a vanban output directory: its JSON tree and where it lives."""

    path: Path  # the <name>.json file
    rel: str  # path relative to the OUTDIR
    tree: dict

    @property
    def meta(self) -> dict:
        return self.tree.get("document") or {}

    @property
    def sections(self) -> list[dict]:
        return [s for s in self.tree.get("sections") or [] if isinstance(s, dict)]

    @property
    def assignments(self) -> list[dict]:
        return [a for a in self.tree.get("assignments") or [] if isinstance(a, dict)]

    @property
    def source(self) -> str:
        return str(self.tree.get("source") or self.rel)

    def text_lines(self) -> list[tuple[int, int | None, str]]:
        """Restored lines (line, page, text): from the JSON `lines`, else the sibling <name>.txt."""
        lines = self.tree.get("lines")
        if isinstance(lines, list) and lines:
            out = []
            for k, item in enumerate(lines, start=1):
                if isinstance(item, dict):
                    out.append(
                        (int(item.get("line") or k), item.get("page"), str(item.get("text") or ""))
                    )
            return out
        txt = self.path.with_suffix(".txt")
        if txt.is_file():
            text = txt.read_text(encoding="utf-8", errors="replace")
            return [(k, None, line) for k, line in enumerate(text.split("\n"), start=1)]
        return []


class NotADocument(VanbanError):
    """Valid JSON that is no vanban document tree: skipped when scanning a directory."""


def is_document_tree(data: object) -> bool:
    return isinstance(data, dict) and isinstance(data.get("document"), dict) and "sections" in data


def document_files(outdir: Path, errors: list[VanbanError] | None = None) -> list[Path]:
    """The document JSON files of OUTDIR (sorted), or VanbanError when it is not a vanban output.

    The batch manifest names them when it is readable; without one every *.json below OUTDIR
    (hidden folders and nested output dirs skipped) is a candidate, and one of the first
    SNIFF_FILES must be a document tree. A file that resolves outside OUTDIR is not read: it goes
    to `errors` (raises when None).
    """
    if not outdir.is_dir():
        raise VanbanError(str(outdir), "not a directory")
    try:
        entries = read_entries(outdir)
    except VanbanError:
        entries = None
    if entries is not None:
        listed = [e.outputs.get("json") for e in entries.values() if isinstance(e.outputs, dict)]
        return _inside(outdir, [r for r in listed if isinstance(r, str)], errors)
    files = _inside(outdir, [p.relative_to(outdir).as_posix() for p in _json_files(outdir)], errors)
    if not any(_looks_like_document(p) for p in files[:SNIFF_FILES]):
        raise VanbanError(
            str(outdir), f"not a vanban output directory (no {MANIFEST_NAME}, no document JSON)"
        )
    return files


def _inside(outdir: Path, relatives: list[str], errors: list[VanbanError] | None) -> list[Path]:
    """The existing files among OUTDIR/relative, sorted; one that resolves outside OUTDIR (a
    '../' path or a symbolic link) goes to `errors` (raises when None)."""
    paths = set()
    for relative in relatives:
        try:
            paths.add(output_path(outdir, relative))
        except VanbanError as exc:
            if errors is None:
                raise
            errors.append(exc)
    return sorted(p for p in paths if p.is_file())


def _json_files(outdir: Path) -> Iterator[Path]:
    """*.json below OUTDIR, skipping hidden folders and nested output dirs (own manifest)."""
    for root, dirs, files in os.walk(outdir):
        dirs[:] = sorted(
            d for d in dirs
            if not d.startswith(".") and not (Path(root) / d / MANIFEST_NAME).exists()
        )  # fmt: skip
        for name in files:
            if name.endswith(".json") and name not in NOT_DOCUMENTS and not name.startswith("."):
                yield Path(root) / name


def _looks_like_document(path: Path) -> bool:
    try:
        return is_document_tree(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return False


def load_document(path: Path, outdir: Path) -> OutputDocument:
    """Parse one <name>.json, with the reviewers' corrections (vanban.corrections) applied;
    VanbanError when it is unreadable or not a vanban document tree."""
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise VanbanError(
            str(path), f"unreadable document JSON ({exc.__class__.__name__})"
        ) from None
    if not is_document_tree(data):
        raise NotADocument(str(path), "not a vanban document (no 'document' and 'sections')")
    rel = path.relative_to(outdir).as_posix()
    return OutputDocument(path, rel, corrected_tree(outdir, rel, data))


def iter_documents(
    outdir: Path, errors: list[VanbanError] | None = None, files: list[Path] | None = None
) -> Iterator[OutputDocument]:
    """Every document of OUTDIR (or of its `files`) in path order; bad files go to `errors`
    (or raise when None)."""
    for path in document_files(outdir, errors) if files is None else files:
        try:
            yield load_document(path, outdir)
        except NotADocument:
            continue
        except VanbanError as exc:
            if errors is None:
                raise
            errors.append(exc)


def agency_names(agency: object) -> tuple[str, str, str]:
    """(printed name, canonical name, id) of an agency item, tolerating plain strings."""
    if isinstance(agency, dict):
        name = str(agency.get("name") or agency.get("canonical") or "")
        return name, str(agency.get("canonical") or name), str(agency.get("id") or "")
    return str(agency), str(agency), ""
