"""Shared test helpers: small fake stages for pipeline/CLI tests, paths to the shared data."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vanban.core.errors import VanbanError
from vanban.core.records import (
    Page,
    Provenance,
    RestoredLine,
    RestoredToken,
    ScannedDocument,
    TextLine,
)

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
OUTDIR_FIXTURE = Path(__file__).parent / "fixtures" / "outdir"  # a vanban output folder

# A short plan in the shape of the real documents, with English-OCR damage the fake restorer fixes.
PLAN_TEXT = """ỦY BAN NHÂN DÂN
THÀNH PHỐ HẢI PHÒNG
Số: 167/KH-UBND
KẾ HOẠCH
Thực hiện Nghị quyết ctia Chính phủ
I. MỤC ĐÍCH, YÊU CẦU
1. Mục đích
Nâng cao hiệu quả ctia công tác phòng cháy.
II. TỔ CHỨC THỰC HIỆN
1. Sở Tài chính
Chủ trì, phối hợp với Sở Nội vụ tham mưu bố trí kinh phí.
"""

FIXES = {"ctia": "của", "Ke": "Kế", "hoach": "hoạch"}
DOUBTFUL = {"tham": 0.3}


class FakeRestorer:
    """Restores a few known OCR errors word by word; one output per input, like the real one."""

    def __init__(self):
        self.calls = 0

    def restore_lines(self, lines: list[str]) -> list[RestoredLine]:
        self.calls += 1
        out = []
        for line in lines:
            tokens = [
                RestoredToken(
                    word, FIXES.get(word, word), DOUBTFUL.get(word, 0.95 if word in FIXES else 0.99)
                )
                for word in line.split()
            ]
            text = " ".join(t.text for t in tokens) if tokens else line
            out.append(RestoredLine(text=text, source=line, tokens=tokens))
        return out


def fake_read_document(
    path: Path, *, force_ocr: bool = False, lang: str = "vie", ocr=None
) -> ScannedDocument:
    """Fake OCR: `.txt` is one text page; other files are text with pages split by form feeds.

    A file whose first line is CORRUPT fails like a broken scan.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if text.startswith("CORRUPT"):
        raise VanbanError(str(path), "corrupt PDF (no xref table)")
    is_text = path.suffix == ".txt"
    pages, number = [], 0
    for page_no, page_text in enumerate(text.split("\f"), start=1):
        lines = []
        for k, line_text in enumerate(page_text.strip("\n").split("\n"), start=1):
            number += 1
            prov = Provenance(
                source=str(path),
                line=number,
                page=None if is_text else page_no,
                page_line=None if is_text else k,
                bbox=None if is_text else (100, 100 + 40 * k, 1200, 36),
            )
            lines.append(TextLine(line_text, prov, None if is_text else 91.5))
        pages.append(Page(page_no, lines, method="text" if is_text else "ocr"))
    return ScannedDocument(str(path), pages)


@pytest.fixture
def fake_stages(monkeypatch):
    """Fake OCR and restorer (segment stays real); returns the restorer."""
    import vanban.ocr

    import vanban.pipeline

    restorer = FakeRestorer()
    monkeypatch.setattr(vanban.ocr, "read_document", fake_read_document)
    monkeypatch.setattr(vanban.pipeline, "_restorer", restorer)
    monkeypatch.setattr(vanban.pipeline, "model_version", lambda: "fake-model")
    return restorer


def ocr_is_ready() -> bool:
    """True once the OCR stage reads `.txt` files (the placeholder raises NotImplementedError)."""
    import tempfile

    from vanban.ocr import read_document

    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "probe.txt"
        probe.write_text("Kế hoạch\n", encoding="utf-8")
        try:
            read_document(probe)
        except NotImplementedError:
            return False
    return True


needs_ocr = pytest.mark.skipif(not ocr_is_ready(), reason="OCR stage not implemented yet")


def run_vanban(*args: str, env: dict | None = None, stdin: str | None = None, timeout: float = 300):
    """Run the real `vanban` CLI in a child process."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "vanban.cli", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=full_env,
        cwd=REPO,
        timeout=timeout,
    )


@pytest.fixture
def outdir(tmp_path: Path) -> Path:
    """A copy of the fixture output folder that the test may change."""
    copy = tmp_path / "out"
    shutil.copytree(OUTDIR_FIXTURE, copy)
    return copy
