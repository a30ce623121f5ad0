"""The bad-input set: no input makes `vanban ocr` or `vanban process` print a traceback.

Each input gets one `vanban: error: <file>: <reason>` line (or is read: a CR-only text, a JPEG
named .pdf), with the real OCR stage; `process` runs the whole set in one real child process.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import PLAN_TEXT, run_vanban
from vanban.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "ocr"
NO_MODEL = {"VANBAN_MODEL_DIR": "/nonexistent-vanban-model"}  # the batch, not the restorer


def png(width: int, height: int, fill: int = 0) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (width, height), fill).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buffer, format="JPEG")
    return buffer.getvalue()


# name -> (bytes, what the one error line says; None when the input is read)
BAD_INPUTS: dict[str, tuple[Callable[[], bytes], str | None]] = {
    "dot-1x1.png": (lambda: png(1, 1), "image is 1x1 px, too small to hold text"),
    "column-1x1000.png": (lambda: png(1, 1000), "image is 1x1000 px, too small to hold text"),
    "row-2000x1.png": (lambda: png(2000, 1), "image is 2000x1 px, too small to hold text"),
    "png-named.txt": (lambda: png(1, 1), "image is 1x1 px, too small"),
    "jpeg-named.pdf": (lambda: jpeg(300, 100), "no text found on any page"),
    "zero-bytes.pdf": (lambda: b"", "corrupt or unreadable PDF"),
    "text-named.pdf": (lambda: b"hello\n", "corrupt or unreadable PDF"),
    "truncated.png": (lambda: png(400, 300, 255)[:60], "damaged image data"),
    "garbage.png": (lambda: b"not an image at all", "not a readable image"),
    "encrypted.pdf": (lambda: (FIXTURES / "encrypted.pdf").read_bytes(), "encrypted PDF"),
    "zero-pages.pdf": (lambda: (FIXTURES / "zero-pages.pdf").read_bytes(), "PDF has no pages"),
    "empty.txt": (lambda: b"", "empty text file"),
    "binary.txt": (lambda: bytes(range(256)) * 8, "binary data"),
    "utf16-no-bom.txt": (lambda: "Kế hoạch số 5\n".encode("utf-16-le"), "binary data"),
    "cp1258.txt": (lambda: b"Vi\xea\xf2t Nam quy\xea\xect", "not UTF-8"),
    "cr-only.txt": (lambda: PLAN_TEXT.replace("\n", "\r").encode(), None),
}


def make(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_bytes(BAD_INPUTS[name][0]())
    return path


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_ocr_gives_one_line_per_bad_input(tmp_path, name, capsys):
    path = make(tmp_path, name)
    code = main(["ocr", str(path), "-o", str(tmp_path / "out.txt")])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    expected = BAD_INPUTS[name][1]
    if expected is None:
        assert code == 0
        lines = (tmp_path / "out.txt").read_text(encoding="utf-8").splitlines()
        assert lines == PLAN_TEXT.splitlines()  # a CR-only text keeps its lines
        return
    assert code == 1
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(f"vanban: error: {path}: ") and expected in captured.err


def test_process_gives_one_line_per_bad_input_and_no_traceback(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in BAD_INPUTS:
        make(folder, name)
    result = run_vanban("process", str(folder), "-o", str(tmp_path / "out"), "-q", "-j", "1",
                        env=NO_MODEL)  # fmt: skip
    assert "Traceback" not in result.stderr, result.stderr
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("vanban: error: ")]
    failing = sorted(n for n, (_, why) in BAD_INPUTS.items() if why is not None)
    assert sorted(Path(ln.split(": ")[2]).name for ln in errors) == failing
    for line in errors:
        name = Path(line.split(": ")[2]).name
        if "empty" not in name:  # process says "no text found" for an empty text
            assert BAD_INPUTS[name][1] in line, line
    assert result.returncode == 1
    assert f"processed 1, skipped 0, failed {len(failing)}" in result.stdout
    restored = (tmp_path / "out" / "cr-only.txt").read_text(encoding="utf-8")
    assert len(restored.splitlines()) == len(PLAN_TEXT.splitlines())


def test_restore_and_segment_keep_the_lines_of_a_cr_only_text(tmp_path, fake_stages, capsys):
    path = tmp_path / "mac.txt"
    path.write_bytes(PLAN_TEXT.replace("\n", "\r").encode())
    assert main(["restore", str(path)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == len(PLAN_TEXT.splitlines())


def test_an_unknown_language_fails_once_up_front(tmp_path, capsys):
    if shutil.which("tesseract") is None:
        pytest.skip("tesseract is not installed")
    folder = tmp_path / "in"
    folder.mkdir()
    for k in range(3):
        (folder / f"scan{k}.png").write_bytes(png(200, 200, 255))
    assert main(["process", str(folder), "-o", str(tmp_path / "out"), "--lang", "xyz", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("vanban: error: --lang xyz: Tesseract has no")
    assert not (tmp_path / "out").exists()
    assert main(["ocr", str(folder / "scan0.png"), "--lang", "vie+xyz"]) == 2
    assert "Tesseract has no language xyz " in capsys.readouterr().err
