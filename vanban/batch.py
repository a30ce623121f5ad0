"""Batch runs of `vanban process`: find inputs, skip what is done, run the rest on an executor.

The run is resumable: each finished input is recorded in the output directory's manifest after its
outputs are in place, so a run killed at any moment and started again ends with the same files.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

from tqdm import tqdm

from vanban import pipeline
from vanban.core.errors import VanbanError
from vanban.core.files import remove_stale_temp_files, sha256_file
from vanban.core.formats import DESCRIPTION, is_supported, walk_inputs
from vanban.executors import EXECUTORS, Executor, LocalExecutor
from vanban.manifest import MANIFEST_NAME, Entry, Manifest
from vanban.pipeline import (
    OUTPUT_SUFFIXES,
    PIPELINE_VERSION,
    FileContext,
    FileResult,
    Options,
)

RESERVED_NAMES = {MANIFEST_NAME}
LINE_PROGRESS_SECONDS = 30.0  # without a progress bar, how often a long file says how far it is


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
    executor: str = "local"  # or "ray" (vanban.executors)
    ray_address: str | None = None  # with executor "ray": None starts Ray on this machine


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


def make_executor(name: str, jobs: int, ray_address: str | None = None) -> Executor:
    """The executor named on the command line."""
    if name == "ray":
        try:
            from vanban.ray_executor import RayExecutor
        except ModuleNotFoundError as error:
            if error.name != "ray":
                raise
            raise VanbanError(
                "--executor ray", "Ray is not installed: pip install 'vanban[ray]'"
            ) from error
        return RayExecutor(address=ray_address)
    if name != "local":
        raise ValueError(f"unknown executor {name!r} (expected one of {', '.join(EXECUTORS)})")
    return LocalExecutor(jobs)


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
        remove_stale_temp_files(outdir)  # a worker killed mid-write left its temp file
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


def _run(
    todo, manifest: Manifest, executor: Executor, settings: BatchOptions, report: BatchReport, log
) -> None:
    planned = {context.name: entry for context, entry in todo}
    progress = _Progress(len(todo), quiet=settings.quiet)
    try:
        for context, result in executor.run([c for c, _ in todo], progress.lines):
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
