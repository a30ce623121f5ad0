"""The per-file pipeline with fake OCR and restorer: outputs, line numbering, JSON shape."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from vanban.segment import load_schema

from tests.conftest import PLAN_TEXT
from vanban.core.files import TEMP_PREFIX
from vanban.core.records import Page, Provenance, ScannedDocument, TextLine
from vanban.pipeline import FileContext, number_lines, process_file, render_text


def make_context(path: Path, outdir: Path, name: str = "plan") -> FileContext:
    outdir.mkdir(exist_ok=True)
    return FileContext(path=path, source=path.name, outdir=outdir, name=name)


def test_text_input_gives_three_outputs_line_aligned(tmp_path, fake_stages):
    source = tmp_path / "plan.txt"
    source.write_text(PLAN_TEXT, encoding="utf-8")
    result = process_file(make_context(source, tmp_path / "out"))

    assert result.ok and result.stage == "done"
    assert result.outputs == {"ocr_text": "plan.ocr.txt", "text": "plan.txt", "json": "plan.json"}
    out = tmp_path / "out"
    ocr_lines = (out / "plan.ocr.txt").read_text(encoding="utf-8").splitlines()
    restored = (out / "plan.txt").read_text(encoding="utf-8").splitlines()
    assert ocr_lines == PLAN_TEXT.splitlines()
    assert len(restored) == len(ocr_lines)
    assert restored[4] == "Thực hiện Nghị quyết của Chính phủ"
    assert result.pages == 1 and result.lines == len(ocr_lines) and result.sections >= 3


def test_json_carries_source_pages_and_per_line_provenance(tmp_path, fake_stages):
    source = tmp_path / "plan.txt"
    source.write_text(PLAN_TEXT, encoding="utf-8")
    process_file(make_context(source, tmp_path / "out"))
    tree = json.loads((tmp_path / "out" / "plan.json").read_text(encoding="utf-8"))

    jsonschema.validate(tree, load_schema())
    assert tree["source"] == "plan.txt" and tree["pages"] is None  # text input has no pages
    line = tree["lines"][4]
    assert line["line"] == 5 and line["page"] is None
    assert line["ocr_text"] == "Thực hiện Nghị quyết ctia Chính phủ"
    assert line["text"] == "Thực hiện Nghị quyết của Chính phủ"
    # only changed or doubtful tokens are listed
    assert line["tokens"] == [{"source": "ctia", "text": "của", "confidence": 0.95}]
    doubtful = tree["lines"][10]["tokens"]
    assert {"source": "tham", "text": "tham", "confidence": 0.3} in doubtful


def test_pages_are_separated_by_a_blank_line_and_numbered_like_the_text_file(tmp_path, fake_stages):
    scan = tmp_path / "scan.pdf"  # the fake OCR splits pages on form feeds
    scan.write_text("Trang một\ndòng hai\fTrang hai\ndòng ctia trang hai\n", encoding="utf-8")
    result = process_file(make_context(scan, tmp_path / "out", name="scan"))
    assert result.pages == 2

    text = (tmp_path / "out" / "scan.txt").read_text(encoding="utf-8")
    assert text == "Trang một\ndòng hai\n\nTrang hai\ndòng của trang hai\n"
    tree = json.loads((tmp_path / "out" / "scan.json").read_text(encoding="utf-8"))
    jsonschema.validate(tree, load_schema())
    assert tree["pages"] == 2
    rows = text.split("\n")
    for line in tree["lines"]:
        assert rows[line["line"] - 1] == line["text"]
    last = tree["lines"][-1]
    assert (last["line"], last["page"], last["page_line"]) == (5, 2, 2)
    assert last["bbox"] == [100, 180, 1200, 36] and last["ocr_confidence"] == 91.5


def test_bad_input_fails_with_a_reason_and_writes_nothing(tmp_path, fake_stages):
    scan = tmp_path / "broken.pdf"
    scan.write_text("CORRUPT\n", encoding="utf-8")
    result = process_file(make_context(scan, tmp_path / "out", name="broken"))
    assert not result.ok and result.stage == "ocr"
    assert result.error == "corrupt PDF (no xref table)"
    assert list((tmp_path / "out").iterdir()) == []


def test_input_without_text_is_an_error(tmp_path, fake_stages):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    result = process_file(make_context(empty, tmp_path / "out", name="empty"))
    assert result.error == "no text found"


def test_a_failed_write_leaves_no_partial_file(tmp_path, fake_stages, monkeypatch):
    source = tmp_path / "plan.txt"
    source.write_text(PLAN_TEXT, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "plan.json").write_text('{"old": true}\n', encoding="utf-8")

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("vanban.core.files.os.replace", disk_full)
    result = process_file(make_context(source, out))
    assert not result.ok and "No space left on device" in result.error
    assert (out / "plan.json").read_text(encoding="utf-8") == '{"old": true}\n'
    assert not [p for p in out.iterdir() if p.name.startswith(TEMP_PREFIX)]


def test_restorer_must_keep_one_line_per_input(tmp_path, fake_stages, monkeypatch):
    monkeypatch.setattr(fake_stages, "restore_lines", lambda lines: [])
    source = tmp_path / "plan.txt"
    source.write_text(PLAN_TEXT, encoding="utf-8")
    with pytest.raises(RuntimeError, match="restorer returned 0 lines"):
        process_file(make_context(source, tmp_path / "out"))


def test_number_lines_counts_the_blank_line_between_pages():
    def page(number, texts, first):
        lines = [
            TextLine(t, Provenance("x", first + k, number, k + 1)) for k, t in enumerate(texts)
        ]
        return Page(number, lines)

    scanned = ScannedDocument("x", [page(1, ["a", "b"], 1), page(2, [], 3), page(3, ["c"], 3)])
    lines = number_lines(scanned)
    assert [line.prov.line for line in lines] == [1, 2, 4]
    assert render_text(lines, ["A", "B", "C"]) == "A\nB\n\nC\n"


def test_number_lines_keeps_the_blank_lines_of_a_text_input():
    numbers = [2, 3, 6]  # the OCR stage numbers a .txt input's non-empty lines as in the file
    lines = [TextLine(t, Provenance("x", n)) for t, n in zip("abc", numbers, strict=True)]
    numbered = number_lines(ScannedDocument("x", [Page(1, lines, method="text")]))
    assert render_text(numbered, ["A", "B", "C"]) == "\nA\nB\n\n\nC\n"


def test_model_version_covers_the_lexicon(tmp_path, monkeypatch):
    """A changed channel or syllable table under models/lexicon changes the model version."""
    import shutil

    import vanban.models

    from vanban import pipeline

    before = pipeline.model_version()
    lexicon = tmp_path / "lexicon"
    shutil.copytree(vanban.models.LEXICON_DIR, lexicon)
    monkeypatch.setattr(vanban.models, "LEXICON_DIR", lexicon)
    assert pipeline.model_version() == before
    with open(lexicon / "digit_misreads.tsv", "a", encoding="utf-8") as handle:
        handle.write("99\tlà\t1\n")
    assert pipeline.model_version() != before


# --- long inputs: windows, a streamed JSON, progress (issue 16) --------------------------------


def test_long_input_is_restored_in_windows_with_context_and_same_outputs(
    tmp_path, fake_stages, monkeypatch
):
    import vanban.pipeline

    source = tmp_path / "long.txt"
    source.write_text(PLAN_TEXT * 6, encoding="utf-8")  # 66 lines
    whole = process_file(make_context(source, tmp_path / "whole"))
    calls: list[list[str]] = []
    original = fake_stages.restore_lines
    monkeypatch.setattr(fake_stages, "restore_lines", lambda ls: calls.append(ls) or original(ls))
    monkeypatch.setattr(vanban.pipeline, "RESTORE_WINDOW_LINES", 10)
    monkeypatch.setattr(vanban.pipeline, "RESTORE_CONTEXT_LINES", 2)
    seen: list[tuple[int, int]] = []
    windowed = process_file(make_context(source, tmp_path / "win"), lambda *a: seen.append(a))

    assert whole.ok and windowed.ok
    assert [len(c) for c in calls] == [12] + [14] * 5 + [8]  # 10 lines, 2 of context a side
    assert calls[1][:2] == calls[0][8:10]  # a window sees the lines before it
    assert seen == [(k, 66) for k in range(10, 70, 10)[:6]] + [(66, 66)]
    for name in ("long.txt", "long.ocr.txt", "long.json"):
        assert (tmp_path / "whole" / f"plan{name[4:]}").read_bytes() == (
            tmp_path / "win" / f"plan{name[4:]}"
        ).read_bytes()


def test_a_long_document_gives_the_restorer_back_before_segmenting(
    tmp_path, fake_stages, monkeypatch
):
    import vanban.pipeline

    source = tmp_path / "plan.txt"
    source.write_text(PLAN_TEXT * 2, encoding="utf-8")  # 22 lines
    kept = process_file(make_context(source, tmp_path / "kept"))
    assert vanban.pipeline._restorer is fake_stages  # a short document keeps it
    monkeypatch.setattr(vanban.pipeline, "RELEASE_AFTER_LINES", 10)
    released = process_file(make_context(source, tmp_path / "released"))
    assert kept.ok and released.ok
    assert vanban.pipeline._restorer is None  # the next document loads it again
    for name in ("plan.txt", "plan.ocr.txt", "plan.json"):
        assert (tmp_path / "kept" / name).read_bytes() == (
            tmp_path / "released" / name
        ).read_bytes()


def test_json_lines_are_one_compact_record_each(tmp_path, fake_stages):
    source = tmp_path / "plan.txt"
    source.write_text(PLAN_TEXT, encoding="utf-8")
    process_file(make_context(source, tmp_path / "out"))
    text = (tmp_path / "out" / "plan.json").read_text(encoding="utf-8")
    tree = json.loads(text)
    jsonschema.validate(tree, load_schema())
    records = text[text.index('"lines": [') :].splitlines()[1:-2]
    assert len(records) == len(tree["lines"]) == len(PLAN_TEXT.splitlines())
    assert [json.loads(r.strip().rstrip(",")) for r in records] == tree["lines"]
    assert text.endswith("}\n  ]\n}\n") and text.startswith("{\n  ")


def test_write_document_json_without_lines(tmp_path):
    import io

    from vanban.pipeline import write_document_json

    write_document_json(tmp_path / "x.json", {"a": 1, "lines": []}, io.StringIO())
    assert (tmp_path / "x.json").read_text(encoding="utf-8") == '{\n  "a": 1,\n  "lines": []\n}\n'


def test_a_long_file_says_how_far_it_is(tmp_path, fake_stages, monkeypatch, capsys):
    import vanban.batch
    import vanban.pipeline
    from vanban.cli import main

    monkeypatch.setattr(vanban.pipeline, "RESTORE_WINDOW_LINES", 20)
    monkeypatch.setattr(vanban.batch, "LINE_PROGRESS_SECONDS", 0.0)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "long.txt").write_text(PLAN_TEXT * 5, encoding="utf-8")  # 55 lines
    (tmp_path / "in" / "short.txt").write_text(PLAN_TEXT, encoding="utf-8")
    assert main(["process", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-j", "1"]) == 0
    said = [ln for ln in capsys.readouterr().err.splitlines() if "lines restored" in ln]
    long = tmp_path / "in" / "long.txt"
    assert said == [f"vanban: {long}: {k}/55 lines restored" for k in (20, 40, 55)]
