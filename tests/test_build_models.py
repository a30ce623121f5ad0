"""scripts/build_models.py: the steps in the model card's order, and two cheap steps really run."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "build_models.py"
ORDER = [
    "clean", "clean-lm", "render", "fit-channel", "pairs", "ordered", "strip-ordered",
    "train-a", "train-b", "train-c", "copy-base", "train-d", "render-caps", "lexicon", "lm",
    "digit-misreads", "code-segments", "code-parts", "confusions", "export",
]  # fmt: skip
CORPUS_FILES = ("vn-admin-congbao.txt.gz", "vn-legal-phapdien.txt.gz", "vn-general-viwiki.txt.gz")


def build_models(*args: str, data: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "VANBAN_DATA": str(data)}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=300,
    )  # fmt: skip


def steps_listed(stdout: str) -> list[tuple[str, str]]:
    """(name, status) of each `[k/n] name: what [status]` line."""
    rows = []
    for line in stdout.splitlines():
        if line.startswith("["):
            name = line.split("] ", 1)[1].split(":", 1)[0]
            rows.append((name, line.rsplit("[", 1)[1].rstrip("]")))
    return rows


def test_dry_run_lists_every_step_in_order(tmp_path):
    result = build_models("--dry-run", "--models", str(tmp_path / "models"), data=tmp_path)
    assert result.returncode == 0, result.stderr
    assert steps_listed(result.stdout) == [(name, "would run") for name in ORDER]
    assert f"--out {tmp_path}/clean " in result.stdout  # the data folder from $VANBAN_DATA
    assert f"--shared {(REPO.parent / 'shared').resolve()} " in result.stdout  # ../shared/corpus
    assert not any(tmp_path.iterdir())  # nothing written


def test_from_step_and_only_select_steps(tmp_path):
    later = build_models("--dry-run", "--from-step", "lexicon", data=tmp_path)
    assert [name for name, _ in steps_listed(later.stdout)] == ORDER[ORDER.index("lexicon") :]
    only = build_models("--dry-run", "--only", "export", "clean", data=tmp_path)
    assert [name for name, _ in steps_listed(only.stdout)] == ["clean", "export"]
    unknown = build_models("--dry-run", "--only", "cleen", data=tmp_path)
    assert unknown.returncode != 0 and "no step 'cleen'" in unknown.stderr


def tiny_corpus(root: Path) -> Path:
    """Three corpus files of 30 short documents each, and seed 002, as ../shared holds them."""
    corpus = root / "corpus"
    corpus.mkdir(parents=True)
    for number, name in enumerate(CORPUS_FILES):
        docs = [
            f"Điều {k}. Ủy ban nhân dân tỉnh giao Sở Tư pháp thực hiện văn bản số {k}/NĐ-CP.\n"
            f"Giao Công an tỉnh chủ trì, phối hợp với các đơn vị liên quan {number}.\n"
            for k in range(30)
        ]
        with gzip.open(corpus / name, "wt", encoding="utf-8") as handle:
            handle.write("\n".join(docs))
    (root / "seeds").mkdir()
    (root / "seeds" / "002_plan.txt").write_text("# KẾ HOẠCH\nThực hiện Nghị định.\n", "utf-8")
    return corpus


@pytest.mark.slow
def test_cheap_steps_run_on_a_tiny_corpus_and_resume(tmp_path):
    corpus, data, models = tiny_corpus(tmp_path / "shared"), tmp_path / "data", tmp_path / "models"
    args = ("--corpus", str(corpus), "--models", str(models), "--jobs", "1")
    first = build_models(*args, "--only", "clean", "code-segments", data=data)
    assert first.returncode == 0, first.stderr
    assert steps_listed(first.stdout) == [("clean", "running"), ("code-segments", "running")]
    train = (data / "clean" / "train.txt").read_text(encoding="utf-8")
    assert "Ủy ban nhân dân tỉnh giao Sở Tư pháp" in train
    table = (models / "lexicon" / "code_segments.tsv").read_text(encoding="utf-8")
    assert table.startswith("ND\tNĐ\t")  # NĐ printed in every document, ND never
    again = build_models(*args, "--only", "clean", "code-segments", data=data)
    assert steps_listed(again.stdout) == [
        ("clean", "done, skipped"),
        ("code-segments", "done, skipped"),
    ]
    os.utime(corpus / CORPUS_FILES[0], (1e10, 1e10))
    stale = build_models(*args, "--only", "clean", "code-segments", "--dry-run", data=data)
    assert steps_listed(stale.stdout) == [
        ("clean", "would run"),
        ("code-segments", "done, skipped"),
    ]
