"""The `vanban` command: argument parsing only; the work is in pipeline.py, batch.py, the stages."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import re
import sys
import tempfile
from pathlib import Path

from vanban import __version__
from vanban.core.errors import ExitCode, VanbanError
from vanban.core.files import atomic_write_text, json_text
from vanban.core.formats import sniff
from vanban.core.records import Provenance, TextLine

log = logging.getLogger("vanban")
STDIO = "-"
RESTORE_CHUNK_LINES = 2000  # lines restored per call in `vanban restore`; context spans a chunk


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `vanban` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(format="vanban: %(message)s", level=logging.INFO, stream=sys.stderr)
    if getattr(args, "quiet", False):
        log.setLevel(logging.WARNING)
    try:
        return int(args.func(args))
    except VanbanError as error:
        print(f"vanban: error: {error}", file=sys.stderr)
        return ExitCode.INPUT_FAILED
    except KeyboardInterrupt:
        print("vanban: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        sys.stderr.close()  # e.g. `vanban restore big.txt | head`
        return ExitCode.OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vanban",
        description="Scanned Vietnamese government documents -> restored text and structured JSON.",
    )
    parser.add_argument("--version", action="version", version=f"vanban {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_process(sub)
    _add_stage_commands(sub)
    _register_plugins(sub)
    return parser


def _add_process(sub) -> None:
    p = sub.add_parser(
        "process",
        help="run the whole pipeline on files and directories",
        description="OCR, restore and segment PDFs, images and .txt files. "
        "Directories are walked recursively; finished inputs are skipped on re-runs.",
    )
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        metavar="OUTDIR",
        help="output directory (created if missing)",
    )
    p.add_argument(
        "-j",
        "--jobs",
        type=_positive_int,
        default=_default_jobs(),
        help="worker processes (default: number of cores, %(default)s here)",
    )
    p.add_argument("--force", action="store_true", help="redo inputs that are already done")
    p.add_argument(
        "--force-ocr", action="store_true", help="OCR PDFs even when they carry a text layer"
    )
    p.add_argument("--lang", default="vie", help="Tesseract language (default: %(default)s)")
    _add_archive_options(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar (for logs)")
    p.add_argument(
        "--log-json", type=Path, metavar="FILE", help="append one JSON line per input to FILE"
    )
    p.add_argument(
        "--executor",
        choices=("local", "ray"),
        default="local",
        help="where inputs are processed: local worker processes (default), or a Ray cluster "
        "(pages as tasks; needs vanban[ray] and an OUTDIR every node shares)",
    )
    p.add_argument(
        "--ray-address",
        metavar="ADDRESS",
        help="with --executor ray: 'auto' (the cluster this machine belongs to) or "
        "ray://HOST:10001; default: start Ray on this machine for the run",
    )
    p.set_defaults(func=run_process)


def _add_archive_options(p) -> None:
    """Outputs for archives (PDF/A, ALTO, hOCR) and the OCR engine's limits."""
    p.add_argument(
        "--pdf",
        action="store_true",
        help="also write <name>.pdf: the scan with the restored text as its searchable layer "
        "(PDF/A-2b)",
    )
    p.add_argument("--alto", action="store_true", help="also write <name>.alto.xml (ALTO v4)")
    p.add_argument("--hocr", action="store_true", help="also write <name>.hocr")
    _add_ocr_engine_option(p)
    p.add_argument(
        "--ocr-timeout",
        type=float,
        default=180.0,
        metavar="SECONDS",
        help="give up OCR of a page after this long, leaving it without text "
        "(default: %(default)g; 0 = no limit)",
    )
    p.add_argument(
        "--skip-big",
        type=float,
        metavar="MPX",
        help="do not OCR pages larger than this many megapixels",
    )


OCR_ENGINES = ("tesseract", "trueocr")  # vanban.ocr.engine.ENGINES, named here to keep --help light


def _add_ocr_engine_option(p) -> None:
    p.add_argument(
        "--ocr-engine",
        choices=OCR_ENGINES,
        default="tesseract",
        help="OCR engine for pages without a text layer (default: %(default)s; trueocr: "
        "pip install 'vanban[ocr-trueocr]', see docs/BENCHMARKS.md)",
    )


def _add_stage_commands(sub) -> None:
    p = sub.add_parser("ocr", help="OCR one scan to text (one line per OCR line)")
    p.add_argument("file", nargs="?", default=STDIO, help="PDF, image or .txt ('-' = stdin)")
    p.add_argument("-o", "--output", default=STDIO, help="output text file ('-' = stdout)")
    p.add_argument("--force-ocr", action="store_true")
    p.add_argument("--lang", default="vie")
    _add_ocr_engine_option(p)
    p.set_defaults(func=run_ocr)

    p = sub.add_parser("restore", help="restore Vietnamese marks, one output line per input line")
    p.add_argument("file", nargs="?", default=STDIO, help="UTF-8 text ('-' = stdin)")
    p.add_argument("-o", "--output", default=STDIO, help="output text file ('-' = stdout)")
    p.set_defaults(func=run_restore)

    p = sub.add_parser("segment", help="sections, assignments and metadata of a text as JSON")
    p.add_argument("file", nargs="?", default=STDIO, help="UTF-8 text ('-' = stdin)")
    p.add_argument("-o", "--output", default=STDIO, help="output JSON file ('-' = stdout)")
    p.set_defaults(func=run_segment)

    p = sub.add_parser("schema", help="print the JSON Schema of the output")
    p.set_defaults(func=run_schema)


def _register_plugins(sub) -> None:
    """Subcommands other modules add (index, search, export, serve), if those modules exist."""
    for module_name in ("vanban.search", "vanban.export", "vanban.web"):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name == module_name:
                continue
            log.warning("%s unavailable: %s", module_name, error)
            continue
        except Exception as error:  # noqa: BLE001 - a broken plugin must not break the CLI
            log.warning("%s unavailable: %s: %s", module_name, type(error).__name__, error)
            continue
        register = getattr(module, "register_cli", None)
        if register is None:
            log.warning("%s unavailable: no register_cli()", module_name)
            continue
        register(sub)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


# --- commands ----------------------------------------------------------------------------------


def run_process(args) -> int:
    from vanban.batch import BatchOptions, run_batch
    from vanban.pipeline import Options, model_dir

    _warn_without_model(model_dir())
    try:
        check_lang(args.lang, args.ocr_engine)
    except VanbanError as error:
        print(f"vanban: error: {error}", file=sys.stderr)
        return ExitCode.USAGE
    settings = BatchOptions(
        jobs=args.jobs,
        force=args.force,
        quiet=args.quiet,
        log_json=args.log_json,
        options=Options(
            force_ocr=args.force_ocr,
            lang=args.lang,
            pdf=args.pdf,
            alto=args.alto,
            hocr=args.hocr,
            ocr_engine=args.ocr_engine,
            ocr_timeout=args.ocr_timeout,
            skip_big=args.skip_big,
        ),
        executor=args.executor,
        ray_address=args.ray_address,
    )
    try:
        report = run_batch(args.paths, args.output, settings)
    except VanbanError as error:
        print(f"vanban: error: {error}", file=sys.stderr)
        return ExitCode.USAGE
    print_summary(report)
    if report.interrupted:
        return ExitCode.INTERRUPTED
    return ExitCode.INPUT_FAILED if report.failures else ExitCode.OK


def print_summary(report) -> None:
    """Where the outputs are, what was done, and (on stderr) every failure with its reason."""
    print(
        f"vanban: outputs in {report.outdir}/ (<name>.txt restored, <name>.ocr.txt raw OCR, "
        "<name>.json structure)"
    )
    print(
        f"processed {len(report.processed)}, skipped {len(report.skipped)}, "
        f"failed {len(report.failures)} in {report.seconds:.1f} s; "
        f"pages {report.total('pages')}, lines {report.total('lines')}, "
        f"sections {report.total('sections')}, assignments {report.total('assignments')}"
    )
    if report.interrupted:
        print("vanban: interrupted; run the same command again to resume", file=sys.stderr)
    if report.failures:
        print(f"vanban: {len(report.failures)} input(s) failed:", file=sys.stderr)
        for failure in report.failures:
            print(f"  {failure.source}: {failure.reason}", file=sys.stderr)


def check_lang(lang: str, engine: str = "tesseract") -> None:
    """VanbanError, once for the whole run, when Tesseract runs but lacks a language of `lang`
    (without Tesseract, only inputs that need OCR fail, each saying so); for another engine, when
    it is not installed or does not read `lang`."""
    from vanban.ocr.engine import get_engine, installed_languages

    if engine != "tesseract":
        reason = get_engine(engine).missing(lang)
        if reason:
            raise VanbanError(f"--ocr-engine {engine}", reason)
        return
    installed = installed_languages()
    missing = [code for code in lang.split("+") if installed and code not in installed]
    if missing:
        raise VanbanError(
            f"--lang {lang}",
            f"Tesseract has no language {'+'.join(missing)} (installed: "
            f"{', '.join(sorted(installed))}; e.g. apt install tesseract-ocr-{missing[0]})",
        )


def run_ocr(args) -> int:
    from vanban.ocr import read_document
    from vanban.ocr.engine import OcrSettings
    from vanban.pipeline import number_lines, render_text

    try:
        check_lang(args.lang, args.ocr_engine)
    except VanbanError as error:
        print(f"vanban: error: {error}", file=sys.stderr)
        return ExitCode.USAGE

    with _input_file(args.file) as (path, source):
        try:
            scanned = read_document(
                path,
                force_ocr=args.force_ocr,
                lang=args.lang,
                ocr=OcrSettings(engine=args.ocr_engine),
            )
        except VanbanError as error:
            raise VanbanError(source, error.reason) from error
    lines = number_lines(scanned)
    _emit(args.output, render_text(lines, [line.text for line in lines]) if lines else "")
    return ExitCode.OK


def run_restore(args) -> int:
    from vanban.pipeline import get_restorer, model_dir

    _warn_without_model(model_dir())
    text = _read_text(args.file)
    lines = split_lines(text)
    restorer = get_restorer()
    out: list[str] = []
    for start in range(0, len(lines), RESTORE_CHUNK_LINES):
        chunk = lines[start : start + RESTORE_CHUNK_LINES]
        out += restore_aligned(restorer, chunk)
    ends = line_endings(text)
    _emit(args.output, "".join(line + end for line, end in zip(out, ends, strict=True)))
    return ExitCode.OK


def restore_aligned(restorer, lines: list[str]) -> list[str]:
    """Restored text, exactly one line per input line; blank lines come back unchanged."""
    restored = restorer.restore_lines(lines)
    if len(restored) != len(lines):
        raise RuntimeError(f"restorer returned {len(restored)} lines for {len(lines)}")
    return [
        line if not line.strip() else " ".join(r.text.splitlines())
        for line, r in zip(lines, restored, strict=True)
    ]


def run_segment(args) -> int:
    from vanban.segment import segment_document

    source = "<stdin>" if args.file == STDIO else args.file
    rows = split_lines(_read_text(args.file))
    lines = [TextLine(row, Provenance(source=source, line=k + 1)) for k, row in enumerate(rows)]
    _emit(args.output, json_text(segment_document(lines, source=source)))
    return ExitCode.OK


def run_schema(args) -> int:
    from vanban.segment import load_schema

    sys.stdout.write(json_text(load_schema()))
    return ExitCode.OK


# --- input and output helpers ------------------------------------------------------------------


def split_lines(text: str) -> list[str]:
    """Lines as `wc -l` counts them (a last line without newline counts too); universal
    newlines: CRLF and a lone CR (old Mac files) end a line as LF does."""
    return [line for line, _ in _lines_with_endings(text)]


def line_endings(text: str) -> list[str]:
    """The terminator of each line of `split_lines(text)` (CRLF, LF, CR, or none for a last line
    without one), so restored text keeps the input's line breaks and final-newline state."""
    return [end for _, end in _lines_with_endings(text)]


_LINE = re.compile(r"([^\r\n]*)(\r\n|\n|\r|$)")


def _lines_with_endings(text: str) -> list[tuple[str, str]]:
    pairs = [(m.group(1), m.group(2)) for m in _LINE.finditer(text)]
    return [(line, end) for line, end in pairs if line or end]


def _warn_without_model(directory) -> None:
    if directory is None:
        log.warning("no restorer model in models/restorer (or $VANBAN_MODEL_DIR)")


def _read_text(file: str) -> str:
    """UTF-8 text from a file or stdin (BOM allowed); VanbanError naming the input otherwise."""
    source = "<stdin>" if file == STDIO else file
    try:
        data = sys.stdin.buffer.read() if file == STDIO else Path(file).read_bytes()
    except OSError as error:
        raise VanbanError(source, f"cannot read: {error.strerror or error}") from error
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise VanbanError(source, f"not UTF-8 text (byte {error.start})") from error


class _input_file:  # noqa: N801 - used as a context manager
    """A path for `read_document`: the file itself, or stdin copied to a temp file of its type."""

    def __init__(self, file: str):
        self.file = file
        self.temp: Path | None = None

    def __enter__(self) -> tuple[Path, str]:
        if self.file != STDIO:
            if not Path(self.file).exists():
                raise VanbanError(self.file, "no such file or directory")
            return Path(self.file), self.file
        data = sys.stdin.buffer.read()
        _kind, suffix = sniff(data) or ("text", ".txt")
        fd, name = tempfile.mkstemp(prefix="vanban-stdin-", suffix=suffix)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        self.temp = Path(name)
        return self.temp, "<stdin>"

    def __exit__(self, *exc) -> None:
        if self.temp is not None:
            self.temp.unlink(missing_ok=True)


def _emit(output: str, text: str) -> None:
    """Write to stdout, or atomically to a file."""
    if output == STDIO:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        atomic_write_text(Path(output), text)
    except OSError as error:
        raise VanbanError(output, f"cannot write: {error.strerror or error}") from error


if __name__ == "__main__":
    sys.exit(main())
