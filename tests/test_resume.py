"""Kill -9 a real `vanban process` mid-run, run it again: the outputs match an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import PLAN_TEXT, REPO, needs_ocr, run_vanban
from vanban.manifest import JOURNAL_NAME, MANIFEST_NAME

INPUTS = 14
# Resume is about the batch machinery: skip loading the restorer model in every child process.
FAST_ENV = {"VANBAN_MODEL_DIR": "/nonexistent-vanban-model"}


def make_inputs(root: Path) -> None:
    """Plans of a few hundred lines each, in two folders, one name used in both."""
    for k in range(INPUTS):
        folder = root / ("a" if k % 2 else "b")
        folder.mkdir(parents=True, exist_ok=True)
        body = PLAN_TEXT.replace("167", str(200 + k)) * (10 + k % 3)
        (folder / f"plan-{k // 2}.txt").write_text(body, encoding="utf-8")


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def journal_stamp(outdir: Path) -> int:
    """The journal's modification time (ns), or -1 when there is none."""
    try:
        return (outdir / JOURNAL_NAME).stat().st_mtime_ns
    except FileNotFoundError:
        return -1


def finished_inputs(outdir: Path, stamp: int) -> int:
    """Inputs recorded in the journal once it changed from `stamp` (`journal_stamp` taken
    before the run started): a journal left by a killed run is not this run's progress."""
    journal = outdir / JOURNAL_NAME
    try:
        if journal.stat().st_mtime_ns == stamp:
            return 0  # left by the killed run before; this run folds it first
        return journal.read_text(encoding="utf-8").count("\n")
    except FileNotFoundError:
        return 0


def start_and_signal(inputs: Path, outdir: Path, after: int, signum: int) -> tuple[int, str]:
    """Start `vanban process`, send `signum` once it has recorded `after` inputs.

    Returns the exit status and stderr.
    """
    stamp = journal_stamp(outdir)
    child = subprocess.Popen(
        [sys.executable, "-m", "vanban.cli", "process", str(inputs), "-o", str(outdir), "-q"],
        cwd=REPO,
        env={**os.environ, **FAST_ENV},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, like a job in a terminal
    )
    deadline = time.monotonic() + 240
    while finished_inputs(outdir, stamp) < after and child.poll() is None:
        assert time.monotonic() < deadline, "vanban made no progress"
        time.sleep(0.01)
    if signum == signal.SIGKILL:
        os.kill(child.pid, signum)  # the main process only: its workers must follow it
    else:
        os.killpg(child.pid, signum)  # Ctrl-C reaches the whole foreground group
    _, stderr = child.communicate(timeout=120)
    assert no_process_mentions(str(outdir)), "worker processes outlived the run"
    return child.returncode, stderr


def no_process_mentions(text: str, wait: float = 10.0) -> bool:
    """True once no running process has `text` in its command line (workers are gone)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        alive = []
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                if text.encode() in cmdline.read_bytes():
                    alive.append(cmdline.parent.name)
            except OSError:
                continue
        if not alive:
            return True
        time.sleep(0.1)
    return False


@needs_ocr
def test_killed_runs_resume_to_the_same_outputs(tmp_path):
    make_inputs(tmp_path / "in")
    reference = run_vanban("process", str(tmp_path / "in"), "-o", str(tmp_path / "ref"), "-q",
                           env=FAST_ENV)  # fmt: skip
    assert reference.returncode == 0, reference.stderr
    assert f"processed {INPUTS}, skipped 0, failed 0" in reference.stdout

    out = tmp_path / "out"
    status, _ = start_and_signal(tmp_path / "in", out, after=2, signum=signal.SIGKILL)
    assert status == -signal.SIGKILL, "the run finished before it could be killed"
    first_kill = tree_bytes(out)
    assert (out / MANIFEST_NAME).exists()
    status, _ = start_and_signal(tmp_path / "in", out, after=3, signum=signal.SIGKILL)  # again
    assert status == -signal.SIGKILL

    status, stderr = start_and_signal(tmp_path / "in", out, after=1, signum=signal.SIGINT)
    if status != 0:  # it may have finished first on a fast machine
        assert status == 130
        assert "interrupted; run the same command again to resume" in stderr
        assert "Traceback" not in stderr

    resumed = run_vanban("process", str(tmp_path / "in"), "-o", str(out), "-q", env=FAST_ENV)
    assert resumed.returncode == 0, resumed.stderr
    skipped = int(resumed.stdout.split("skipped ")[1].split(",")[0])
    assert skipped >= 5, resumed.stdout  # the work of the killed runs was kept
    assert len([name for name in first_kill if name.endswith(".json")]) >= 3

    assert tree_bytes(out) == tree_bytes(tmp_path / "ref")


@needs_ocr
def test_a_worker_killed_mid_run_is_replaced_and_the_batch_finishes(tmp_path):
    make_inputs(tmp_path / "in")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "vanban.cli", "process", str(tmp_path / "in"), "-o", str(out),
               "-q", "--jobs", "2"]  # fmt: skip
    child = subprocess.Popen(command, cwd=REPO, env={**os.environ, **FAST_ENV},
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    while finished_inputs(out, -1) < 1 and child.poll() is None:
        time.sleep(0.01)
    children = Path(f"/proc/{child.pid}/task/{child.pid}/children").read_text().split()
    assert children, "no worker processes"
    os.kill(int(children[0]), signal.SIGKILL)  # as the OOM killer would
    stdout, stderr = child.communicate(timeout=120)

    assert child.returncode == 0, stderr
    assert f"processed {INPUTS}, skipped 0, failed 0" in stdout
    assert "Traceback" not in stderr
