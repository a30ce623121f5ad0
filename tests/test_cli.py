"""The `vanban` stage commands, --version, schema and usage errors, as a user calls them."""

from __future__ import annotations

import json

import jsonschema
import pytest
from vanban.segment import load_schema

from tests.conftest import PLAN_TEXT, needs_ocr, run_vanban
from vanban import __version__
from vanban.cli import line_endings, main, split_lines


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"vanban {__version__}"


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["process", "x.pdf"], ["process", "-j", "0"]])
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "usage: vanban" in capsys.readouterr().err


def test_schema_prints_the_shipped_schema(capsys):
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == load_schema()


def test_restore_is_line_aligned(tmp_path, fake_stages, capsys):
    text = "Ke hoach ctia UBND\n\n   \nDòng không đổi\r\n\nctia"  # CRLF, blanks, no final newline
    source = tmp_path / "in.txt"
    source.write_bytes(text.encode("utf-8"))
    assert main(["restore", str(source), "-o", str(tmp_path / "out.txt")]) == 0
    out = (tmp_path / "out.txt").read_bytes().decode("utf-8")
    assert out == "Kế hoạch của UBND\n\n   \nDòng không đổi\r\n\ncủa"  # no newline gained


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ctia", "của"),
        ("ctia\n", "của\n"),
        ("ctia\r\nctia\r\n", "của\r\ncủa\r\n"),
        ("ctia\r\nctia", "của\r\ncủa"),
        ("ctia\n\n", "của\n\n"),
        ("\n", "\n"),
        ("ctia\r", "của\r"),
    ],
)
def test_restore_keeps_line_breaks_and_final_newline(tmp_path, fake_stages, text, expected):
    source = tmp_path / "in.txt"
    source.write_bytes(text.encode("utf-8"))
    assert main(["restore", str(source), "-o", str(tmp_path / "out.txt")]) == 0
    out = (tmp_path / "out.txt").read_bytes()
    assert out.decode("utf-8") == expected
    assert out.count(b"\n") == text.count("\n")  # what `wc -l` counts


@pytest.mark.parametrize(
    "text, ends",
    [("", []), ("a", [""]), ("a\n", ["\n"]), ("a\r\nb", ["\r\n", ""]), ("\n\r\n", ["\n", "\r\n"])],
)
def test_line_endings_match_split_lines(text, ends):
    assert line_endings(text) == ends
    assert len(ends) == len(split_lines(text))


@pytest.mark.parametrize(
    "text, lines",
    [("", []), ("\n", [""]), ("a", ["a"]), ("a\r\nb\n", ["a", "b"]), ("a\n\n", ["a", ""])],
)
def test_split_lines_counts_like_wc(text, lines):
    assert split_lines(text) == lines


def test_restore_of_empty_input_is_empty(tmp_path, fake_stages):
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    assert main(["restore", str(tmp_path / "empty.txt"), "-o", str(tmp_path / "out.txt")]) == 0
    assert (tmp_path / "out.txt").read_text(encoding="utf-8") == ""


def test_restore_writes_stdout_by_default(tmp_path, fake_stages, capsys):
    source = tmp_path / "in.txt"
    source.write_text("ctia\n", encoding="utf-8")
    assert main(["restore", str(source)]) == 0
    assert capsys.readouterr().out == "của\n"


def test_restore_rejects_non_utf8_in_one_line(tmp_path, capsys):
    source = tmp_path / "legacy.txt"
    source.write_bytes(b"K\xea\xec ho\xe3\xf2ch")  # cp1258 bytes
    assert main(["restore", str(source)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"vanban: error: {source}: not UTF-8 text") and err.count("\n") == 1


def test_missing_file_is_one_line(tmp_path, capsys):
    assert main(["segment", str(tmp_path / "nope.txt")]) == 1
    assert capsys.readouterr().err == (
        f"vanban: error: {tmp_path / 'nope.txt'}: cannot read: No such file or directory\n"
    )


def test_segment_writes_schema_valid_json(tmp_path, capsys):
    source = tmp_path / "plan.txt"
    source.write_text(PLAN_TEXT, encoding="utf-8")
    assert main(["segment", str(source), "-o", str(tmp_path / "plan.json")]) == 0
    tree = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    jsonschema.validate(tree, load_schema())
    assert tree["document"]["number"] == "167/KH-UBND"
    assert [s["id"] for s in tree["sections"]][:2] == ["I", "I.1"]


def test_restore_reads_stdin_in_a_real_process():
    """The real restorer (shipped model, or normalization without one) keeps the line count."""
    text = "Ke hoach so 167/KH-UBND ngay 22/5/2025\n\nUy ban nhan dan thanh pho\n\n\nctia\n"
    result = run_vanban("restore", stdin=text)
    assert result.returncode == 0, result.stderr
    out = result.stdout.split("\n")
    assert len(out) == len(text.split("\n"))
    assert [k for k, line in enumerate(out) if not line] == [1, 3, 4, 6]
    assert "167/KH-UBND" in out[0] and "22/5/2025" in out[0]
    unterminated = run_vanban("restore", stdin=text.rstrip("\n"))
    assert unterminated.returncode == 0 and unterminated.stdout == result.stdout.rstrip("\n")


@needs_ocr
def test_ocr_command_on_text_input(tmp_path):
    source = tmp_path / "plan.txt"
    source.write_text(PLAN_TEXT, encoding="utf-8")
    result = run_vanban("ocr", str(source), "-o", str(tmp_path / "plan.ocr.txt"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "plan.ocr.txt").read_text(encoding="utf-8") == PLAN_TEXT


@needs_ocr
def test_ocr_and_segment_read_stdin():
    ocr = run_vanban("ocr", stdin=PLAN_TEXT)
    assert ocr.returncode == 0 and ocr.stdout == PLAN_TEXT
    segment = run_vanban("segment", "-", stdin=PLAN_TEXT)
    assert segment.returncode == 0, segment.stderr
    assert json.loads(segment.stdout)["document"]["number"] == "167/KH-UBND"


@needs_ocr
def test_ocr_command_names_a_broken_scan(tmp_path):
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\nthis is not a pdf\n")
    result = run_vanban("ocr", str(broken))
    assert result.returncode == 1
    assert result.stderr.startswith(f"vanban: error: {broken}: ")
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
