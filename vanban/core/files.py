"""File helpers: atomic writes, the one JSON layout, hashing, stale temp-file clean-up."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

TEMP_PREFIX = ".vanban-tmp-"
DEFAULT_DATA_DIR = "work_data"  # relative to the working directory; ignored by git


def data_dir() -> Path:
    """The folder for training data and work files: $VANBAN_DATA, else ./work_data."""
    return Path(os.environ.get("VANBAN_DATA") or DEFAULT_DATA_DIR)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path`: readers see the old file or the whole new one, never a part."""
    path = Path(path)
    fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_open(path: Path) -> Iterator[TextIO]:
    """A UTF-8 text handle whose content replaces `path` atomically when the block ends without
    an error (written piece by piece: for outputs too large to build as one string)."""
    path = Path(path)
    fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Atomically write UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, data: object) -> None:
    """Atomically write `data` as pretty, deterministic UTF-8 JSON (one trailing newline)."""
    atomic_write_text(path, json_text(data))


def json_text(data: object) -> str:
    """The one JSON layout vanban writes: indented, real Unicode, trailing newline."""
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def sha256_file(path: Path, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def hash_tree(
    folders: dict[str, Path], skip_suffixes: tuple[str, ...] = (".md", ".py", ".pyc")
) -> str:
    """Hex SHA-256 over the names and bytes of every file in `folders` (label -> folder), in a
    stable order; documentation and code files are skipped."""
    digest = hashlib.sha256()
    for label, folder in sorted(folders.items()):
        for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
            if path.suffix in skip_suffixes or "__pycache__" in path.parts:
                continue
            digest.update(f"{label}/{path.relative_to(folder).as_posix()}\0".encode())
            digest.update(sha256_file(path).encode())
    return digest.hexdigest()


def remove_stale_temp_files(directory: Path) -> int:
    """Delete temp files left by a killed run under `directory`; return how many."""
    removed = 0
    for temp in Path(directory).rglob(f"{TEMP_PREFIX}*"):
        if temp.is_file():
            temp.unlink(missing_ok=True)
            removed += 1
    return removed
