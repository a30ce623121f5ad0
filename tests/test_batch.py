"""`vanban process` over many inputs (fake OCR/restorer, in-process): naming, resume, bad input."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

import pytest

from tests.conftest import PLAN_TEXT
from vanban.batch import InputFile, output_names
from vanban.cli import main
from vanban.core.files import TEMP_PREFIX
from vanban.manifest import JOURNAL_NAME, LOCK_NAME, MANIFEST_NAME, Manifest


def write_inputs(root: Path, names: list[str]) -> None:
    for k, name in enumerate(names):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(PLAN_TEXT.replace("167", str(100 + k)), encoding="utf-8")


def process(*args) -> int:
    return main(["process", *map(str, args), "--jobs", "1", "--quiet"])


def manifest_entries(outdir: Path) -> dict:
    return json.loads((outdir / MANIFEST_NAME).read_text(encoding="utf-8"))["entries"]


def test_directory_is_walked_and_summarized(tmp_path, fake_stages, capsys):
    write_inputs(tmp_path / "in", ["a.txt", "sub/b.txt", "notes.docx", ".hidden.txt"])
    assert process(tmp_path / "in", "-o", tmp_path / "out") == 0

    out = capsys.readouterr().out
    assert f"outputs in {tmp_path / 'out'}/" in out
    assert "processed 2, skipped 0, failed 0" in out and "sections" in out
    files = sorted(
        p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*")
    )
    assert files == [
        LOCK_NAME, "a.json", "a.ocr.txt", "a.txt", "sub", "sub/b.json", "sub/b.ocr.txt",
        "sub/b.txt", MANIFEST_NAME,
    ]  # fmt: skip
    entry = manifest_entries(tmp_path / "out")["sub/b"]
    assert entry["stage"] == "done" and entry["input"] == str(tmp_path / "in" / "sub" / "b.txt")
    assert entry["outputs"]["json"] == "sub/b.json" and len(entry["sha256"]) == 64
    assert entry["model_version"] == "fake-model" and entry["pipeline_version"]


def test_rerun_skips_done_inputs_and_redoes_changed_ones(tmp_path, fake_stages, capsys):
    write_inputs(tmp_path / "in", ["a.txt", "b.txt", "c.txt"])
    assert process(tmp_path / "in", "-o", tmp_path / "out") == 0
    calls = fake_stages.calls
    capsys.readouterr()

    assert process(tmp_path / "in", "-o", tmp_path / "out") == 0
    assert "processed 0, skipped 3, failed 0" in capsys.readouterr().out
    assert fake_stages.calls == calls

    (tmp_path / "in" / "b.txt").write_text(PLAN_TEXT + "Thêm một dòng.\n", encoding="utf-8")
    (tmp_path / "out" / "c.json").unlink()  # a lost output is redone too
    assert process(tmp_path / "in", "-o", tmp_path / "out") == 0
    assert "processed 2, skipped 1, failed 0" in capsys.readouterr().out
    assert "Thêm một dòng." in (tmp_path / "out" / "b.txt").read_text(encoding="utf-8")

    assert process(tmp_path / "in", "-o", tmp_path / "out", "--force") == 0
    assert "processed 3, skipped 0, failed 0" in capsys.readouterr().out


def test_a_new_model_or_option_redoes_everything(tmp_path, fake_stages, monkeypatch, capsys):
    write_inputs(tmp_path / "in", ["a.txt", "b.txt"])
    assert process(tmp_path / "in", "-o", tmp_path / "out") == 0
    monkeypatch.setattr("vanban.pipeline.model_version", lambda: "fake-model-2")
    capsys.readouterr()
    assert process(tmp_path / "in", "-o", tmp_path / "out") == 0
    assert "processed 2, skipped 0" in capsys.readouterr().out
    assert process(tmp_path / "in", "-o", tmp_path / "out", "--force-ocr") == 0
    assert "processed 2, skipped 0" in capsys.readouterr().out


def test_bad_inputs_are_reported_once_each_and_the_batch_goes_on(tmp_path, fake_stages, capsys):
    write_inputs(tmp_path / "in", ["good.txt", "also-good.pdf"])
    (tmp_path / "in" / "broken.pdf").write_text("CORRUPT\n", encoding="utf-8")
    (tmp_path / "in" / "empty.txt").write_text("", encoding="utf-8")
    (tmp_path / "letter.docx").write_bytes(b"PK\x03\x04")
    (tmp_path / "empty-dir").mkdir()
    missing = tmp_path / "missing.pdf"

    code = process(
        tmp_path / "in", tmp_path / "letter.docx", missing, tmp_path / "empty-dir",
        "-o", tmp_path / "out",
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 1
    errors = [line for line in captured.err.splitlines() if line.startswith("vanban: error: ")]
    assert sorted(errors) == sorted([
        f"vanban: error: {tmp_path / 'in' / 'broken.pdf'}: corrupt PDF (no xref table)",
        f"vanban: error: {tmp_path / 'in' / 'empty.txt'}: no text found",
        f"vanban: error: {tmp_path / 'letter.docx'}: unsupported file type '.docx' "
        "(expected PDF, PNG, JPEG, TIFF, BMP, WebP or .txt)",
        f"vanban: error: {missing}: no such file or directory",
        f"vanban: error: {tmp_path / 'empty-dir'}: "
        "no PDF, PNG, JPEG, TIFF, BMP, WebP or .txt files found",
    ])  # fmt: skip
    assert "vanban: 5 input(s) failed:" in captured.err
    assert "Traceback" not in captured.err
    assert "processed 2, skipped 0, failed 5" in captured.out
    out = tmp_path / "out"
    assert (out / "good.json").exists() and (out / "also-good.json").exists()
    assert not (out / "broken.json").exists() and not (out / "broken.ocr.txt").exists()
    assert manifest_entries(out)["broken"]["stage"] == "ocr"
    assert manifest_entries(out)["broken"]["error"] == "corrupt PDF (no xref table)"


def test_failed_inputs_are_retried_on_the_next_run(tmp_path, fake_stages, capsys):
    write_inputs(tmp_path / "in", ["good.txt"])
    (tmp_path / "in" / "late.pdf").write_text("CORRUPT\n", encoding="utf-8")
    assert process(tmp_path / "in", "-o", tmp_path / "out") == 1
    (tmp_path / "in" / "late.pdf").write_text(PLAN_TEXT, encoding="utf-8")
    capsys.readouterr()
    assert process(tmp_path / "in", "-o", tmp_path / "out") == 0
    assert "processed 1, skipped 1, failed 0" in capsys.readouterr().out


def test_a_bug_in_one_input_is_a_failure_with_traceback_not_a_dead_batch(
    tmp_path, fake_stages, monkeypatch, capsys
):
    original = fake_stages.restore_lines

    def buggy(lines):
        if any("103" in line for line in lines):  # a.txt is 100, b.txt 101 ... see write_inputs
            raise ZeroDivisionError("division by zero")
        return original(lines)

    write_inputs(tmp_path / "in", ["a.txt", "b.txt", "c.txt", "d.txt"])
    monkeypatch.setattr(fake_stages, "restore_lines", buggy)
    assert process(tmp_path / "in", "-o", tmp_path / "out") == 1
    captured = capsys.readouterr()
    assert "Traceback" in captured.err
    assert "d.txt: internal error: ZeroDivisionError: division by zero" in captured.err
    assert "processed 3, skipped 0, failed 1" in captured.out


def test_name_collisions_get_distinct_outputs():
    def item(root, relative):
        return InputFile(Path(root) / relative, f"{root}/{relative}", PurePosixPath(relative), root)

    inputs = [
        item("scans", "a.pdf"), item("scans", "a.txt"), item("scans", "sub/c.pdf"),
        item("one", "b.pdf"), item("two", "b.pdf"), item("x", "d.ocr.pdf"), item("x", "d.pdf"),
        item("x", "vanban-manifest.txt"),
    ]  # fmt: skip
    names = output_names(inputs)
    assert [names[i] for i in inputs] == [
        "a.pdf", "a.txt", "sub/c", "one/b", "two/b", "d.ocr", "d.pdf",
        "vanban-manifest.txt",
    ]  # fmt: skip
    outputs = [n + s for n in names.values() for s in (".txt", ".ocr.txt", ".json")]
    assert len(set(outputs)) == len(outputs) and MANIFEST_NAME not in outputs


def test_same_file_named_twice_is_processed_once(tmp_path, fake_stages, capsys):
    write_inputs(tmp_path / "in", ["a.txt"])
    assert process(tmp_path / "in", tmp_path / "in" / "a.txt", "-o", tmp_path / "out") == 0
    assert "processed 1," in capsys.readouterr().out


def test_output_dir_inside_the_input_dir_is_not_read_back(tmp_path, fake_stages, capsys):
    write_inputs(tmp_path, ["a.txt"])
    assert process(tmp_path, "-o", tmp_path / "out") == 0
    assert process(tmp_path, "-o", tmp_path / "out") == 0
    assert "processed 0, skipped 1, failed 0" in capsys.readouterr().out


def test_log_json_has_one_line_per_input(tmp_path, fake_stages):
    write_inputs(tmp_path / "in", ["a.txt", "b.txt"])
    (tmp_path / "in" / "c.pdf").write_text("CORRUPT\n", encoding="utf-8")
    log = tmp_path / "run.jsonl"
    process(tmp_path / "in", "-o", tmp_path / "out", "--log-json", log)
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert sorted((Path(r["input"]).name, r["status"]) for r in records) == [
        ("a.txt", "done"), ("b.txt", "done"), ("c.pdf", "failed"),
    ]  # fmt: skip
    done = next(r for r in records if r["status"] == "done")
    assert done["pages"] == 1 and done["lines"] > 5 and "seconds" in done


# --- output directories vanban cannot use ------------------------------------------------------


def test_output_path_that_is_a_file(tmp_path, fake_stages, capsys):
    write_inputs(tmp_path / "in", ["a.txt"])
    (tmp_path / "taken").write_text("x", encoding="utf-8")
    assert process(tmp_path / "in", "-o", tmp_path / "taken") == 2
    err = capsys.readouterr().err
    assert (
        err.strip()
        == f"vanban: error: {tmp_path / 'taken'}: output path exists and is not a directory"
    )


def test_output_dir_that_cannot_be_created(tmp_path, fake_stages, capsys):
    write_inputs(tmp_path / "in", ["a.txt"])
    (tmp_path / "file").write_text("x", encoding="utf-8")
    assert process(tmp_path / "in", "-o", tmp_path / "file" / "out") == 2
    assert "cannot create output directory: Not a directory" in capsys.readouterr().err


def test_unwritable_output_dir(tmp_path, fake_stages, capsys, monkeypatch):
    write_inputs(tmp_path / "in", ["a.txt"])
    (tmp_path / "ro").mkdir()
    # root ignores file modes, so simulate what a read-only directory answers
    monkeypatch.setattr("vanban.manifest.os.access", lambda path, mode: False)
    assert process(tmp_path / "in", "-o", tmp_path / "ro") == 2
    assert capsys.readouterr().err.strip() == (
        f"vanban: error: {tmp_path / 'ro'}: output directory is not writable"
    )


def test_refuses_a_directory_that_is_not_a_vanban_output(tmp_path, fake_stages, capsys):
    write_inputs(tmp_path / "in", ["a.txt"])
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "thesis.tex").write_text("keep me", encoding="utf-8")
    assert process(tmp_path / "in", "-o", tmp_path / "docs", "--force") == 2
    assert "not a vanban output directory" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "docs").iterdir()) == ["thesis.tex"]


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"format": "vanban-manifest", "entries": {', "corrupt manifest"),
        (
            '{"format": "vanban-manifest", "version": 0, "entries": {}}',
            "manifest from an older vanban",
        ),
        ('["something else"]', "not a vanban manifest"),
    ],
)
def test_unreadable_manifest_is_explained_and_force_replaces_it(
    tmp_path, fake_stages, capsys, content, message
):
    write_inputs(tmp_path / "in", ["a.txt"])
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / MANIFEST_NAME).write_text(content, encoding="utf-8")
    assert process(tmp_path / "in", "-o", tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert err.startswith(f"vanban: error: {tmp_path / 'out' / MANIFEST_NAME}: {message}")
    assert "--force" in err and "Traceback" not in err
    assert process(tmp_path / "in", "-o", tmp_path / "out", "--force") == 0
    assert manifest_entries(tmp_path / "out")["a"]["stage"] == "done"


# --- the manifest journal ----------------------------------------------------------------------


def test_journal_is_replayed_and_a_torn_last_line_ignored(tmp_path, fake_stages):
    write_inputs(tmp_path / "in", ["a.txt", "b.txt"])
    assert process(tmp_path / "in", "-o", tmp_path / "out") == 0
    out = tmp_path / "out"
    snapshot = json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))
    entry_b = snapshot["entries"].pop("b")
    (out / MANIFEST_NAME).write_text(json.dumps(snapshot), encoding="utf-8")
    journal = json.dumps(entry_b) + "\n" + json.dumps(entry_b)[:40]  # killed mid-append
    (out / JOURNAL_NAME).write_text(journal, encoding="utf-8")

    manifest = Manifest.open(out)
    assert manifest.entries["b"].stage == "done"
    assert not (out / JOURNAL_NAME).exists()  # folded into the snapshot
    assert "b" in manifest_entries(out)


def test_temp_files_of_a_killed_run_are_removed(tmp_path, fake_stages, capsys):
    write_inputs(tmp_path / "in", ["a.txt"])
    assert process(tmp_path / "in", "-o", tmp_path / "out") == 0
    (tmp_path / "out" / f"{TEMP_PREFIX}abc").write_text("half a file", encoding="utf-8")
    assert process(tmp_path / "in", "-o", tmp_path / "out") == 0
    assert not list((tmp_path / "out").glob(f"{TEMP_PREFIX}*"))


def test_two_runs_cannot_write_the_same_directory(tmp_path, fake_stages, capsys):
    write_inputs(tmp_path / "in", ["a.txt"])
    running = Manifest.open(tmp_path / "out")  # as if another run were busy there
    assert process(tmp_path / "in", "-o", tmp_path / "out") == 2
    assert "another vanban process is writing to this output directory" in capsys.readouterr().err
    running.close()
    assert process(tmp_path / "in", "-o", tmp_path / "out") == 0


def test_an_input_that_kills_its_worker_fails_alone(tmp_path, fake_stages, monkeypatch, capsys):
    import os
    import signal

    import vanban.ocr

    from tests.conftest import fake_read_document

    def deadly_read_document(path, **options):
        if Path(path).name == "poison.txt":
            os.kill(os.getpid(), signal.SIGKILL)  # like the OOM killer on a huge scan
        return fake_read_document(path, **options)

    # forked workers inherit the patch
    monkeypatch.setattr(vanban.ocr, "read_document", deadly_read_document)
    write_inputs(tmp_path / "in", [f"doc{k}.txt" for k in range(6)] + ["poison.txt"])
    code = main(["process", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-j", "2", "-q"])
    captured = capsys.readouterr()
    assert code == 1
    assert "processed 6, skipped 0, failed 1" in captured.out
    errors = [line for line in captured.err.splitlines() if line.startswith("vanban: error:")]
    assert errors == [
        f"vanban: error: {tmp_path / 'in' / 'poison.txt'}: a worker process died on this input "
        "(killed, or out of memory)"
    ]


# --- output names that belong to the input, not to the run (issue 16) --------------------------


def output_files(outdir: Path) -> list[str]:
    return sorted(
        p.relative_to(outdir).as_posix()
        for p in outdir.rglob("*")
        if p.is_file() and not p.name.startswith((".", "vanban-manifest"))
    )


def test_same_file_name_from_two_folders_in_two_runs_keeps_both(tmp_path, fake_stages, capsys):
    write_inputs(tmp_path / "dirA", ["doc.txt"])
    (tmp_path / "dirB").mkdir()
    (tmp_path / "dirB" / "doc.txt").write_text(PLAN_TEXT.replace("167", "999"), encoding="utf-8")
    out = tmp_path / "o"
    assert process(tmp_path / "dirA", "-o", out) == 0
    first = (out / "doc.json").read_bytes()
    capsys.readouterr()
    assert process(tmp_path / "dirB", "-o", out) == 0
    err = capsys.readouterr().err
    assert (
        f"vanban: note: {tmp_path / 'dirB' / 'doc.txt'}: outputs named 'dirB/doc' ('doc' names "
        f"the outputs of {(tmp_path / 'dirA' / 'doc.txt').resolve()})"
    ) in err
    assert (out / "doc.json").read_bytes() == first  # not overwritten
    assert "999/KH" in (out / "dirB" / "doc.txt").read_text(encoding="utf-8")
    entries = manifest_entries(out)
    assert entries["doc"]["input_path"] == str((tmp_path / "dirA" / "doc.txt").resolve())
    assert entries["dirB/doc"]["input_path"] == str((tmp_path / "dirB" / "doc.txt").resolve())
    capsys.readouterr()
    assert process(tmp_path / "dirB", tmp_path / "dirA", "-o", out) == 0  # both, in any order
    assert "processed 0, skipped 2" in capsys.readouterr().out


def test_an_input_keeps_its_name_when_the_argument_list_changes(tmp_path, fake_stages, capsys):
    write_inputs(tmp_path / "coll", ["x/a.txt", "y/a.txt"])
    out = tmp_path / "oc"
    assert process(tmp_path / "coll" / "x", tmp_path / "coll" / "y", "-o", out) == 0
    names = sorted(manifest_entries(out))
    capsys.readouterr()
    assert process(tmp_path / "coll" / "x", "-o", out) == 0
    assert "processed 0, skipped 1, failed 0" in capsys.readouterr().out
    assert process(tmp_path / "coll", "-o", out) == 0  # a third argument list
    assert "processed 0, skipped 2, failed 0" in capsys.readouterr().out
    assert sorted(manifest_entries(out)) == names == ["x/a", "y/a"]
    assert output_files(out) == [f"{n}{s}" for n in names for s in (".json", ".ocr.txt", ".txt")]
    assert main(["export", str(out), "--what", "documents"]) == 0
    sources = [json.loads(row)["source"] for row in capsys.readouterr().out.splitlines()]
    assert sorted(sources) == sorted(str(tmp_path / "coll" / d / "a.txt") for d in "xy")


def test_a_new_outdir_inside_the_input_folder_skips_older_outdirs(tmp_path, fake_stages, capsys):
    write_inputs(tmp_path / "dirC", ["a.txt"])
    assert process(tmp_path / "dirC", "-o", tmp_path / "dirC" / "out") == 0
    capsys.readouterr()
    assert process(tmp_path / "dirC", "-o", tmp_path / "dirC" / "out2") == 0
    assert "processed 1, skipped 0, failed 0" in capsys.readouterr().out
    assert output_files(tmp_path / "dirC" / "out2") == ["a.json", "a.ocr.txt", "a.txt"]
    # named on the command line, an output directory (or a file in it) is refused in one line
    assert process(tmp_path / "dirC" / "out", "-o", tmp_path / "out3") == 1
    err = capsys.readouterr().err
    assert f"{tmp_path / 'dirC' / 'out'}: is in the vanban output directory" in err
    assert "Traceback" not in err


def test_a_moved_input_keeps_its_name(tmp_path, fake_stages, capsys):
    write_inputs(tmp_path / "old", ["plan.txt"])
    out = tmp_path / "out"
    assert process(tmp_path / "old", "-o", out) == 0
    (tmp_path / "new").mkdir()
    (tmp_path / "old" / "plan.txt").rename(tmp_path / "new" / "renamed.txt")
    assert process(tmp_path / "new", "-o", out) == 0
    assert sorted(manifest_entries(out)) == ["plan"]
    assert manifest_entries(out)["plan"]["input"] == str(tmp_path / "new" / "renamed.txt")


def test_a_version_1_manifest_is_migrated(tmp_path, fake_stages, capsys, monkeypatch):
    write_inputs(tmp_path / "in", ["a.txt", "b.txt"])
    monkeypatch.chdir(tmp_path)
    assert process("in", "-o", "out") == 0
    data = json.loads((tmp_path / "out" / MANIFEST_NAME).read_text(encoding="utf-8"))
    data["version"] = 1
    for entry in data["entries"].values():
        del entry["input_path"]
    (tmp_path / "out" / MANIFEST_NAME).write_text(json.dumps(data), encoding="utf-8")
    capsys.readouterr()
    assert process("in", "-o", "out") == 0
    assert "processed 0, skipped 2, failed 0" in capsys.readouterr().out
    manifest = json.loads((tmp_path / "out" / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert manifest["version"] == 2


def test_a_dead_worker_is_reported_with_the_inputs_retried(
    tmp_path, fake_stages, monkeypatch, capsys
):
    import os
    import signal

    import vanban.ocr

    from tests.conftest import fake_read_document

    def deadly_read_document(path, **options):
        if Path(path).name == "poison.txt":
            os.kill(os.getpid(), signal.SIGKILL)
        return fake_read_document(path, **options)

    monkeypatch.setattr(vanban.ocr, "read_document", deadly_read_document)
    write_inputs(tmp_path / "in", ["a.txt", "poison.txt"])
    code = main(["process", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-j", "2", "-q"])
    assert code == 1
    warnings = [ln for ln in capsys.readouterr().err.splitlines() if "worker process died" in ln]
    assert warnings and warnings[0].startswith(
        "vanban: warning: a worker process died (killed, or out of memory); "
        "retrying one at a time: "
    )
    assert str(tmp_path / "in" / "poison.txt") in warnings[0]
