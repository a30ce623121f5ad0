"""`vanban process --executor ray` on a Ray the tests start on 127.0.0.1 (2 CPUs) and stop.

The same bytes as the local executor on the seeds and a scanned PDF; a Ray worker killed mid-run
costs nothing; an input that keeps killing its workers fails alone; a driver killed with -9
resumes to the same bytes; a page past the OCR timeout is left without text, as in a local run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, SHARED, needs_ocr, run_vanban
from tests.test_resume import FAST_ENV, INPUTS, finished_inputs, make_inputs, tree_bytes
from vanban.cli import main

try:
    import ray
except ModuleNotFoundError:
    ray = None

needs_ray = pytest.mark.skipif(ray is None, reason="ray is not installed (pip install vanban[ray])")
pytestmark = [pytest.mark.slow]
SCAN = REPO / "examples" / "kh-sample.pdf"
SEED_LINES = 60  # of each seed: the real restorer on 4 x 60 lines, twice, keeps the test short


@pytest.fixture(scope="module")
def ray_address():
    """A 2-CPU Ray for this module's tests; its GCS address for drivers in child processes."""
    if ray is None:
        pytest.skip("ray is not installed")
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=256 * 1024**2,
        logging_level="WARNING",
    )
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


@pytest.fixture
def fast_env(monkeypatch):
    """No restorer model (normalization only), in the driver and so in the Ray workers."""
    for key, value in FAST_ENV.items():
        monkeypatch.setenv(key, value)


def process(*args) -> int:
    return main(["process", *map(str, args), "-q"])


def ray_processes(title: str) -> list[int]:
    """Pids of Ray workers whose process title starts with `title` (e.g. 'ray::ocr_page')."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if cmdline.read_bytes().startswith(title.encode()):
                pids.append(int(cmdline.parent.name))
        except OSError:
            continue
    return pids


def kill_when_busy(titles: list[str], outdir: Path, killed: list[str], deadline: float = 60):
    """In a thread: once an input is recorded, SIGKILL one worker busy with each of `titles`."""

    def watch():
        stop = time.monotonic() + deadline
        todo = list(titles)
        while todo and time.monotonic() < stop:
            for title in list(todo):
                pids = ray_processes(title) if finished_inputs(outdir, -1) >= 1 else []
                if pids:
                    os.kill(pids[0], signal.SIGKILL)
                    killed.append(title)
                    todo.remove(title)
            time.sleep(0.005)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_without_ray_the_executor_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    (tmp_path / "a.txt").write_text("Kế hoạch\n", encoding="utf-8")
    monkeypatch.setitem(sys.modules, "ray", None)
    monkeypatch.delitem(sys.modules, "vanban.ray_executor", raising=False)
    assert process(tmp_path / "a.txt", "-o", tmp_path / "out", "--executor", "ray") == 2
    assert capsys.readouterr().err.strip() == (
        "vanban: error: --executor ray: Ray is not installed: pip install 'vanban[ray]'"
    )


@needs_ray
@needs_ocr
def test_ray_writes_the_same_bytes_as_the_local_pool(tmp_path, ray_address):
    """The seeds (their first lines: restore + segment with the shipped model) and a 3-page scan
    (per-page OCR tasks)."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / SCAN.name).write_bytes(SCAN.read_bytes())
    seeds = sorted((SHARED / "seeds").glob("*.txt"))
    if not seeds:
        pytest.skip("../shared/seeds is not available")
    for path in seeds:
        head = path.read_text(encoding="utf-8").splitlines(keepends=True)[:SEED_LINES]
        (inputs / path.name).write_text("".join(head), encoding="utf-8")
    local = run_vanban("process", str(inputs), "-o", str(tmp_path / "local"), "-q", "-j", "2",
                       "--log-json", str(tmp_path / "local.jsonl"))  # fmt: skip
    assert local.returncode == 0, local.stderr
    log = tmp_path / "ray.jsonl"
    assert process(inputs, "-o", tmp_path / "ray", "--executor", "ray", "--log-json", log) == 0

    assert tree_bytes(tmp_path / "ray") == tree_bytes(tmp_path / "local")
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    expected = [json.loads(line) for line in (tmp_path / "local.jsonl").read_text().splitlines()]
    assert len(records) == 1 + len(seeds)
    for key in ("input", "name", "status", "stage", "pages", "lines", "sections", "outputs"):
        assert sorted(str(r[key]) for r in records) == sorted(str(r[key]) for r in expected)


@needs_ray
@needs_ocr
def test_killed_workers_cost_only_their_inputs_in_flight(tmp_path, ray_address, fast_env):
    make_inputs(tmp_path / "in")
    (tmp_path / "in" / "scan.pdf").write_bytes(SCAN.read_bytes())
    reference = run_vanban("process", str(tmp_path / "in"), "-o", str(tmp_path / "ref"), "-q",
                           env=FAST_ENV)  # fmt: skip
    assert reference.returncode == 0, reference.stderr

    out, killed = tmp_path / "out", []
    titles = ["ray::ocr_page", "ray::DocumentFinisher.finish"]
    watcher = kill_when_busy(titles, out, killed)
    log = tmp_path / "run.jsonl"
    code = process(tmp_path / "in", "-o", out, "--executor", "ray", "--log-json", log)
    watcher.join()

    assert sorted(killed) == sorted(titles), (
        f"the test did not kill a busy worker of each kind: {killed}"
    )
    assert code == 0
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    inputs = [r["input"] for r in records]
    assert len(inputs) == len(set(inputs)) == INPUTS + 1  # nothing lost, nothing twice
    assert tree_bytes(out) == tree_bytes(tmp_path / "ref")


def poison_finisher():
    """A DocumentFinisher that kills its own process on the input named 'poison'."""
    from vanban.ray_executor import DocumentFinisher

    class PoisonedFinisher(DocumentFinisher):
        def finish(self, context, pages):
            if context.name == "poison":
                os.kill(os.getpid(), signal.SIGKILL)  # like the OOM killer on a huge scan
            return super().finish(context, pages)

    return PoisonedFinisher


@needs_ray
def test_an_input_that_keeps_killing_its_worker_fails_alone(
    tmp_path, ray_address, fast_env, monkeypatch, capsys
):
    import vanban.ray_executor

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import it
    monkeypatch.setattr(vanban.ray_executor, "DocumentFinisher", poison_finisher())
    make_inputs(tmp_path / "in")
    (tmp_path / "in" / "poison.txt").write_text("Kế hoạch số 1\n", encoding="utf-8")
    try:
        code = process(tmp_path / "in", "-o", tmp_path / "out", "--executor", "ray")
    finally:
        ray.cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    captured = capsys.readouterr()
    assert code == 1
    assert f"processed {INPUTS}, skipped 0, failed 1" in captured.out
    errors = [line for line in captured.err.splitlines() if line.startswith("vanban: error:")]
    assert errors == [
        f"vanban: error: {tmp_path / 'in' / 'poison.txt'}: a worker process died on this input "
        "(killed, or out of memory)"
    ]


@needs_ray
@needs_ocr
def test_a_page_past_the_ocr_timeout_is_left_without_text_as_locally(
    tmp_path, ray_address, fast_env, capsys
):
    local = process(SCAN, "-o", tmp_path / "local", "--ocr-timeout", "0.01")
    local_err = capsys.readouterr().err
    assert (
        process(SCAN, "-o", tmp_path / "out", "--executor", "ray", "--ocr-timeout", "0.01") == local
    )
    err = capsys.readouterr().err
    assert local == 1 and f"vanban: error: {SCAN}: no text found" in local_err
    assert f"vanban: error: {SCAN}: no text found" in err
    assert not list((tmp_path / "out").glob("kh-sample*"))


@needs_ray
@needs_ocr
def test_a_driver_killed_with_minus_9_resumes_to_the_same_bytes(tmp_path, ray_address):
    make_inputs(tmp_path / "in")
    reference = run_vanban("process", str(tmp_path / "in"), "-o", str(tmp_path / "ref"), "-q",
                           env=FAST_ENV)  # fmt: skip
    assert reference.returncode == 0, reference.stderr

    out = tmp_path / "out"
    command = [sys.executable, "-m", "vanban.cli", "process", str(tmp_path / "in"), "-o", str(out),
               "-q", "--executor", "ray", "--ray-address", ray_address]  # fmt: skip
    env = {**os.environ, **FAST_ENV}
    child = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 120
    while finished_inputs(out, -1) < 2 and child.poll() is None:
        assert time.monotonic() < deadline, "vanban made no progress"
        time.sleep(0.01)
    child.kill()
    child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL, "the run finished before it could be killed"

    resumed = run_vanban(*command[3:], env=FAST_ENV)
    assert resumed.returncode == 0, resumed.stderr
    skipped = int(resumed.stdout.split("skipped ")[1].split(",")[0])
    assert skipped >= 2, resumed.stdout
    assert tree_bytes(out) == tree_bytes(tmp_path / "ref")
