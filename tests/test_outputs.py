"""The output-folder reader (vanban.outputs) that index, search and export share."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from vanban.core.errors import VanbanError
from vanban.export import export_rows
from vanban.index import index_outdir
from vanban.manifest import MANIFEST_NAME, read_entries
from vanban.outputs import document_files, iter_documents


def point_entry_at(outdir: Path, name: str, relative: str) -> None:
    manifest = json.loads((outdir / MANIFEST_NAME).read_text("utf-8"))
    manifest["entries"][name]["outputs"]["json"] = relative
    (outdir / MANIFEST_NAME).write_text(json.dumps(manifest), "utf-8")


def test_manifest_lists_the_documents(outdir):
    (outdir / "stray.json").write_text((outdir / "qd-nghean.json").read_text("utf-8"), "utf-8")
    names = [p.name for p in document_files(outdir)]
    assert names == ["kh-haiphong.json", "kh-quangninh.json", "qd-nghean.json"]
    assert sorted(read_entries(outdir)) == ["kh-haiphong", "kh-quangninh", "qd-nghean"]


def test_output_outside_outdir_is_refused_and_the_rest_read(outdir, tmp_path):
    victim = tmp_path / "victim.json"
    shutil.copy(outdir / "qd-nghean.json", victim)  # a real document, so only the path is wrong
    point_entry_at(outdir, "qd-nghean", "../victim.json")
    with pytest.raises(VanbanError) as raised:
        document_files(outdir)
    message = str(raised.value)
    assert "\n" not in message and "victim.json" in message and "outside" in message

    errors: list[VanbanError] = []
    docs = list(iter_documents(outdir, errors))
    assert [d.rel for d in docs] == ["kh-haiphong.json", "kh-quangninh.json"]
    assert len(errors) == 1 and "'../victim.json' lies outside" in str(errors[0])

    report = index_outdir(outdir, tmp_path / "c.sqlite")
    assert report.added == 2 and [str(e) for e in report.failed] == [str(errors[0])]

    export_errors: list[VanbanError] = []
    rows = list(export_rows(outdir, "documents", export_errors))
    assert {r["json_file"] for r in rows} == {"kh-haiphong.json", "kh-quangninh.json"}
    assert len(export_errors) == 1


def test_absolute_and_symlinked_outputs_are_outside_too(outdir, tmp_path):
    shutil.copy(outdir / "qd-nghean.json", tmp_path / "elsewhere.json")
    point_entry_at(outdir, "qd-nghean", str(tmp_path / "elsewhere.json"))
    with pytest.raises(VanbanError, match="outside"):
        document_files(outdir)
    (outdir / "link.json").symlink_to(tmp_path / "elsewhere.json")
    point_entry_at(outdir, "qd-nghean", "link.json")
    with pytest.raises(VanbanError, match="outside"):
        document_files(outdir)


def test_unreadable_manifest_falls_back_to_the_json_files(outdir):
    (outdir / MANIFEST_NAME).write_text("{", "utf-8")
    with pytest.raises(VanbanError, match="corrupt manifest"):
        read_entries(outdir)
    assert len(document_files(outdir)) == 3
