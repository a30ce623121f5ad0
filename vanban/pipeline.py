"""The vanban pipeline for one input: scan -> lines -> restored lines -> document tree -> outputs.

`process_file` is a plain function from a small `FileContext` to a `FileResult`, so the batch runner
can call it in-process or in a worker. Each step below is one named stage.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TextIO

from vanban import __version__
from vanban.core.errors import VanbanError
from vanban.core.files import atomic_open, atomic_write_text, hash_tree, json_text
from vanban.core.records import Page, RestoredLine, ScannedDocument, TextLine

log = logging.getLogger("vanban")

# Bump when the outputs of the same input and model would change (layout, fields, stage wiring).
PIPELINE_VERSION = f"{__version__}+p2"  # p2: JSON `lines` one compact record per line
DOUBTFUL_BELOW = 0.5  # tokens the restorer is less sure of than this are listed in the JSON
OUTPUT_SUFFIXES = {
    "ocr_text": ".ocr.txt",
    "text": ".txt",
    "json": ".json",
    "pdf": ".pdf",
    "alto": ".alto.xml",
    "hocr": ".hocr",
}
ARCHIVE_KINDS = ("pdf", "alto", "hocr")  # written only when asked for
RESTORE_WINDOW_LINES = 1000  # lines per restorer call: what bounds the memory of a long input
RESTORE_CONTEXT_LINES = 8  # neighbour lines on either side a window is restored with
# a document this long gives the restorer's memory back before it is segmented (the next one
# reloads it, ~3 s against the minutes such a document takes): peak RSS stays ~ that of a window
RELEASE_AFTER_LINES = 10 * RESTORE_WINDOW_LINES
JSON_LINES_TAIL = '"lines": []\n}\n'


@dataclass(frozen=True)
class Options:
    """Per-run choices that change the outputs (recorded in the manifest)."""

    force_ocr: bool = False
    lang: str = "vie"
    pdf: bool = False  # searchable PDF/A with the restored text layer
    alto: bool = False
    hocr: bool = False
    ocr_engine: str = "tesseract"  # OCR engine (vanban.ocr.engine.ENGINES)
    ocr_timeout: float = 180.0  # seconds of OCR per page (0 = no limit)
    skip_big: float | None = None  # megapixels: larger pages are not OCR'd

    def to_dict(self) -> dict:
        """The choices, new ones only when set (a manifest of an earlier run stays valid)."""
        extra = {kind: True for kind in ARCHIVE_KINDS if getattr(self, kind)}
        if self.ocr_engine != Options.ocr_engine:
            extra["ocr_engine"] = self.ocr_engine
        if self.ocr_timeout != Options.ocr_timeout:
            extra["ocr_timeout"] = self.ocr_timeout
        if self.skip_big is not None:
            extra["skip_big"] = self.skip_big
        return {"force_ocr": self.force_ocr, "lang": self.lang, **extra}

    def archive_kinds(self) -> list[str]:
        return [kind for kind in ARCHIVE_KINDS if getattr(self, kind)]


@dataclass(frozen=True)
class FileContext:
    """Everything a worker needs to process one input."""

    path: Path  # file to read
    source: str  # the input as the user names it, recorded in the JSON
    outdir: Path
    name: str  # unique output name relative to `outdir`, without suffix
    options: Options = Options()
    page_jobs: int = 1  # OCR worker processes over this file's pages

    def output(self, kind: str) -> Path:
        return self.outdir / f"{self.name}{OUTPUT_SUFFIXES[kind]}"


@dataclass
class FileResult:
    """What processing one input produced: counts, output files, or the failure."""

    source: str
    name: str
    stage: str = "ocr"  # last stage reached: "done" when all outputs are written
    outputs: dict[str, str] = field(default_factory=dict)  # kind -> path relative to outdir
    pages: int = 0
    lines: int = 0
    sections: int = 0
    assignments: int = 0
    seconds: float = 0.0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def process_file(
    context: FileContext,
    progress: Callable[[int, int], None] | None = None,
    *,
    pages: list[Page] | None = None,
) -> FileResult:
    """Run one input through every stage, writing each output atomically as soon as it exists.

    Memory follows the restorer's window, not the document: lines are restored window by window
    and each line's JSON record goes to an anonymous spool file in OUTDIR as its window is done;
    `progress(lines done, lines)` is called after each window. `pages`: the input's pages, already
    read elsewhere (per-page OCR tasks on a cluster).
    """
    result = FileResult(source=context.source, name=context.name)
    started = time.perf_counter()
    try:
        scanned = read_scan(context, pages)
        lines = number_lines(scanned)
        text_only = all(page.method == "text" for page in scanned.pages)
        result.pages, result.lines = len(scanned.pages), len(lines)
        _write(context, result, "ocr_text", render_text(lines, [ln.text for ln in lines]))
        result.stage = "restore"
        archive = context.options.archive_kinds()
        # archive outputs place the restored words on the OCR'd words: those runs keep the scan,
        # its lines and the restored lines (memory then grows with the document)
        kept = (scanned, list(lines), []) if archive else None
        del scanned
        with tempfile.TemporaryFile("w+", encoding="utf-8", dir=context.outdir) as records:
            texts = restore_to_records(lines, records, progress, kept[2] if kept else None)
            _write(context, result, "text", render_text(lines, texts))
            if len(lines) > RELEASE_AFTER_LINES:
                release_restorer()
            result.stage = "segment"
            page_count = None if text_only else result.pages
            tree = segment_restored(lines, texts, context.source, page_count)
            result.sections, result.assignments = len(tree["sections"]), len(tree["assignments"])
            with _writing(context, result, "json") as path:
                write_document_json(path, tree, records)
        if kept:
            result.stage = "archive"
            write_archive_outputs(context, result, *kept)
        result.stage = "done"
    except VanbanError as error:
        result.error = error.reason
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def read_scan(context: FileContext, pages: list[Page] | None = None) -> ScannedDocument:
    """OCR stage: the input's pages of lines (read now unless given); no text is an error."""
    from vanban.ocr import read_document
    from vanban.ocr.reader import finish_document

    extra: dict = {"jobs": context.page_jobs} if context.page_jobs > 1 else {}
    try:
        if pages is not None:
            scanned = finish_document(str(context.path), pages)
        else:
            scanned = read_document(
                context.path,
                force_ocr=context.options.force_ocr,
                lang=context.options.lang,
                ocr=ocr_settings(context.options),
                **extra,
            )
    except OSError as error:
        raise VanbanError(context.source, f"cannot read: {error.strerror or error}") from error
    if not any(line.text.strip() for line in scanned.lines()):
        raise VanbanError(context.source, "no text found")
    return scanned


def ocr_settings(options: Options):
    """The OCR stage's settings (`vanban.ocr.engine.OcrSettings`) for a run's options."""
    from vanban.ocr.engine import OcrSettings

    return OcrSettings(
        engine=options.ocr_engine, timeout=options.ocr_timeout, skip_big=options.skip_big
    )


def number_lines(scanned: ScannedDocument) -> list[TextLine]:
    """All lines, numbered by their line in the output text files.

    Pages are separated by one blank line; within a page, gaps the OCR stage left in its numbering
    (the blank lines of a `.txt` input) are kept, so a text input keeps its line numbers.
    """
    numbered: list[TextLine] = []
    number = 0
    for page in scanned.pages:
        previous = None
        for line in page.lines:
            if previous is not None:
                number += max(1, line.prov.line - previous)
            elif not numbered:
                number = max(1, line.prov.line if page.method == "text" else 1)
            else:
                number += 2  # the blank line between pages
            previous = line.prov.line
            text = " ".join(line.text.splitlines())
            numbered.append(replace(line, text=text, prov=replace(line.prov, line=number)))
    return numbered


def render_text(lines: list[TextLine], texts: list[str]) -> str:
    """Text file body: text k at line `lines[k].prov.line`, blank lines between pages."""
    rows = [""] * (lines[-1].prov.line if lines else 0)
    for line, text in zip(lines, texts, strict=True):
        rows[line.prov.line - 1] = " ".join(text.splitlines())
    return "\n".join(rows) + "\n"


def restore_windows(texts: list[str]) -> Iterator[tuple[int, list[RestoredLine]]]:
    """Restore stage in windows of RESTORE_WINDOW_LINES lines: (first index, restored lines).

    Each window is restored with RESTORE_CONTEXT_LINES lines of its neighbours on either side
    (their own output is dropped), so a line at a window's edge still sees the lines around it.
    A document within one window is restored in one call, as a whole.
    """
    restorer = get_restorer()
    for start in range(0, len(texts), RESTORE_WINDOW_LINES):
        end = min(start + RESTORE_WINDOW_LINES, len(texts))
        low = max(0, start - RESTORE_CONTEXT_LINES)
        high = min(len(texts), end + RESTORE_CONTEXT_LINES)
        restored = restorer.restore_lines(texts[low:high])
        if len(restored) != high - low:
            raise RuntimeError(f"restorer returned {len(restored)} lines for {high - low}")
        yield start, restored[start - low : end - low]


def restore_lines(lines: list[TextLine]) -> list[RestoredLine]:
    """Restore stage: exactly one restored line per OCR line."""
    return [r for _, window in restore_windows([line.text for line in lines]) for r in window]


def restore_to_records(
    lines: list[TextLine],
    records: TextIO,
    progress: Callable[[int, int], None] | None = None,
    keep: list[RestoredLine] | None = None,
) -> list[str]:
    """Restore `lines` window by window: the restored text of each line; each line's JSON record
    is written to `records`, one compact line each, as its window is done (and each restored line
    appended to `keep` when given)."""
    texts: list[str] = []
    for start, window in restore_windows([line.text for line in lines]):
        if keep is not None:
            keep.extend(window)
        for line, restored in zip(lines[start : start + len(window)], window, strict=True):
            texts.append(" ".join(restored.text.splitlines()))
            records.write(json.dumps(line_record(line, restored), ensure_ascii=False) + "\n")
        if progress is not None:
            progress(len(texts), len(lines))
    return texts


def segment_restored(
    lines: list[TextLine], texts: list[str], source: str, pages: int | None
) -> dict:
    """Segment stage on the restored lines: the document tree with source and page count (`pages`
    None for text input), its `lines` left empty for `write_document_json` to fill.

    `lines` become the restored lines in place (a long input's text is not held twice).
    """
    from vanban.segment import segment_document

    for k, (line, text) in enumerate(zip(lines, texts, strict=True)):
        prov = line.prov if line.prov.source == source else replace(line.prov, source=source)
        lines[k] = TextLine(text=text, prov=prov, confidence=line.confidence)
    tree = segment_document(lines, source=source)
    head = {key: tree[key] for key in ("schema_version",) if key in tree}
    rest = {key: value for key, value in tree.items() if key not in head and key != "source"}
    return {**head, "source": source, "pages": pages, **rest, "lines": []}


def write_document_json(path: Path, tree: dict, records: TextIO) -> None:
    """The JSON output: the tree indented as every vanban JSON is, then its `lines` array with one
    compact record per line, copied from `records` (never the whole JSON as one string)."""
    head = json_text({**tree, "lines": []})
    if not head.endswith(JSON_LINES_TAIL):
        raise RuntimeError("the document tree must end with its `lines`")
    records.seek(0)
    with atomic_open(path) as out:
        out.write(head[: -len("[]\n}\n")] + "[")
        separator = "\n    "
        for record in records:
            out.write(separator + record.rstrip("\n"))
            separator = ",\n    "
        out.write("]\n}\n" if separator == "\n    " else "\n  ]\n}\n")


def line_record(line: TextLine, restored: RestoredLine) -> dict:
    """One entry of the JSON `lines` array: provenance, OCR text, restored text, doubtful tokens."""
    prov = line.prov
    return {
        "line": prov.line,
        "page": prov.page,
        "page_line": prov.page_line,
        "bbox": list(prov.bbox) if prov.bbox is not None else None,
        "ocr_text": line.text,
        "text": " ".join(restored.text.splitlines()),
        "ocr_confidence": round(line.confidence, 2) if line.confidence is not None else None,
        "tokens": [
            {"source": t.source, "text": t.text, "confidence": t.confidence}
            for t in restored.tokens
            if t.changed or t.confidence < DOUBTFUL_BELOW
        ],
    }


def write_archive_outputs(
    context: FileContext,
    result: FileResult,
    scanned: ScannedDocument,
    lines: list[TextLine],
    restored: list[RestoredLine],
) -> None:
    """Archive stage: the restored words on the page as PDF/A, ALTO and hOCR, as asked."""
    from vanban.archive import page_layouts, render_alto, render_hocr, write_searchable_pdf

    if all(page.method == "text" for page in scanned.pages):
        log.warning("%s: a text input has no pages: no PDF, ALTO or hOCR", context.source)
        return
    pages = page_layouts(scanned, lines, restored)
    lang = context.options.lang
    if context.options.alto:
        _write(context, result, "alto", render_alto(pages, context.source, lang=lang[:2]))
    if context.options.hocr:
        _write(context, result, "hocr", render_hocr(pages, context.source, lang=lang))
    if context.options.pdf:
        with _writing(context, result, "pdf") as path:
            write_searchable_pdf(context.path, pages, path)


def _write(context: FileContext, result: FileResult, kind: str, content: str) -> None:
    with _writing(context, result, kind) as path:
        atomic_write_text(path, content)


@contextlib.contextmanager
def _writing(context: FileContext, result: FileResult, kind: str) -> Iterator[Path]:
    """The path of output `kind`, its folder made; a write error becomes a VanbanError; recorded
    in `result.outputs` once written."""
    path = context.output(kind)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        yield path
    except OSError as error:
        raise VanbanError(
            context.source, f"cannot write {path}: {error.strerror or error}"
        ) from error
    result.outputs[kind] = path.relative_to(context.outdir).as_posix()


# --- the restorer, loaded once per process -----------------------------------------------------

_restorer = None
_worker_threads: int | None = None


class _NormalizeOnly:
    """Stand-in when no trained model is shipped: Unicode and tone-placement normalization only."""

    def restore_lines(self, lines: list[str]) -> list[RestoredLine]:
        from vanban.core.text import normalize

        return [RestoredLine(text=normalize(line), source=line) for line in lines]


def model_dir() -> Path | None:
    """The restorer's folder ($VANBAN_MODEL_DIR, else the shipped one); None without a model."""
    from vanban.models import RESTORER_DIR

    directory = Path(os.environ.get("VANBAN_MODEL_DIR") or RESTORER_DIR)
    return directory if (directory / "config.json").exists() else None


def model_version() -> str:
    """Short content hash of every file the restorer loads ("none" without a model)."""
    from vanban.models import LEXICON_DIR

    directory = model_dir()
    if directory is None:
        return "none"
    return hash_tree({"restorer": directory, "lexicon": LEXICON_DIR})[:16]


def get_restorer():
    """The process's restorer: the shipped model, or normalization only when none is installed."""
    global _restorer
    if _restorer is None:
        directory = model_dir()
        if directory is None:  # checked first: no torch import without a model
            _restorer = _NormalizeOnly()
        else:
            from transformers.utils import logging as transformers_logging

            from vanban.restore import load_restorer

            transformers_logging.disable_progress_bar()  # no "Loading weights" bar per process
            _restorer = load_restorer(directory)
        if _worker_threads is not None and "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(_worker_threads)
    return _restorer


def release_restorer() -> None:
    """Drop the process's restorer and the memory restoring held (get_restorer loads it again)."""
    global _restorer
    if _restorer is None or isinstance(_restorer, _NormalizeOnly):
        return
    _restorer = None
    from vanban.restore.api import release_memory

    release_memory()


def init_worker(threads: int = 1) -> None:
    """Prepare a worker process: one compute thread, Ctrl-C left to the parent, die with it."""
    import signal

    global _worker_threads
    _worker_threads = threads
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (no orphans after kill -9)."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    except OSError:
        pass
