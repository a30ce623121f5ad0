"""File helpers: atomic writes, the one JSON layout, hashing, stale temp-file clean-up."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

TEMP_PREFIX = ".vanban-tmp-"
DEFAULT_DATA_DIR = "work_data"  # relative to the working directory; ignored by git


def data_dir() -> Path:
    """The folder for training data and work files: $VANBAN_DATA, else ./work_data."""
    return Path(os.environ.get("VANBAN_DATA") or DEFAULT_DATA_DIR)


@contextmanager
def atomic_path(path: Path, suffix: str = "") -> Iterator[Path]:
    """A temp file beside `path` to write by any means; a clean exit moves it over `path`
    (fsynced, mode 644), an error removes it. Readers see the old file or the whole new one."""
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=suffix, dir=path.parent)
    os.close(fd)
    temp = Path(name)
    try:
        yield temp
        with open(temp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_open(
    path: Path, mode: str = "w", *, encoding: str = "utf-8", newline: str | None = None
) -> Iterator[IO]:
    """`open(path, mode)` for a streamed write that lands atomically (see `atomic_path`)."""
    binary = "b" in mode
    with (
        atomic_path(path) as temp,
        open(temp, mode, encoding=None if binary else encoding, newline=newline) as handle,
    ):
        yield handle


@contextmanager
def atomic_directory(path: Path) -> Iterator[Path]:
    """A fresh temp folder beside `path` to fill; a clean exit swaps it in for `path` (mode 755;
    the old folder is moved aside, then removed), an error removes it."""
    path = Path(path)
    temp = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=path.parent))
    try:
        yield temp
        os.chmod(temp, 0o755)
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=path.parent))
            os.replace(path, old / path.name)
            os.replace(temp, path)
            shutil.rmtree(old)
        else:
            os.replace(temp, path)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path`: readers see the old file or the whole new one, never a part."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)


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
    """Delete temp files and folders left by a killed run or worker under `directory` (call it
    only while holding the directory's lock, with no write in flight); return how many."""
    removed = 0
    for temp in sorted(Path(directory).rglob(f"{TEMP_PREFIX}*"), reverse=True):
        if temp.is_dir() and not temp.is_symlink():
            shutil.rmtree(temp, ignore_errors=True)
        else:
            temp.unlink(missing_ok=True)
        removed += 1
    return removed
