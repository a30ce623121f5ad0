"""vanban.core.files: writes land whole or not at all, and leave no temp file behind."""

from __future__ import annotations

import pytest

from vanban.core.files import TEMP_PREFIX, atomic_directory, atomic_open, atomic_path


def leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.startswith(TEMP_PREFIX)]


def test_atomic_open_streams_then_replaces(tmp_path):
    target = tmp_path / "rows.csv"
    target.write_text("old\n", encoding="utf-8")
    with atomic_open(target, newline="") as handle:
        handle.write("a,b\r\n")
        assert target.read_text(encoding="utf-8") == "old\n"  # readers still see the old file
    assert target.read_bytes() == b"a,b\r\n" and not leftovers(tmp_path)
    assert target.stat().st_mode & 0o777 == 0o644


def test_a_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "lm.npz"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(target, suffix=".npz") as temp:
        temp.write_bytes(b"half")
        raise RuntimeError("killed")
    assert target.read_bytes() == b"old" and not leftovers(tmp_path)


def test_atomic_directory_swaps_the_whole_folder(tmp_path):
    model = tmp_path / "restorer"
    model.mkdir()
    (model / "stale.txt").write_text("x")
    with atomic_directory(model) as temp:
        (temp / "config.json").write_text("{}")
    assert [p.name for p in model.iterdir()] == ["config.json"]
    assert model.stat().st_mode & 0o777 == 0o755 and not leftovers(tmp_path)
    with pytest.raises(OSError), atomic_directory(model) as temp:
        (temp / "config.json").write_text("{broken")
        raise OSError("disk full")
    assert (model / "config.json").read_text() == "{}" and not leftovers(tmp_path)


def test_stale_temp_files_and_folders_are_swept(tmp_path):
    """What a worker killed mid-write leaves (a temp file, a half-filled temp folder) goes;
    outputs stay."""
    from vanban.core.files import TEMP_PREFIX, remove_stale_temp_files

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / f"{TEMP_PREFIX}x1").write_text("half a document")
    (tmp_path / f"{TEMP_PREFIX}dir").mkdir()
    (tmp_path / f"{TEMP_PREFIX}dir" / "page1.png").write_bytes(b"png")
    (tmp_path / "a" / "doc.txt").write_text("kept")
    assert remove_stale_temp_files(tmp_path) == 2
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "a", "a/doc.txt",
    ]  # fmt: skip
