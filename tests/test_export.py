"""Exports for trackers: given the fixture OUTDIR, the rows a tracker imports (JSONL and CSV)."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from vanban.core.errors import VanbanError
from vanban.export import COLUMNS, export_rows, export_to_file, write_export

FIXTURE = Path(__file__).parent / "fixtures" / "outdir"


def rows_of(what: str) -> list[dict]:
    errors: list = []
    rows = list(export_rows(FIXTURE, what, errors))
    assert errors == []
    return rows


def agency_count(tree: dict) -> int:
    return sum(len(a[r]) for a in tree["assignments"] for r in ("lead", "support", "executors"))


def test_one_row_per_assignment_agency_with_document_and_provenance():
    rows = rows_of("assignments")
    trees = [
        json.loads(p.read_text("utf-8"))
        for p in sorted(FIXTURE.glob("k*.json")) + [FIXTURE / "qd-nghean.json"]
    ]
    assert len(rows) == sum(agency_count(t) for t in trees)
    (row,) = [r for r in rows if r["section_id"] == "II.1" and r["role"] == "lead"
              and r["document_number"] == "167/KH-UBND"]  # fmt: skip
    assert row["agency_id"] == "thanh-pho-hai-phong/cong-an"
    assert row["agency_name"] == "Công an thành phố Hải Phòng"
    assert row["agency_printed"] == "Công an thành phố"
    assert row["deadline"] == "hoàn thành trong quý II/2025"
    assert (row["document_date"], row["doc_type"]) == ("2025-03-12", "Kế hoạch")
    assert row["issuer"] == "Ủy ban nhân dân thành phố Hải Phòng"
    assert (row["source"], row["json_file"], row["line_start"], row["page"]) == (
        "kh-haiphong.pdf", "kh-haiphong.json", 12, 1,
    )  # fmt: skip
    assert row["task"].startswith("Tuyên truyền, phổ biến pháp luật")
    same_task = [r for r in rows if r["task_id"] == row["task_id"]]
    assert {r["role"] for r in same_task} == {"lead", "support"}
    assert all(set(r) == set(COLUMNS["assignments"]) for r in rows)


def test_roles_use_tracker_names():
    assert {r["role"] for r in rows_of("assignments")} == {"lead", "support", "executor"}


def test_jsonl_and_csv_round_trip(tmp_path):
    expected = rows_of("assignments")
    jsonl, csv_file = tmp_path / "a.jsonl", tmp_path / "a.csv"
    assert export_to_file(FIXTURE, "assignments", "jsonl", jsonl)[0] == len(expected)
    assert export_to_file(FIXTURE, "assignments", "csv", csv_file)[0] == len(expected)
    parsed = [json.loads(line) for line in jsonl.read_text("utf-8").splitlines()]
    assert parsed == expected
    with csv_file.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == COLUMNS["assignments"]
        table = list(reader)
    assert len(table) == len(expected)
    for got, want in zip(table, expected, strict=True):
        assert got == {k: "" if v is None else str(v) for k, v in want.items()}


def test_csv_bom_for_excel_and_lists_joined():
    buffer = io.StringIO()
    write_export(rows_of("documents"), buffer, "documents", "csv", bom=True)
    text = buffer.getvalue()
    assert text.startswith("\ufeffjson_file,source,issuer")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    haiphong = next(r for r in rows if r["number"] == "167/KH-UBND")
    assert haiphong["recipients"] == "Bộ Công an; Thường trực Thành ủy"
    assert (haiphong["sections"], haiphong["assignments"], haiphong["pages"]) == ("13", "7", "2")


def test_sections_and_documents_rows():
    sections = rows_of("sections")
    assert len(sections) == 13 + 6 + 10
    dieu = next(r for r in sections if r["section_id"] == "Điều 2.1")
    assert (dieu["level"], dieu["parent"], dieu["document_number"]) == (2, "Điều 2", "2381/QĐ-UBND")
    documents = rows_of("documents")
    assert [d["json_file"] for d in documents] == [
        "kh-haiphong.json", "kh-quangninh.json", "qd-nghean.json"
    ]  # fmt: skip
    assert documents[0]["recipients"] == ["Bộ Công an", "Thường trực Thành ủy"]


def test_stdout_when_no_output_file(capsys):
    main = pytest.importorskip("vanban.cli").main
    assert main(["export", str(FIXTURE), "--what", "documents", "--format", "jsonl"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(x)["number"] for x in lines] == ["167/KH-UBND", "88/KH-UBND", "2381/QĐ-UBND"]


def test_output_is_atomic_and_bad_outdir_leaves_target_alone(tmp_path):
    target = tmp_path / "tasks.csv"
    target.write_text("previous export\n")
    with pytest.raises(VanbanError, match="not a vanban output"):
        export_to_file(tmp_path, "assignments", "csv", target)
    assert target.read_text() == "previous export\n"
    with pytest.raises(VanbanError, match="cannot write"):
        export_to_file(FIXTURE, "assignments", "csv", tmp_path / "missing" / "tasks.csv")
    export_to_file(FIXTURE, "assignments", "csv", target)
    assert target.read_text("utf-8").startswith("task_id,")
    assert [p.name for p in tmp_path.iterdir()] == ["tasks.csv"]  # no temp file left


def test_bad_document_is_reported_and_the_rest_exported(tmp_path, capsys):
    outdir = tmp_path / "out"
    shutil.copytree(FIXTURE, outdir)
    (outdir / "kh-quangninh.json").write_bytes(b"\xff\xfe not json")
    main = pytest.importorskip("vanban.cli").main
    code = main(["export", str(outdir), "--format", "csv", "-o", str(tmp_path / "t.csv")])
    assert code == 1
    assert "kh-quangninh.json: unreadable document JSON" in capsys.readouterr().err
    with (tmp_path / "t.csv").open(encoding="utf-8") as handle:
        numbers = {r["document_number"] for r in csv.DictReader(handle)}
    assert numbers == {"167/KH-UBND", "2381/QĐ-UBND"}


def test_fixture_documents_follow_the_published_schema():
    jsonschema = pytest.importorskip("jsonschema")
    schema = pytest.importorskip("vanban.segment").load_schema()
    for path in sorted(FIXTURE.glob("*.json")):
        if path.name != "vanban-manifest.json":
            jsonschema.validate(json.loads(path.read_text("utf-8")), schema)


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_neutralised():
    rows = [
        {"task": '=HYPERLINK("http://evil","x")', "deadline": "@SUM(A1)", "source": "+1",
         "json_file": "-2", "agency_name": "\tx", "agency_printed": "\rx", "role": "lead",
         "section_title": "Sở Tài chính = chủ trì"}
    ]  # fmt: skip
    buffer = io.StringIO()
    write_export(rows, buffer, "assignments", "csv")
    (row,) = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert row["task"] == '\'=HYPERLINK("http://evil","x")' and row["deadline"] == "'@SUM(A1)"
    assert (row["source"], row["json_file"]) == ("'+1", "'-2")
    assert (row["agency_name"], row["agency_printed"]) == ("'\tx", "'\rx")
    assert row["role"] == "lead" and row["section_title"] == "Sở Tài chính = chủ trì"
    buffer = io.StringIO()
    write_export(rows, buffer, "assignments", "jsonl")  # JSONL is data, left as it is
    assert json.loads(buffer.getvalue())["task"].startswith("=HYPERLINK")


@pytest.mark.parametrize("name, fmt", [("t.csv", "csv"), ("t.CSV", "csv"), ("t.jsonl", "jsonl"),
                                       ("t.json", "jsonl"), ("t.out", "jsonl")])  # fmt: skip
def test_output_suffix_chooses_the_format_without_format(tmp_path, name, fmt, capsys):
    main = pytest.importorskip("vanban.cli").main
    target = tmp_path / name
    assert main(["export", str(FIXTURE), "--what", "documents", "-o", str(target)]) == 0
    text = target.read_text("utf-8")
    assert text.startswith("json_file,source,") == (fmt == "csv")
    assert text.startswith("{") == (fmt == "jsonl")
    assert main(["export", str(FIXTURE), "--what", "documents", "-o", str(target),
                 "--format", "jsonl"]) == 0  # fmt: skip
    assert target.read_text("utf-8").startswith("{")  # an explicit --format wins


def test_export_of_a_folder_that_is_not_an_output_folder_exits_2(tmp_path, capsys):
    main = pytest.importorskip("vanban.cli").main
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    assert main(["export", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a vanban output directory" in err
