"""Batch runs of `vanban process`: find inputs, skip what is done, run the rest on an executor.

The run is resumable: each finished input is recorded in the output directory's manifest after its
outputs are in place, so a run killed at any moment and started again ends with the same files.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

from tqdm import tqdm

from vanban import pipeline
from vanban.core.errors import VanbanError
from vanban.core.files import remove_stale_temp_files, sha256_file
from vanban.core.formats import DESCRIPTION, is_supported, walk_inputs
from vanban.executors import Executor, make_executor
from vanban.manifest import MANIFEST_NAME, Entry, Manifest
from vanban.pipeline import (
    OUTPUT_SUFFIXES,
    PIPELINE_VERSION,
    FileContext,
    FileResult,
    Options,
)

RESERVED_NAMES = {MANIFEST_NAME}


@dataclass(frozen=True)
class InputFile:
    """One input found on the command line or under a directory argument."""

    path: Path
    source: str  # as the user would name it: the argument joined with the path below it
    relative: PurePosixPath  # path below its argument (the file name for a file argument)
    root: str  # name of the argument it was found under


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
    executor: str = "local"  # or "ray" (vanban.executors)
    ray_address: str | None = None  # with executor "ray": None starts Ray on this machine


# --- finding inputs and naming their outputs ---------------------------------------------------


def discover_inputs(paths: Iterable[Path], outdir: Path) -> tuple[list[InputFile], list[Failure]]:
    """Inputs named by `paths` (directories walked recursively, `outdir` left out), deduplicated."""
    found: dict[Path, InputFile] = {}
    failures: list[Failure] = []
    for argument in paths:
        argument = Path(argument)
        if argument.is_dir():
            files = list(walk_inputs(argument, exclude=outdir))
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


def output_names(inputs: list[InputFile]) -> dict[InputFile, str]:
    """A unique output name per input, stable for the same set of inputs.

    The name is the input's path below its argument without the suffix (`sub/a`); inputs that would
    share output files keep their suffix (`a.pdf`, `a.txt`), then get their argument's name as a
    prefix (`scans1/a`), then a number.
    """
    ordered = sorted(inputs, key=lambda i: (str(i.relative), i.root, str(i.path)))
    stems = Counter(str(i.relative.with_suffix("")) for i in ordered)
    relatives = Counter(str(i.relative) for i in ordered)
    taken: set[str] = set(RESERVED_NAMES)
    names: dict[InputFile, str] = {}
    for item in ordered:
        stem = str(item.relative.with_suffix(""))
        candidates = [stem] if stems[stem] == 1 else []
        candidates += [str(item.relative)] if relatives[str(item.relative)] == 1 else []
        candidates += [f"{item.root}/{item.relative}"]
        name = next((c for c in candidates if _files_of(c).isdisjoint(taken)), None)
        number = 2
        while name is None:
            candidate = f"{item.relative}-{number}"
            name = candidate if _files_of(candidate).isdisjoint(taken) else None
            number += 1
        taken |= _files_of(name)
        names[item] = name
    return names


def _files_of(name: str) -> set[str]:
    return {name + suffix for suffix in OUTPUT_SUFFIXES.values()}


# --- the run -----------------------------------------------------------------------------------


def run_batch(paths: list[Path], outdir: Path, settings: BatchOptions) -> BatchReport:
    """Process every input under `paths` into `outdir`, resuming where an earlier run stopped."""
    started = time.perf_counter()
    executor = make_executor(settings.executor, settings.jobs, settings.ray_address)
    inputs, failures = discover_inputs(paths, outdir)
    manifest = Manifest.open(outdir, replace_unreadable=settings.force)
    remove_stale_temp_files(outdir)
    report = BatchReport(outdir=outdir)
    log = _JsonLog(settings.log_json)
    for failure in failures:
        _fail(report, log, failure)
    todo = _plan(inputs, manifest, settings, report, log)
    try:
        _run(todo, manifest, executor, settings, report, log)
    except KeyboardInterrupt:
        report.interrupted = True
    finally:
        manifest.close()
        log.close()
    report.seconds = time.perf_counter() - started
    return report


def _plan(inputs, manifest, settings, report, log) -> list[tuple[FileContext, Entry]]:
    """Contexts for inputs that need work; the others are reported as skipped."""
    names = output_names(inputs)
    versions = (PIPELINE_VERSION, pipeline.model_version())
    todo = []
    for item in sorted(inputs, key=lambda i: names[i]):
        try:
            planned = _planned_entry(item, names[item], versions, settings.options)
        except OSError as error:
            _fail(report, log, Failure(item.source, f"cannot read: {error.strerror or error}"))
            continue
        if not settings.force and manifest.is_current(planned):
            report.skipped.append(item.source)
            log.write({"input": item.source, "name": planned.name, "status": "skipped"})
            continue
        context = FileContext(
            item.path, item.source, manifest.outdir, planned.name, settings.options
        )
        todo.append((context, planned))
    return todo


def _planned_entry(
    item: InputFile, name: str, versions: tuple[str, str], options: Options
) -> Entry:
    return Entry(
        name=name,
        input=item.source,
        size=item.path.stat().st_size,
        sha256=sha256_file(item.path),
        stage="planned",
        pipeline_version=versions[0],
        model_version=versions[1],
        options=options.to_dict(),
    )


def _run(
    todo, manifest: Manifest, executor: Executor, settings: BatchOptions, report: BatchReport, log
) -> None:
    planned = {context.name: entry for context, entry in todo}
    progress = _Progress(len(todo), quiet=settings.quiet)
    try:
        for context, result in executor.run([c for c, _ in todo]):
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

    def update(self, result: FileResult) -> None:
        self.pages += result.pages
        self.failed += 0 if result.ok else 1
        rate = self.pages / max(time.perf_counter() - self.started, 1e-6)
        self.bar.set_postfix_str(
            f"{self.pages} pages, {rate:.2f} pages/s, {self.failed} failed", refresh=False
        )
        self.bar.update(1)

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
