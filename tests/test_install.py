"""A non-editable install into a fresh venv: one import package, `vanban`, that runs `process`.

The fresh venv borrows this venv's dependencies (torch, transformers ...) through a .pth file, so
nothing is downloaded; vanban itself is built from a copy of the working tree and installed with
`pip install --no-deps --no-build-isolation` (the setuptools of this venv builds it).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
STAGE_NAMES = ("ocr", "restore", "segment", "corpus", "models")


def run(*argv: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        argv, capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout, check=False
    )


def copy_working_tree(target: Path) -> None:
    """The files git tracks or would track (untracked, not ignored), as they are on disk."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True, cwd=REPO, check=True,
    ).stdout.decode("utf-8")  # fmt: skip
    for relative in filter(None, listed.split("\0")):
        source = REPO / relative
        if source.is_file():
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / relative)


def fresh_venv(path: Path) -> Path:
    """A venv without pip whose only extra path is this venv's site-packages (the dependencies)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    python = path / "bin" / "python"
    purelib = run(str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                  cwd=path).stdout.strip()  # fmt: skip
    Path(purelib, "vanban-test-deps.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8"
    )
    return python


@pytest.mark.slow
def test_pip_install_puts_only_vanban_and_process_runs(tmp_path):
    for module in ("pip", "setuptools"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed in this venv")
    if not shutil.which("git") or not (REPO / ".git").exists():
        pytest.skip("needs the git checkout")
    if not shutil.which("tesseract"):
        pytest.skip("needs Tesseract")
    source, elsewhere = tmp_path / "src", tmp_path / "elsewhere"
    elsewhere.mkdir()
    copy_working_tree(source)
    python = fresh_venv(tmp_path / "venv")
    install = run(str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                  "--no-index", "--no-cache-dir", str(source), cwd=elsewhere)  # fmt: skip
    assert install.returncode == 0, install.stderr[-2000:]

    code = "import vanban, vanban.models; print(vanban.__file__, vanban.models.RESTORER_DIR)"
    probe = run(str(python), "-c", code, cwd=elsewhere)
    assert probe.returncode == 0, probe.stderr
    package_file, restorer_dir = probe.stdout.split()
    assert Path(package_file).is_relative_to(tmp_path / "venv")  # the install, not the checkout
    assert (Path(restorer_dir) / "model.safetensors").is_file()  # the models travel with it
    for name in STAGE_NAMES:
        stray = run(str(python), "-c", f"import {name}", cwd=elsewhere)
        assert stray.returncode != 0 and "ModuleNotFoundError" in stray.stderr, name

    out = elsewhere / "tmp"
    sample = str(REPO / "examples" / "kh-sample.pdf")
    result = run(str(tmp_path / "venv" / "bin" / "vanban"), "process", sample, "-o", str(out),
                 cwd=elsewhere)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert (out / "kh-sample.json").is_file() and (out / "kh-sample.txt").is_file()
    assert "KẾ HOẠCH" in (out / "kh-sample.txt").read_text(encoding="utf-8")
