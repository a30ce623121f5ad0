"""Flat exports of a vanban output directory (assignments, sections, documents) as JSONL or CSV."""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from vanban.core.errors import ExitCode, VanbanError
from vanban.core.files import atomic_open
from vanban.outputs import (
    ROLE_NAMES,
    ROLES,
    OutputDocument,
    agency_names,
    document_files,
    iter_documents,
)
from vanban.search import silence_stdout

WHAT = ("assignments", "sections", "documents")
FORMATS = ("jsonl", "csv")
LIST_SEPARATOR = "; "  # how CSV cells hold lists
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a CSV cell starting so gets a leading '
SUFFIX_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl"}

DOCUMENT_KEYS = ["document_number", "document_date", "issuer", "doc_type", "document_title"]
COLUMNS = {
    "assignments": [
        "task_id", *DOCUMENT_KEYS, "section_id", "section_title", "assignment_index", "role",
        "agency_id", "agency_name", "agency_printed", "task", "deadline",
        "source", "json_file", "line_start", "line_end", "page",
    ],
    "sections": [
        *DOCUMENT_KEYS, "section_id", "number", "level", "parent", "title", "text",
        "source", "json_file", "line_start", "line_end", "page",
    ],
    "documents": [
        "json_file", "source", "issuer", "doc_type", "number", "date", "place", "title", "signer",
        "signing_capacity", "recipients", "references", "pages", "sections", "assignments",
    ],
}  # fmt: skip


def _document_fields(doc: OutputDocument) -> dict:
    meta = doc.meta
    return {
        "document_number": meta.get("number"),
        "document_date": meta.get("date"),
        "issuer": meta.get("issuer"),
        "doc_type": meta.get("doc_type"),
        "document_title": meta.get("title"),
    }


def _provenance(doc: OutputDocument, item: dict) -> dict:
    return {
        "source": doc.source,
        "json_file": doc.rel,
        "line_start": item.get("line_start"),
        "line_end": item.get("line_end"),
        "page": item.get("page"),
    }


def task_id(doc: OutputDocument, assignment: dict) -> str:
    """A key that stays the same while the document, section and task text do."""
    key = "\x1f".join(
        str(x) for x in (doc.meta.get("number") or doc.source, assignment.get("section"),
                         assignment.get("task"))
    )  # fmt: skip
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def assignment_rows(doc: OutputDocument) -> Iterator[dict]:
    """One row per (assignment, role, agency); an assignment without agencies gets one row."""
    titles = {s.get("id"): s.get("title") for s in doc.sections}
    for index, assignment in enumerate(doc.assignments, start=1):
        base = {
            "task_id": task_id(doc, assignment),
            **_document_fields(doc),
            "section_id": assignment.get("section"),
            "section_title": titles.get(assignment.get("section")),
            "assignment_index": index,
        }
        tail = {
            "task": assignment.get("task"),
            "deadline": assignment.get("deadline"),
            **_provenance(doc, assignment),
        }
        agencies = [(ROLE_NAMES[r], a) for r in ROLES for a in assignment.get(r) or []]
        for role, agency in agencies or [(None, None)]:
            name, canonical, agency_id = agency_names(agency) if agency else (None, None, None)
            yield {
                **base,
                "role": role,
                "agency_id": agency_id or None,
                "agency_name": canonical,
                "agency_printed": name,
                **tail,
            }


def section_rows(doc: OutputDocument) -> Iterator[dict]:
    for section in doc.sections:
        yield {
            **_document_fields(doc),
            "section_id": section.get("id"),
            "number": section.get("number"),
            "level": section.get("level"),
            "parent": section.get("parent"),
            "title": section.get("title"),
            "text": section.get("text"),
            **_provenance(doc, section),
        }


def document_rows(doc: OutputDocument) -> Iterator[dict]:
    meta = doc.meta
    refs = [r.get("text") if isinstance(r, dict) else str(r) for r in meta.get("references") or []]
    yield {
        "json_file": doc.rel,
        "source": doc.source,
        **{k: meta.get(k) for k in ("issuer", "doc_type", "number", "date", "place", "title")},
        "signer": meta.get("signer"),
        "signing_capacity": meta.get("signing_capacity"),
        "recipients": [str(r) for r in meta.get("recipients") or []],
        "references": [r for r in refs if r],
        "pages": doc.tree.get("pages"),
        "sections": len(doc.sections),
        "assignments": len(doc.assignments),
    }


ROW_MAKERS = {"assignments": assignment_rows, "sections": section_rows, "documents": document_rows}


def export_rows(outdir: Path, what: str, errors: list[VanbanError]) -> Iterator[dict]:
    """Rows of one export kind over every document of OUTDIR (bad documents go to `errors`).

    Raises VanbanError at once (before any row) when OUTDIR is not a vanban output.
    """
    files = document_files(outdir, errors)
    make_rows = ROW_MAKERS[what]
    return (row for doc in iter_documents(outdir, errors, files) for row in make_rows(doc))


def write_jsonl(rows: Iterable[dict], stream) -> int:
    count = 0
    for row in rows:
        stream.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(rows: Iterable[dict], stream, columns: list[str]) -> int:
    writer = csv.DictWriter(stream, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in columns})
        count += 1
    return count


def _cell(value: object) -> object:
    if isinstance(value, list):
        value = LIST_SEPARATOR.join(str(v) for v in value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value  # OWASP CSV injection rule: a spreadsheet shows it as text
    return "" if value is None else value


def write_export(rows: Iterable[dict], stream, what: str, fmt: str, *, bom: bool = False) -> int:
    """Write rows in `fmt` to a text stream; returns the row count."""
    if fmt == "csv":
        if bom:
            stream.write("\ufeff")
        return write_csv(rows, stream, COLUMNS[what])
    return write_jsonl(rows, stream)


def export_to_file(outdir: Path, what: str, fmt: str, target: Path, *, bom: bool = False):
    """Write the export atomically to `target`; returns (rows, errors)."""
    errors: list[VanbanError] = []
    rows_iter = export_rows(outdir, what, errors)  # fails on a bad OUTDIR before any file
    try:
        with atomic_open(target, newline="") as handle:
            rows = write_export(rows_iter, handle, what, fmt, bom=bom)
    except OSError as exc:
        raise VanbanError(str(target), f"cannot write ({exc.strerror or exc})") from None
    return rows, errors


def export_format(output: str | None) -> str:
    """The format `-o FILE` asks for by its suffix (.csv, .jsonl, .json); jsonl otherwise."""
    return SUFFIX_FORMATS.get(Path(output or "-").suffix.lower(), "jsonl")


def run_export(args: argparse.Namespace) -> int:
    """`vanban export OUTDIR --what ... --format ... [-o FILE]`: 0 ok, 1 when documents failed,
    2 when OUTDIR is not an output folder."""
    outdir = Path(args.outdir)
    args.format = args.format or export_format(args.output)
    try:
        if args.output and args.output != "-":
            rows, errors = export_to_file(
                outdir, args.what, args.format, Path(args.output), bom=args.bom
            )
        else:
            errors = []
            rows_iter = export_rows(outdir, args.what, errors)  # a bad OUTDIR fails here
            stream = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
            rows = write_export(rows_iter, stream, args.what, args.format, bom=args.bom)
            stream.flush()
            stream.detach()
    except VanbanError as exc:  # not an output folder, or the target cannot be written
        print(f"vanban: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except BrokenPipeError:  # the reader (e.g. `head`) stopped early
        silence_stdout()
        return 1
    for error in errors:
        print(f"vanban: error: {error}", file=sys.stderr)
    if args.output and args.output != "-" and not args.quiet:
        print(f"{args.output}: {rows} {args.what} rows", file=sys.stderr)
    return 1 if errors else 0


def register_cli(subparsers) -> None:
    """Add the `export` subcommand to the vanban CLI."""
    parser = subparsers.add_parser(
        "export", help="export assignments, sections or documents for trackers (JSONL or CSV)",
        description="Flatten the JSON of a vanban output directory: one row per assignment and "
        "agency (role, canonical agency id and name, task, deadline, provenance), per section, "
        "or per document. Columns are documented in docs/EXPORTS.md.",
    )  # fmt: skip
    parser.add_argument("outdir", metavar="OUTDIR", help="a vanban output directory")
    parser.add_argument("--what", choices=WHAT, default="assignments", help="rows to export")
    parser.add_argument(
        "--format", choices=FORMATS, help="jsonl or csv (default: from -o's suffix, else jsonl)"
    )
    parser.add_argument("-o", "--output", help="output file (atomic); stdout when absent or -")
    parser.add_argument("--bom", action="store_true", help="start CSV with a UTF-8 BOM (Excel)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no summary on stderr")
    parser.set_defaults(func=run_export)
