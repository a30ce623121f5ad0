"""`vanban process --executor ray`: a batch on a Ray cluster, with the same outputs as a local run.

Work units, so one long scan spreads over the cluster:
- plan (a task per input): the input's kind, its PDF text-layer pages, the pages left to OCR;
- OCR (a task per page, 1 CPU, Tesseract on 1 thread; a page past `--ocr-timeout` is left
  without text, with a warning, as in a local run);
- finish (a call on an actor): restore, segment and write the outputs. Each actor loads the
  restorer once (~3 s, ~1.1 GB) and keeps it; there is one actor per cluster CPU, spread over
  the nodes. Actors reserve no CPU: the CPU slots go to the OCR tasks, which keep them busy, and
  restoration (torch on 1 thread) runs beside them.

The driver (this process) keeps the manifest and journal as in a local run (vanban.batch), so a run
killed at any moment resumes to the same bytes. Workers write the outputs atomically into OUTDIR,
which must be the same path on a filesystem every node shares (docs/SCALING.md).

Faults: Ray runs a task again when its worker process or node dies (TASK_RETRIES times), and
restarts a dead actor, retrying its call (TASK_RETRIES times); an input whose units keep killing
their workers past that fails alone with the local pool's "worker process died" reason.

The driver keeps its own small actor pool rather than `ray.util.ActorPool`: it waits on plan and
page tasks and actor calls together in one `ray.wait`, which ActorPool's blocking `get_next` cannot.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections import deque
from dataclasses import dataclass, field, replace

import ray
from ray.exceptions import RayError, RayTaskError

from vanban import pipeline
from vanban.core.errors import VanbanError
from vanban.core.records import Page
from vanban.executors import (
    WORKER_DIED,
    LineProgress,
    Results,
    failed,
    guarded,
    internal_error,
)
from vanban.ocr.sources import PageRef
from vanban.pipeline import FileContext, FileResult, process_file

TASK_RETRIES = 2  # runs of a unit again after its worker died: at most 3 tries in all
PAGES_IN_FLIGHT_PER_CPU = 2  # page tasks submitted ahead, so no CPU waits for the driver
OPEN_INPUTS_PER_CPU = 4  # inputs planned but not finished, bounds the driver's memory
# Environment the workers get from the driver: the model and data folders, one Tesseract thread.
FORWARDED_ENV_PREFIXES = ("VANBAN_", "TESSDATA_PREFIX")
WORKER_ENV = {"OMP_THREAD_LIMIT": "1", "OMP_NUM_THREADS": "1"}
LOCAL_OBJECT_STORE_BYTES = 512 * 1024**2  # a local Ray needs little: pages of text lines


@dataclass
class Plan:
    """What a plan task found: a text input, or a scan's ready pages and pages to OCR."""

    text: bool = False
    ready: list[Page] = field(default_factory=list)
    refs: list[PageRef] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0


def plan_input(context: FileContext, env: dict[str, str]) -> Plan:
    """Plan task: the input's kind and pages, with failures as the local run words them."""
    from vanban.core.formats import file_kind
    from vanban.ocr.reader import plan_pages, reading

    os.environ.update(env)
    started = time.perf_counter()
    plan = Plan()
    try:
        with reading(context.path):
            if file_kind(context.path) == "text":
                plan.text = True
            else:
                options = context.options
                plan.ready, plan.refs = plan_pages(
                    context.path,
                    force_ocr=options.force_ocr,
                    lang=options.lang,
                    ocr=pipeline.ocr_settings(options),
                )
    except VanbanError as error:
        plan.error = error.reason
    plan.seconds = time.perf_counter() - started
    return plan


def ocr_page(ref: PageRef, lang: str, env: dict[str, str]) -> tuple[Page | tuple[str, str], float]:
    """OCR task: one page, or (path, reason) when it fails; and the seconds it took."""
    from vanban.ocr.reader import ocr_page_or_error

    os.environ.update(env)
    started = time.perf_counter()
    try:
        page = ocr_page_or_error(ref, lang)
    except OSError as error:  # as read_document words it
        page = (ref.path, f"cannot read file ({error.strerror or error})")
    return page, time.perf_counter() - started


class DocumentFinisher:
    """Actor: restores, segments and writes inputs, with the restorer loaded once per process."""

    def __init__(self, env: dict[str, str]) -> None:
        os.environ.update(env)
        try:
            pipeline.get_restorer()
        except Exception:  # noqa: BLE001 - loaded again and reported per input by process_file
            pass
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(1)

    def versions(self) -> tuple[str, str]:
        """The pipeline and model versions this worker writes outputs with."""
        return pipeline.PIPELINE_VERSION, pipeline.model_version()

    def finish(self, context: FileContext, pages: list[Page] | None) -> FileResult:
        """Every stage after OCR (or all of them for a text input, `pages` None)."""
        return guarded(lambda: process_file(context, pages=pages), context)


@dataclass
class RayExecutor:
    """Runs a batch on the Ray cluster at `address` ("auto", "ray://HOST:10001"), or on a Ray
    started on this machine for the run (None)."""

    address: str | None = None

    def run(self, contexts: list[FileContext], on_lines: LineProgress | None = None) -> Results:
        """Results as inputs finish on the cluster (`on_lines` is not followed there)."""
        if not contexts:
            return
        started_here = self._connect()
        scheduler = None
        try:
            scheduler = _Scheduler(worker_env())
            yield from scheduler.run([_absolute(context) for context in contexts])
        finally:
            if scheduler is not None:
                scheduler.stop()
            if started_here:
                ray.shutdown()

    def _connect(self) -> bool:
        """Join (or start) Ray unless this process already did; True when this call did."""
        if ray.is_initialized():
            return False
        quiet = {"logging_level": logging.ERROR, "log_to_driver": True}
        try:
            if self.address is None:
                ray.init(
                    address="local",
                    include_dashboard=False,
                    object_store_memory=LOCAL_OBJECT_STORE_BYTES,
                    **quiet,
                )
            else:
                ray.init(address=self.address, **quiet)
        except (ConnectionError, RuntimeError, ValueError) as error:
            where = self.address or "this machine"
            raise VanbanError(f"ray {where}", f"cannot start or join Ray: {error}") from error
        return True


def worker_env() -> dict[str, str]:
    """Environment variables for the workers: the driver's vanban settings, one thread each.

    Passed to each task and actor (set before any work), not as a Ray runtime_env: that would
    start dedicated worker processes through the runtime-env agent, seconds per worker.
    """
    forwarded = {k: v for k, v in os.environ.items() if k.startswith(FORWARDED_ENV_PREFIXES)}
    return {**forwarded, **WORKER_ENV}


def _absolute(context: FileContext) -> FileContext:
    """Workers may run elsewhere and in another directory: give them absolute paths."""
    return replace(context, path=context.path.absolute(), outdir=context.outdir.absolute())


@dataclass
class _Input:
    """An input on its way through the cluster."""

    context: FileContext
    pages: list[Page] = field(default_factory=list)
    waiting: int = 0  # page tasks not yet returned
    errors: dict[int, str] = field(default_factory=dict)  # page number -> reason
    seconds: float = 0.0


class _Scheduler:
    """Feeds plan tasks, page tasks and actor calls, yielding each input's result as it ends."""

    def __init__(self, env: dict[str, str]):
        self.plan_task = ray.remote(plan_input).options(num_cpus=1, max_retries=TASK_RETRIES)
        self.page_task = ray.remote(ocr_page).options(num_cpus=1, max_retries=TASK_RETRIES)
        self.env = env
        self.cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        finisher = ray.remote(DocumentFinisher).options(
            num_cpus=0,
            max_restarts=-1,
            max_task_retries=TASK_RETRIES,
            scheduling_strategy="SPREAD",
        )
        self.actors = [finisher.remote(env) for _ in range(self.cpus)]
        self.idle: deque = deque()
        self.pending: dict = {}  # ObjectRef -> (kind, input or actor, actor or page number)
        self.todo: deque[FileContext] = deque()
        self.page_queue: deque[tuple[_Input, PageRef]] = deque()
        self.finish_queue: deque[tuple[_Input, list[Page] | None]] = deque()
        self.open_inputs = 0
        expected = (pipeline.PIPELINE_VERSION, pipeline.model_version())
        self.expected_versions = expected
        for actor in self.actors:
            self.pending[actor.versions.remote()] = ("versions", actor, None)

    def run(self, contexts: list[FileContext]) -> Results:
        self.todo.extend(contexts)
        while self.todo or self.pending or self.page_queue or self.finish_queue:
            self._submit()
            if not self.pending:  # cannot happen: a queued unit always has a slot or a wait
                raise RuntimeError("ray executor: work queued but nothing running")
            ready, _ = ray.wait(list(self.pending), num_returns=1)
            for ref in ready:
                yield from self._collect(ref)

    def stop(self) -> None:
        """Cancel what is still running (on Ctrl-C or an error) and end the actors."""
        for ref, (kind, _, _) in self.pending.items():
            if kind in ("plan", "page"):
                ray.cancel(ref, force=True)
        for actor in self.actors:
            ray.kill(actor)
        self.pending.clear()

    # --- submitting --------------------------------------------------------------------------

    def _submit(self) -> None:
        plans = sum(kind == "plan" for kind, _, _ in self.pending.values())
        open_limit = OPEN_INPUTS_PER_CPU * self.cpus
        while self.todo and plans < self.cpus and self.open_inputs < open_limit:
            item = _Input(self.todo.popleft())
            self.pending[self.plan_task.remote(item.context, self.env)] = ("plan", item, None)
            self.open_inputs += 1
            plans += 1
        pages = sum(kind == "page" for kind, _, _ in self.pending.values())
        while self.page_queue and pages < PAGES_IN_FLIGHT_PER_CPU * self.cpus:
            item, page = self.page_queue.popleft()
            lang = item.context.options.lang
            ref = self.page_task.remote(page, lang, self.env)
            self.pending[ref] = ("page", item, page.number)
            pages += 1
        while self.finish_queue and self.idle:
            (item, ready), actor = self.finish_queue.popleft(), self.idle.popleft()
            self.pending[actor.finish.remote(item.context, ready)] = ("finish", item, actor)

    # --- collecting --------------------------------------------------------------------------

    def _collect(self, ref) -> Results:
        kind, item, extra = self.pending.pop(ref)
        if kind == "versions":
            self._check_versions(ref, item)
        elif kind == "plan":
            yield from self._planned(ref, item)
        elif kind == "page":
            yield from self._page_done(ref, item, extra)
        else:
            self.idle.append(extra)
            result = self._value(ref, item.context)
            if not isinstance(result, FileResult):
                result = failed(item.context, result)
            result.seconds = round(result.seconds + item.seconds, 3)
            yield from self._close(item, result)

    def _check_versions(self, ref, actor) -> None:
        versions = self._value(ref, None)
        if tuple(versions) != self.expected_versions:
            raise VanbanError(
                "ray cluster",
                f"a worker has pipeline/model {versions}, this driver {self.expected_versions}: "
                "install the same vanban and model on every node",
            )
        self.idle.append(actor)

    def _planned(self, ref, item: _Input) -> Results:
        plan = self._value(ref, item.context)
        if isinstance(plan, str):
            yield from self._close(item, failed(item.context, plan))
            return
        item.seconds += plan.seconds
        if plan.error is not None:
            yield from self._close(item, failed(item.context, plan.error))
        elif plan.text:
            self.finish_queue.append((item, None))
        elif not plan.refs:
            self.finish_queue.append((item, plan.ready))
        else:
            item.pages, item.waiting = list(plan.ready), len(plan.refs)
            self.page_queue.extend((item, page) for page in plan.refs)

    def _page_done(self, ref, item: _Input, number: int) -> Results:
        value = self._value(ref, item.context)
        item.waiting -= 1
        if isinstance(value, str):
            item.errors[number] = value
        else:
            page, seconds = value
            item.seconds += seconds
            if isinstance(page, tuple):  # (path, reason)
                item.errors[number] = page[1]
            else:
                item.pages.append(page)
        if item.errors and item.waiting:  # no more pages of a failed input: drop those queued
            queued = len(self.page_queue)
            self.page_queue = deque(p for p in self.page_queue if p[0] is not item)
            item.waiting -= queued - len(self.page_queue)
        if item.waiting == 0:
            if item.errors:  # the first failed page in page order, as a local run reports it
                yield from self._close(item, failed(item.context, item.errors[min(item.errors)]))
            else:
                self.finish_queue.append((item, item.pages))

    def _close(self, item: _Input, result: FileResult) -> Results:
        self.open_inputs -= 1
        yield item.context, result

    def _value(self, ref, context: FileContext | None):
        """`ray.get(ref)`, or the failure reason when its worker died or the code raised."""
        try:
            return ray.get(ref)
        except RayTaskError as error:  # a bug: traceback on stderr, the input fails alone
            print(error, file=sys.stderr)
            cause = error.cause if error.cause is not None else error
            if context is None:
                raise
            return internal_error(cause)
        except RayError:  # worker or node lost past its retries, out of memory
            if context is None:
                raise
            return WORKER_DIED
