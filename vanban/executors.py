"""Where a batch's inputs are processed: a local process pool, or a Ray cluster (`--executor`).

An executor (`vanban.batch.make_executor` picks one) takes the contexts of the inputs that need
work and yields `(context, result)` as each input finishes; the driver (batch.py) alone records
results in the manifest and journal, so every executor resumes, logs and exits the same way.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from typing import Protocol

from vanban.pipeline import FileContext, FileResult, init_worker, process_file

EXECUTORS = ("local", "ray")
WORKER_DIED = "a worker process died on this input (killed, or out of memory)"
MAX_FRUITLESS_POOLS = 3  # pools in a row that died without finishing anything

Results = Iterator[tuple[FileContext, FileResult]]
LineProgress = Callable[[str, int, int], None]  # (input, lines restored, lines)


class Executor(Protocol):
    """Runs inputs and yields each one's result as it finishes (any order)."""

    def run(self, contexts: list[FileContext], on_lines: LineProgress | None = None) -> Results:
        """`on_lines`, where the executor can follow a file's restorer (in this process)."""
        ...


def failed(context: FileContext, reason: str) -> FileResult:
    return FileResult(source=context.source, name=context.name, error=reason)


def internal_error(error: BaseException) -> str:
    """The failure reason of an input that hit a bug (its traceback goes to stderr)."""
    return f"internal error: {type(error).__name__}: {error}"


def guarded(call: Callable[[], FileResult], context: FileContext) -> FileResult:
    """Run `call`; a bug becomes a failed result with its traceback on stderr, not a dead batch."""
    try:
        return call()
    except Exception as error:  # noqa: BLE001 - one broken input must not stop the batch
        traceback.print_exc(file=sys.stderr)
        return failed(context, internal_error(error))


# --- local: this process, or a pool of forked worker processes ---------------------------------


@dataclass(frozen=True)
class LocalExecutor:
    jobs: int = 1

    def run(self, contexts: list[FileContext], on_lines: LineProgress | None = None) -> Results:
        """Results as they finish: in this process for one job, else in worker processes.

        In this process, `on_lines(source, lines done, lines)` follows the restorer through a file.
        """
        jobs = self.jobs
        if jobs > 1:
            os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # one Tesseract thread per worker
        if jobs > 1 and len(contexts) == 1:
            contexts = [replace(contexts[0], page_jobs=jobs)]  # one file: its pages in parallel
        if jobs <= 1 or len(contexts) <= 1:
            for context in contexts:
                follow = functools.partial(on_lines, context.source) if on_lines else None
                run_one = functools.partial(process_file, context, follow)
                yield context, guarded(run_one, context)
            return
        yield from _execute_in_pools(contexts, jobs)


def _execute_in_pools(contexts: list[FileContext], jobs: int):
    """Run `contexts` in worker pools; when a worker dies, carry on in a fresh pool.

    The inputs that were being processed when a pool broke are suspects: they are retried at the
    end one at a time, so only an input that kills its worker on its own is failed.
    """
    todo, suspects, fruitless = list(contexts), [], 0
    while todo:
        finished, in_flight = yield from _execute_in_pool(todo, jobs)
        fruitless = 0 if finished else fruitless + 1
        if fruitless >= MAX_FRUITLESS_POOLS:
            break
        dead = [c for c in todo if c.name in in_flight]
        if dead or not finished:
            _say_worker_died(dead)
        suspects += dead
        todo = [c for c in todo if c.name not in finished and c.name not in in_flight]
    for context in suspects:
        finished, _ = yield from _execute_in_pool([context], 1)
        if context.name not in finished:
            yield context, failed(context, WORKER_DIED)
    for context in todo:  # left when pools kept dying without finishing anything
        yield context, failed(context, WORKER_DIED)


def _execute_in_pool(contexts: list[FileContext], jobs: int):
    """Yield results from one pool until done or broken; return (finished, in-flight) names."""
    # fork: workers are children of this process, so they can be told to die with it (kill -9)
    pool_context = multiprocessing.get_context("fork")
    started = pool_context.SimpleQueue()  # names of inputs workers have started
    finished: set[str] = set()
    with ProcessPoolExecutor(
        max_workers=min(jobs, len(contexts)),
        mp_context=pool_context,
        initializer=_init_pool_worker,
        initargs=(started,),
    ) as pool:
        pending = {pool.submit(_process_tracked, context): context for context in contexts}
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    context = pending.pop(future)
                    if isinstance(future.exception(), BrokenProcessPool):
                        continue
                    finished.add(context.name)
                    yield context, guarded(future.result, context)
        except BaseException:  # Ctrl-C, or the consumer stopped: do not wait for running files
            _stop_workers(pool)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    in_flight = set()
    while not started.empty():
        in_flight.add(started.get())
    return finished, in_flight - finished


def _say_worker_died(inputs: list[FileContext]) -> None:
    """One line on stderr when a pool broke: which inputs will be retried one at a time."""
    named = ", ".join(c.source for c in inputs) or "none started"
    print(
        f"vanban: warning: a worker process died (killed, or out of memory); "
        f"retrying one at a time: {named}",
        file=sys.stderr,
    )


_started_queue = None


def _init_pool_worker(started) -> None:
    global _started_queue
    _started_queue = started
    init_worker()


def _process_tracked(context: FileContext) -> FileResult:
    """`process_file` in a worker, first telling the parent which input it started."""
    _started_queue.put(context.name)
    return process_file(context)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Terminate the pool's workers now; their unfinished outputs are temp files, never recorded."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()
