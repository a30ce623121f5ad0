"""The batch manifest of an output directory: which input made which outputs, how far it got.

Layout, chosen to survive `kill -9` at any moment:
- `vanban-manifest.json`: a snapshot, always replaced atomically (temp file + os.replace);
- `vanban-manifest.journal`: records appended (one JSON line, flushed and fsynced) as inputs finish,
  each written only after that input's outputs are in place.
Opening replays the journal over the snapshot (a torn last line is ignored), writes a new
snapshot and removes the journal; `close()` does the same at the end of a run. Entries hold no
timestamps, so a resumed run ends with the same manifest as an uninterrupted one.
Readers (index, search, export) use `read_entries` and `output_path`: no lock, nothing written.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from vanban.core.errors import VanbanError
from vanban.core.files import TEMP_PREFIX, atomic_write_json, sha256_file

MANIFEST_NAME = "vanban-manifest.json"
JOURNAL_NAME = "vanban-manifest.journal"
LOCK_NAME = ".vanban.lock"  # held (flock) while a run writes the directory; freed even by kill -9
MANIFEST_FORMAT = "vanban-manifest"
MANIFEST_VERSION = 2  # 2: entries carry `input_path`; version 1 is read and migrated
READABLE_VERSIONS = (1, MANIFEST_VERSION)


@dataclass
class Entry:
    """One input's record: identity of the input, stage reached, outputs and what made them."""

    name: str  # output name relative to the output directory, without suffix
    input: str  # the input as the user named it
    size: int
    sha256: str
    stage: str  # last stage reached; "done" when all outputs are written
    pipeline_version: str
    model_version: str
    options: dict
    outputs: dict[str, str] = field(default_factory=dict)  # kind -> path relative to outdir
    output_sha256: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    input_path: str = ""  # the input's absolute path: which file owns this name

    @classmethod
    def from_dict(cls, data: dict) -> Entry:
        """An entry; one of manifest version 1 gets `input_path` from its `input`, resolved
        against the working directory (where that run's relative paths were given)."""
        entry = cls(**{key: data[key] for key in cls.__dataclass_fields__ if key in data})
        if not entry.input_path:
            entry.input_path = str(Path(entry.input).resolve())
        return entry


class Manifest:
    """The manifest of one output directory; only the main process writes it."""

    def __init__(self, outdir: Path, entries: dict[str, Entry], lock=None):
        self.outdir = outdir
        self.entries = entries
        self._journal = None
        self._lock = lock

    @classmethod
    def open(cls, outdir: Path, *, replace_unreadable: bool = False) -> Manifest:
        """Open or create the manifest of `outdir`; raise VanbanError when outdir is not usable."""
        outdir = Path(outdir)
        _prepare_directory(outdir)
        path = outdir / MANIFEST_NAME
        if not path.exists() and _holds_foreign_files(outdir):
            raise VanbanError(
                str(outdir),
                f"not a vanban output directory (it holds other files and no {MANIFEST_NAME}); "
                "choose a new or empty directory",
            )
        lock = _lock_directory(outdir)
        try:
            entries = _load_snapshot(path) if path.exists() else {}
        except VanbanError:
            if not replace_unreadable:
                lock.close()
                raise
            entries = {}
        entries.update(_replay_journal(outdir / JOURNAL_NAME))
        manifest = cls(outdir, entries, lock)
        manifest.compact()
        return manifest

    def record(self, entry: Entry) -> None:
        """Append one finished input to the journal (durable before returning)."""
        self.entries[entry.name] = entry
        if self._journal is None:
            self._journal = open(self.outdir / JOURNAL_NAME, "a", encoding="utf-8")
        self._journal.write(json.dumps(asdict(entry), ensure_ascii=False) + "\n")
        self._journal.flush()
        os.fsync(self._journal.fileno())

    def compact(self) -> None:
        """Write the snapshot atomically, then drop the journal it now contains."""
        try:
            atomic_write_json(self.outdir / MANIFEST_NAME, self.to_dict())
        except OSError as error:
            raise VanbanError(str(self.outdir), _write_reason(error)) from error
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        (self.outdir / JOURNAL_NAME).unlink(missing_ok=True)

    def close(self) -> None:
        """Final snapshot; then let other runs use the directory."""
        self.compact()
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def to_dict(self) -> dict:
        return {
            "format": MANIFEST_FORMAT,
            "version": MANIFEST_VERSION,
            "entries": {name: asdict(self.entries[name]) for name in sorted(self.entries)},
        }

    def owners(self) -> dict[str, str]:
        """Output name -> absolute path of the input whose outputs it names."""
        return {name: entry.input_path for name, entry in self.entries.items()}

    def is_current(self, planned: Entry) -> bool:
        """True when `planned`'s input was already fully processed the same way, outputs intact."""
        entry = self.entries.get(planned.name)
        if entry is None or entry.stage != "done":
            return False
        same = (
            entry.input == planned.input
            and entry.input_path == planned.input_path
            and entry.size == planned.size
            and entry.sha256 == planned.sha256
            and entry.pipeline_version == planned.pipeline_version
            and entry.model_version == planned.model_version
            and entry.options == planned.options
        )
        return same and self._outputs_intact(entry)

    def _outputs_intact(self, entry: Entry) -> bool:
        for kind, relative in entry.outputs.items():
            try:
                path = output_path(self.outdir, relative)
            except VanbanError:
                return False
            if not path.is_file() or sha256_file(path) != entry.output_sha256.get(kind):
                return False
        return bool(entry.outputs)


def read_entries(outdir: Path) -> dict[str, Entry]:
    """The entries of OUTDIR's manifest as a reader sees them: the snapshot, with the journal of a
    running batch replayed over it; no lock taken, nothing written. VanbanError when OUTDIR has
    no readable manifest."""
    path = Path(outdir) / MANIFEST_NAME
    if not path.is_file():
        raise VanbanError(str(path), "no manifest")
    entries = _load_snapshot(path)
    try:
        entries.update(_replay_journal(Path(outdir) / JOURNAL_NAME))
    except OSError:
        pass  # a journal being removed by the writer's compaction: the snapshot has its entries
    return entries


def output_path(outdir: Path, relative: str) -> Path:
    """OUTDIR / relative, or VanbanError when it resolves outside OUTDIR ('../victim.txt')."""
    outdir = Path(outdir)
    path = outdir / relative
    if not path.resolve().is_relative_to(outdir.resolve()):
        raise VanbanError(str(path), f"output {relative!r} lies outside {outdir}; not read")
    return path


def _prepare_directory(outdir: Path) -> None:
    if outdir.exists() and not outdir.is_dir():
        raise VanbanError(str(outdir), "output path exists and is not a directory")
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise VanbanError(
            str(outdir), f"cannot create output directory: {error.strerror}"
        ) from error
    if not os.access(outdir, os.W_OK | os.X_OK):
        raise VanbanError(str(outdir), "output directory is not writable")


def _lock_directory(outdir: Path):
    """An exclusive lock on `outdir`, or VanbanError when another run holds it."""
    try:
        handle = open(outdir / LOCK_NAME, "a")
    except OSError as error:
        raise VanbanError(str(outdir), _write_reason(error)) from error
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as error:
        handle.close()
        raise VanbanError(
            str(outdir), "another vanban process is writing to this output directory"
        ) from error
    return handle


def _write_reason(error: OSError) -> str:
    return f"cannot write to output directory: {error.strerror or error}"


def _holds_foreign_files(outdir: Path) -> bool:
    return any(
        not child.name.startswith(TEMP_PREFIX) and child.name not in (JOURNAL_NAME, LOCK_NAME)
        for child in outdir.iterdir()
    )


def _load_snapshot(path: Path) -> dict[str, Entry]:
    """Entries of a snapshot; VanbanError for a corrupt file or another format version."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise VanbanError(
            str(path), f"corrupt manifest ({error}); delete it or re-run with --force"
        ) from error
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        raise VanbanError(str(path), "not a vanban manifest; delete it or re-run with --force")
    version = data.get("version")
    if version not in READABLE_VERSIONS:
        age = "an older" if isinstance(version, int) and version < MANIFEST_VERSION else "another"
        raise VanbanError(
            str(path),
            f"manifest from {age} vanban (format {version}, this vanban reads {MANIFEST_VERSION}); "
            "re-run with --force to redo everything, or use a new output directory",
        )
    try:
        return {name: Entry.from_dict(raw) for name, raw in data["entries"].items()}
    except (KeyError, TypeError, AttributeError) as error:
        raise VanbanError(
            str(path), f"corrupt manifest (bad entry: {error}); delete it or re-run with --force"
        ) from error


def _replay_journal(path: Path) -> dict[str, Entry]:
    """Entries appended since the last snapshot; a line torn by a kill is ignored."""
    entries: dict[str, Entry] = {}
    if not path.exists():
        return entries
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = Entry.from_dict(json.loads(line))
        except (json.JSONDecodeError, TypeError, AttributeError):
            continue
        entries[entry.name] = entry
    return entries
