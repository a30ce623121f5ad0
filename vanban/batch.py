"""Batch runs of `vanban process`: find inputs, skip what is done, run the rest in a process pool.

The run is resumable: each finished input is recorded in the output directory's manifest after its
outputs are in place, so a run killed at any moment and started again ends with the same files.
"""

from __future__ import annotations

import functools
import itertools
import json
import multiprocessing
import os
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path, PurePosixPath

from tqdm import tqdm

from vanban import pipeline
from vanban.core.errors import VanbanError
from vanban.core.files import remove_stale_temp_files, sha256_file
from vanban.core.formats import DESCRIPTION, is_supported, walk_inputs
from vanban.manifest import MANIFEST_NAME, Entry, Manifest
from vanban.pipeline import (
    OUTPUT_SUFFIXES,
    PIPELINE_VERSION,
    FileContext,
    FileResult,
    Options,
    init_worker,
    process_file,
)

RESERVED_NAMES = {MANIFEST_NAME}


@dataclass(frozen=True)
class InputFile:
    """One input found on the command line or under a directory argument."""

    path: Path
    source: str  # as the user would name it: the argument joined with the path below it
    relative: PurePosixPath  # path below its argument (the file name for a file argument)
    root: str  # name of the argument it was found under

    @property
    def identity(self) -> str:
        """The absolute path: what the manifest knows the input by."""
        return str(self.path.resolve())


@dataclass
class Failure:
    source: str
    reason: str


@dataclass
class BatchReport:
    """What a batch run did, for the summary and the exit code."""

    outdir: Path
    processed: list[FileResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False

    def total(self, attribute: str) -> int:
        return sum(getattr(result, attribute) for result in self.processed)


@dataclass(frozen=True)
class BatchOptions:
    jobs: int = 1
    force: bool = False
    quiet: bool = False
    log_json: Path | None = None
    options: Options = Options()


# --- finding inputs and naming their outputs ---------------------------------------------------


def discover_inputs(paths: Iterable[Path], outdir: Path) -> tuple[list[InputFile], list[Failure]]:
    """Inputs named by `paths` (directories walked recursively), deduplicated.

    Output directories of vanban (folders holding a manifest, `outdir` too) are never read as
    input: one named on the command line is a failure, one found while walking is skipped.
    """
    found: dict[Path, InputFile] = {}
    failures: list[Failure] = []
    for argument in paths:
        argument = Path(argument)
        holder = output_dir_holding(argument) if argument.exists() else None
        if holder is not None:
            reason = f"is in the vanban output directory {holder}, not read as input"
            failures.append(Failure(str(argument), reason))
        elif argument.is_dir():
            files = list(walk_inputs(argument, exclude=outdir, marker=MANIFEST_NAME))
            if not files:
                failures.append(Failure(str(argument), f"no {DESCRIPTION} files found"))
            for path in files:
                relative = PurePosixPath(path.relative_to(argument).as_posix())
                root = argument.resolve().name or "root"
                found.setdefault(path.resolve(), InputFile(path, str(path), relative, root))
        elif not argument.exists():
            failures.append(Failure(str(argument), "no such file or directory"))
        elif not is_supported(argument):
            reason = f"unsupported file type '{argument.suffix}' (expected {DESCRIPTION})"
            failures.append(Failure(str(argument), reason))
        else:
            relative = PurePosixPath(argument.name)
            root = argument.resolve().parent.name or "root"
            found.setdefault(argument.resolve(), InputFile(argument, str(argument), relative, root))
    return list(found.values()), failures


def output_dir_holding(path: Path) -> Path | None:
    """The vanban output directory (a folder with a manifest) that `path` is or lies in."""
    resolved = path.resolve()
    return next((d for d in (resolved, *resolved.parents) if (d / MANIFEST_NAME).is_file()), None)


def output_names(
    inputs: list[InputFile], owners: dict[str, str] | None = None
) -> dict[InputFile, str]:
    """A unique output name per input, stable across runs into the same OUTDIR.

    `owners` maps the names already in OUTDIR's manifest to their input's absolute path. An input
    found there keeps its name, whatever the arguments of this run. A new input is named by its
    path below its argument without the suffix (`sub/a`); when that name is taken (by another
    input of this run or of the manifest) it keeps its suffix (`a.pdf`, `a.txt`) if that tells it
    apart, then gets its argument's name as a prefix (`scans1/a`), then a number. A name whose
    files belong to another input is never given.
    """
    owners = owners or {}
    known = {path: name for name, path in sorted(owners.items(), reverse=True)}
    names = {item: known[item.identity] for item in inputs if item.identity in known}
    taken: set[str] = set(RESERVED_NAMES)
    for name in [*owners, *names.values()]:
        taken |= _files_of(name)
    new = sorted(
        (i for i in inputs if i not in names), key=lambda i: (str(i.relative), i.root, str(i.path))
    )
    stems = Counter(str(i.relative.with_suffix("")) for i in new)
    relatives = Counter(str(i.relative) for i in new)
    for item in new:
        candidates = _name_candidates(item, stems, relatives, owners)
        name = next(c for c in candidates if _files_of(c).isdisjoint(taken))
        taken |= _files_of(name)
        names[item] = name
    return names


def _name_candidates(
    item: InputFile, stems: Counter, relatives: Counter, owners: dict[str, str]
) -> Iterator[str]:
    """Names for a new input, preferred first (see `output_names`)."""
    stem = str(item.relative.with_suffix(""))
    if stems[stem] == 1:
        yield stem
    owner_suffix = Path(owners[stem]).suffix.lower() if stem in owners else None
    if relatives[str(item.relative)] == 1 and owner_suffix != item.path.suffix.lower():
        yield str(item.relative)
    yield f"{item.root}/{stem}"
    yield f"{item.root}/{item.relative}"
    for number in itertools.count(2):
        yield f"{item.root}/{item.relative}-{number}"


def _files_of(name: str) -> set[str]:
    return {name + suffix for suffix in OUTPUT_SUFFIXES.values()}


def _naming_note(item: InputFile, name: str, owners: dict[str, str]) -> str | None:
    """Why a new input's outputs are not named by its plain path (None when they are)."""
    stem = str(item.relative.with_suffix(""))
    if name == stem:
        return None
    held_by = owners.get(stem)
    why = f"the outputs of {held_by}" if held_by else "another input of this run"
    return f"vanban: note: {item.source}: outputs named '{name}' ('{stem}' names {why})"


# --- the run -----------------------------------------------------------------------------------


def run_batch(paths: list[Path], outdir: Path, settings: BatchOptions) -> BatchReport:
    """Process every input under `paths` into `outdir`, resuming where an earlier run stopped."""
    started = time.perf_counter()
    inputs, failures = discover_inputs(paths, outdir)
    manifest = Manifest.open(outdir, replace_unreadable=settings.force)
    remove_stale_temp_files(outdir)
    report = BatchReport(outdir=outdir)
    log = _JsonLog(settings.log_json)
    for failure in failures:
        _fail(report, log, failure)
    todo = _plan(inputs, manifest, settings, report, log)
    try:
        _run(todo, manifest, settings, report, log)
    except KeyboardInterrupt:
        report.interrupted = True
    finally:
        manifest.close()
        log.close()
    report.seconds = time.perf_counter() - started
    return report


def _plan(inputs, manifest, settings, report, log) -> list[tuple[FileContext, Entry]]:
    """Contexts for inputs that need work; the others are reported as skipped."""
    versions = (PIPELINE_VERSION, pipeline.model_version())
    planned: dict[InputFile, Entry] = {}
    for item in inputs:
        try:
            planned[item] = _planned_entry(item, versions, settings.options)
        except OSError as error:
            _fail(report, log, Failure(item.source, f"cannot read: {error.strerror or error}"))
    owners = _follow_moved_inputs(planned, manifest)
    names = output_names(list(planned), owners)
    owned = set(owners.values())
    todo = []
    for item in sorted(planned, key=lambda i: names[i]):
        entry = planned[item]
        entry.name = names[item]
        if entry.input_path not in owned:
            note = _naming_note(item, entry.name, owners)
            if note:
                print(note, file=sys.stderr)
        if not settings.force and manifest.is_current(entry):
            report.skipped.append(item.source)
            log.write({"input": item.source, "name": entry.name, "status": "skipped"})
            continue
        context = FileContext(item.path, item.source, manifest.outdir, entry.name, settings.options)
        todo.append((context, entry))
    return todo


def _follow_moved_inputs(planned: dict[InputFile, Entry], manifest: Manifest) -> dict[str, str]:
    """Manifest names -> input paths, where a name whose input is gone passes to a new input
    with the same SHA-256 (the file was moved or renamed): it keeps its outputs' name."""
    owners = manifest.owners()
    known = set(owners.values())
    new = [entry for entry in planned.values() if entry.input_path not in known]
    gone: dict[str, list[str]] = {}  # SHA-256 -> names whose input no longer exists
    for name, path in sorted(owners.items()) if new else ():
        if not Path(path).exists():
            gone.setdefault(manifest.entries[name].sha256, []).append(name)
    for entry in new:
        names = gone.get(entry.sha256)
        if names:
            owners[names.pop(0)] = entry.input_path
    return owners


def _planned_entry(item: InputFile, versions: tuple[str, str], options: Options) -> Entry:
    return Entry(
        name="",
        input=item.source,
        input_path=item.identity,
        size=item.path.stat().st_size,
        sha256=sha256_file(item.path),
        stage="planned",
        pipeline_version=versions[0],
        model_version=versions[1],
        options=options.to_dict(),
    )


def _run(todo, manifest: Manifest, settings: BatchOptions, report: BatchReport, log) -> None:
    planned = {context.name: entry for context, entry in todo}
    progress = _Progress(len(todo), quiet=settings.quiet)
    try:
        for context, result in _execute([c for c, _ in todo], settings.jobs, progress.lines):
            entry = planned[context.name]
            entry.stage, entry.outputs, entry.error = result.stage, result.outputs, result.error
            entry.output_sha256 = {
                kind: sha256_file(manifest.outdir / path) for kind, path in result.outputs.items()
            }
            manifest.record(entry)
            log.write(
                {
                    "input": result.source,
                    "status": "done" if result.ok else "failed",
                    **_counts(result),
                }
            )
            if result.ok:
                report.processed.append(result)
            else:
                report.failures.append(Failure(result.source, result.error))
                progress.write(f"vanban: error: {result.source}: {result.error}")
            progress.update(result)
    finally:
        progress.close()


def _execute(
    contexts: list[FileContext], jobs: int, on_lines: Callable[[str, int, int], None] | None = None
) -> Iterator[tuple[FileContext, FileResult]]:
    """Results as they finish: in this process for one job, else in a pool of worker processes.

    In this process, `on_lines(source, lines done, lines)` follows the restorer through a file.
    """
    if jobs > 1:
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # one Tesseract thread per worker
    if jobs > 1 and len(contexts) == 1:
        contexts = [replace(contexts[0], page_jobs=jobs)]  # one file: its pages in parallel
    if jobs <= 1 or len(contexts) <= 1:
        for context in contexts:
            follow = functools.partial(on_lines, context.source) if on_lines else None
            yield context, _guarded(lambda c=context, f=follow: process_file(c, f), context)
        return
    yield from _execute_in_pools(contexts, jobs)


WORKER_DIED = "a worker process died on this input (killed, or out of memory)"
MAX_FRUITLESS_POOLS = 3  # pools in a row that died without finishing anything
LINE_PROGRESS_SECONDS = 30.0  # without a progress bar, how often a long file says how far it is


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
            yield context, FileResult(source=context.source, name=context.name, error=WORKER_DIED)
    for context in todo:  # left when pools kept dying without finishing anything
        yield context, FileResult(source=context.source, name=context.name, error=WORKER_DIED)


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
                    yield context, _guarded(future.result, context)
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


def _guarded(call: Callable[[], FileResult], context: FileContext) -> FileResult:
    """Run `call`; a bug becomes a failed result with its traceback on stderr, not a dead batch."""
    try:
        return call()
    except Exception as error:  # noqa: BLE001 - one broken input must not stop the batch
        traceback.print_exc(file=sys.stderr)
        reason = f"internal error: {type(error).__name__}: {error}"
        return FileResult(source=context.source, name=context.name, error=reason)


def _fail(report: BatchReport, log, failure: Failure) -> None:
    report.failures.append(failure)
    print(f"vanban: error: {failure.source}: {failure.reason}", file=sys.stderr)
    log.write({"input": failure.source, "status": "failed", "error": failure.reason})


def _counts(result: FileResult) -> dict:
    data = asdict(result)
    data.pop("source")
    return data


class _Progress:
    """tqdm bar over files with pages done, pages/s and failures; silent when quiet or not a tty."""

    def __init__(self, total: int, quiet: bool):
        self.bar = tqdm(
            total=total,
            unit="file",
            file=sys.stderr,
            disable=True if quiet else None,
            dynamic_ncols=True,
            desc="vanban",
        )
        self.pages = 0
        self.failed = 0
        self.started = time.perf_counter()
        self.quiet = quiet
        self.said = self.started  # when a line of progress inside a file was last printed

    def update(self, result: FileResult) -> None:
        self.pages += result.pages
        self.failed += 0 if result.ok else 1
        rate = self.pages / max(time.perf_counter() - self.started, 1e-6)
        self.bar.set_postfix_str(
            f"{self.pages} pages, {rate:.2f} pages/s, {self.failed} failed", refresh=False
        )
        self.bar.update(1)

    def lines(self, source: str, done: int, total: int) -> None:
        """Progress inside a long file: on the bar, else (not quiet) a line every 30 s."""
        if done >= total and done <= pipeline.RESTORE_WINDOW_LINES:
            return  # a short file: the file count says enough
        if not self.bar.disable:
            self.bar.set_postfix_str(f"{source}: {done}/{total} lines restored")
        elif not self.quiet and time.perf_counter() - self.said >= LINE_PROGRESS_SECONDS:
            self.said = time.perf_counter()
            print(f"vanban: {source}: {done}/{total} lines restored", file=sys.stderr)

    def write(self, message: str) -> None:
        if self.bar.disable:
            print(message, file=sys.stderr)
        else:
            self.bar.write(message, file=sys.stderr)

    def close(self) -> None:
        self.bar.close()


class _JsonLog:
    """`--log-json FILE`: one JSON object per input, appended as inputs finish."""

    def __init__(self, path: Path | None):
        self.handle = None
        if path is not None:
            try:
                self.handle = open(path, "a", encoding="utf-8")
            except OSError as error:
                raise VanbanError(str(path), f"cannot open log file: {error.strerror}") from error

    def write(self, record: dict) -> None:
        if self.handle is not None:
            self.handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            self.handle.flush()

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
