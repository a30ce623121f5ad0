"""Keep a SQLite FTS5 index of a vanban output directory up to date (incrementally).

The directory is read through `vanban.outputs`."""

from __future__ import annotations

import argparse
import functools
import json
import os
import sqlite3
import sys
import threading
import time
import unicodedata
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import regex

from vanban.core.errors import ExitCode, VanbanError
from vanban.core.files import atomic_path, sha256_file
from vanban.core.text import fold, strip_marks
from vanban.corrections import corrections_stamp, records_after
from vanban.outputs import (
    ROLE_NAMES,
    ROLES,
    NotADocument,
    OutputDocument,
    agency_names,
    document_files,
    load_document,
)

SCHEMA_VERSION = 5  # 5: FTS5 prefix indexes
DEFAULT_TIMEOUT = 5.0
NO_INDEX = "no such index; build it with `vanban index OUTDIR --db DB`"

# Prefix lengths (characters) FTS5 keeps its own index for: without one, `word*` merges the whole
# posting list of every term it covers before the first row comes back (`th*` ~1 s on 10,000
# documents); with it, 2- and 3-character prefixes read like a word. The cost: FTS data 2.5x as
# large, a full build ~1.6x as long (docs/BENCHMARKS.md, issue 19).
FTS_PREFIXES = "2 3"

_SCHEMA_SQL = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}');
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    outdir TEXT NOT NULL,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    source TEXT, issuer TEXT, doc_type TEXT, number TEXT, date TEXT, year INTEGER,
    place TEXT, title TEXT, signer TEXT,
    issuer_plain TEXT, doc_type_plain TEXT,
    UNIQUE (outdir, path)
);
CREATE TABLE passages (
    id INTEGER PRIMARY KEY,
    doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    section_id TEXT, section_key TEXT, section_title TEXT,
    line_start INTEGER, line_end INTEGER, page INTEGER,
    line_pages TEXT,
    deadline TEXT,
    body TEXT NOT NULL,
    tags TEXT NOT NULL,
    length INTEGER NOT NULL,
    fts_extra TEXT NOT NULL
);
CREATE INDEX passages_doc ON passages(doc_id);
CREATE TABLE roles (  -- for display; filters use the FTS columns
    passage_id INTEGER NOT NULL REFERENCES passages(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    name TEXT, canonical TEXT, agency_id TEXT,
    plain TEXT NOT NULL
);
CREATE INDEX roles_passage ON roles(passage_id);
CREATE VIRTUAL TABLE passages_fts USING fts5(
    body, plain, tags, tags_plain, lead, support, executor, issuer, doc_type, facets,
    content = '', tokenize = 'unicode61 remove_diacritics 0', prefix = '{FTS_PREFIXES}'
);
INSERT INTO passages_fts (passages_fts, rank) VALUES ('rank', 'bm25(1, 1, 2, 2, 0, 0, 0, 0, 0, 0)');
"""


_STRIP_TABLE_END = 0x2070  # through General Punctuation; later characters are looked up slower


def _strip_table() -> list[str]:
    """strip_marks as a character table over the Latin blocks (exact for NFC text there).

    A list with every character up to _STRIP_TABLE_END (most unchanged): str.translate takes a
    missing key as 'keep', but the miss costs a raised LookupError per character, so a dict
    table makes plain_text 2-3 times slower on Vietnamese text.
    """
    table = [chr(code) for code in range(_STRIP_TABLE_END)]
    for block in (range(0x00C0, 0x0250), range(0x1E00, 0x1F00)):
        for code in block:
            table[code] = strip_marks(chr(code))
    for code in range(0x0300, 0x0370):  # stray combining marks
        table[code] = ""
    return table


_STRIP = _strip_table()
# The plain column of the index holds plain_text(body), the filter columns fold(...): a change of
# either on these samples needs a rebuild. FOLD_CHECK holds letters beyond the Latin blocks, where
# fold strips marks and plain_text keeps them.
STRIP_CHECK = (
    "ĐđÀàẢảẠạẮắẰằẲẳẴẵẶặẤấẦầẨẩẪẫẬậÉéÈèẺẻẼẽẸẹẾếỀềỂểỄễỆệÍíÌìỈỉĨĩỊịÓóÒòỎỏÕõỌọỐốỒồỔổỖỗỘộỚớỜờỞởỠỡỢợ"
)
FOLD_CHECK = "ΆάЙй"


def fold_signature() -> str:
    """What the index stores to notice a change of plain_text or fold."""
    return f"{plain_text(STRIP_CHECK)}|{fold(FOLD_CHECK)}"


def plain_text(text: str) -> str:
    """Marks stripped (đ -> d), fast for long text: NFC, then one table lookup per character.

    Equal to strip_marks on every Latin letter, so on all Vietnamese text (tests/test_search.py
    checks every letter of the lexicon); letters of other scripts keep their marks (Greek ά).
    """
    return unicodedata.normalize("NFC", text).translate(_STRIP)


# Filters are FTS5 columns too, so a filtered query is one index lookup: the agencies of each role
# (folded names, canonical names and ids), the issuer, the doc type, and `facets` tokens for the
# kind, year, roles present and every enclosing section path (II, II.2, II.2.a).
EXTRA_COLUMNS = ("lead", "support", "executor", "issuer", "doc_type", "facets")


def kind_token(kind: str) -> str:
    return f"kind{kind}"


def year_token(year: int) -> str:
    return f"y{year}"


def role_token(role: str) -> str:
    return f"role{role}"


@functools.lru_cache(maxsize=1 << 12)
def section_tokens(section_id: str) -> tuple[str, ...]:
    """'II.2.a' -> secii, seciiz2, seciiz2za ('đ' kept apart from 'd': 'đ' -> 'dd')."""
    parts = []
    for label in section_id.replace("Đ", "dd").replace("đ", "dd").split("."):
        key = regex.sub(r"[^a-z0-9]", "", fold(label))
        if key:
            parts.append(key)
    return tuple("sec" + "z".join(parts[:k]) for k in range(1, len(parts) + 1))


# ---------------------------------------------------------------- passages of a document


@dataclass
class Passage:
    """One searchable unit: a section's lines, an assignment, or the document header."""

    kind: str  # "document" | "text" | "assignment"
    body: str
    section_id: str | None = None
    section_title: str | None = None
    line_start: int | None = None
    line_end: int | None = None
    page: int | None = None
    line_pages: list[list[int | None]] | None = None  # [[line, page], ...] for multi-page text
    tags: str = ""
    deadline: str | None = None
    roles: list[tuple[str, dict]] = field(default_factory=list)  # (role, agency)


def document_passages(doc: OutputDocument) -> list[Passage]:
    """Split a document into passages: header, each section's own lines, each assignment."""
    passages = [_header_passage(doc)]
    lines = doc.text_lines()
    if lines:
        passages += _line_passages(doc, lines)
    else:
        passages += _section_text_passages(doc)
    titles = {s.get("id"): s.get("title") for s in doc.sections}
    passages += [_assignment_passage(a, titles) for a in doc.assignments]
    return passages


def _header_passage(doc: OutputDocument) -> Passage:
    meta = doc.meta
    refs = [
        r.get("text", "") if isinstance(r, dict) else str(r) for r in meta.get("references") or []
    ]
    parts = [meta.get(k) for k in ("doc_type", "number", "title", "issuer", "place", "signer")]
    body = " · ".join(str(p) for p in parts if p)
    return Passage("document", body, tags="; ".join(refs), line_start=1)


def _line_passages(doc: OutputDocument, lines: list[tuple[int, int | None, str]]) -> list[Passage]:
    """Group restored lines by the innermost section whose heading precedes them."""
    starts = sorted(
        ((s.get("line_start"), s) for s in doc.sections if isinstance(s.get("line_start"), int)),
        key=lambda pair: pair[0],
    )
    last_line = max((s.get("line_end") or 0 for _, s in starts), default=0)
    groups: list[tuple[dict | None, list[tuple[int, int | None, str]]]] = []
    cursor = 0
    current: dict | None = None
    for line in lines:
        number = line[0]
        while cursor < len(starts) and starts[cursor][0] <= number:
            current = starts[cursor][1]
            cursor += 1
        owner = (
            current if (current is None or number <= last_line or cursor < len(starts)) else None
        )
        if not groups or groups[-1][0] is not owner:
            groups.append((owner, []))
        groups[-1][1].append(line)
    return [p for owner, group in groups if (p := _text_passage(owner, group)) is not None]


def _text_passage(section: dict | None, group: list[tuple[int, int | None, str]]) -> Passage | None:
    filled = [k for k, (_, _, text) in enumerate(group) if text.strip()]
    if not filled:
        return None
    group = group[filled[0] : filled[-1] + 1]
    pages = sorted({page for _, page, _ in group if page is not None})
    return Passage(
        "text",
        "\n".join(text for _, _, text in group),
        section_id=section.get("id") if section else None,
        section_title=section.get("title") if section else None,
        line_start=group[0][0],
        line_end=group[-1][0],
        page=group[0][1],
        line_pages=[[n, p] for n, p, _ in group] if len(pages) > 1 else None,
    )


def _section_text_passages(doc: OutputDocument) -> list[Passage]:
    out = []
    for s in doc.sections:
        body = "\n".join(str(x) for x in (s.get("title"), s.get("text")) if x)
        if body:
            out.append(
                Passage(
                    "text",
                    body,
                    section_id=s.get("id"),
                    section_title=s.get("title"),
                    line_start=s.get("line_start"),
                    line_end=s.get("line_end"),
                    page=s.get("page"),
                )
            )
    return out


def _assignment_passage(assignment: dict, titles: dict) -> Passage:
    roles = [(ROLE_NAMES[r], agency) for r in ROLES for agency in assignment.get(r) or []]
    names = []
    for _, agency in roles:
        name, canonical, _ = agency_names(agency)
        names += [name] if name == canonical else [name, canonical]
    section = assignment.get("section")
    return Passage(
        "assignment",
        str(assignment.get("task") or ""),
        section_id=section,
        section_title=titles.get(section),
        line_start=assignment.get("line_start"),
        line_end=assignment.get("line_end"),
        page=assignment.get("page"),
        tags="; ".join(names),
        deadline=assignment.get("deadline"),
        roles=roles,
    )


# ---------------------------------------------------------------- the database


@contextmanager
def open_db(
    db: Path, *, create: bool, timeout: float = DEFAULT_TIMEOUT
) -> Iterator[sqlite3.Connection]:
    """Open (or create) the index; VanbanError for a locked, foreign or outdated database."""
    if not create and not db.is_file():
        raise VanbanError(str(db), NO_INDEX)
    conn = _connect(db, timeout)
    with closing(conn):
        try:
            _prepare(conn, db, create)
            yield conn
        except sqlite3.DatabaseError as exc:
            raise _index_error(db, exc, timeout) from None


def _connect(db: Path, timeout: float, **options) -> sqlite3.Connection:
    try:
        return sqlite3.connect(db, timeout=timeout, isolation_level=None, **options)
    except sqlite3.Error as exc:
        raise VanbanError(str(db), f"cannot open database ({exc})") from None


def _index_error(db: Path, exc: sqlite3.DatabaseError, timeout: float) -> VanbanError:
    """A locked or busy database (db_error), else a file that is not a vanban index."""
    if isinstance(exc, sqlite3.OperationalError):
        return db_error(db, exc, timeout)
    return VanbanError(str(db), f"not a vanban index ({exc})")


READ_CACHE_KIB = 32 * 1024  # page cache of one kept reader connection


class KeptReaders:
    """Read connections to one index kept open between requests, so each keeps its page cache
    (READ_CACHE_KIB; memory-mapping the file measured no faster); one is lent to one thread at a
    time. A connection is reopened (and checked as `open_db` checks) when the file is replaced,
    e.g. by `vanban index --rebuild`, or rewritten in place."""

    def __init__(self, db: Path, *, timeout: float = DEFAULT_TIMEOUT, keep: int = 4):
        self.db, self.timeout, self.keep = Path(db), timeout, keep
        self._idle: list[tuple[tuple, sqlite3.Connection]] = []
        self._lock = threading.Lock()

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """Lend a connection; VanbanError when the index is missing or unusable."""
        identity = self._identity()
        conn = self._take(identity) or _open_reader(self.db, self.timeout)
        try:
            yield conn
        finally:
            with self._lock:
                if len(self._idle) < self.keep:
                    self._idle.append((identity, conn))
                    conn = None
            if conn is not None:
                conn.close()

    def _identity(self) -> tuple[int, int, int]:
        try:
            stat = self.db.stat()
        except OSError:
            raise VanbanError(str(self.db), NO_INDEX) from None
        return stat.st_dev, stat.st_ino, stat.st_ctime_ns

    def _take(self, identity: tuple) -> sqlite3.Connection | None:
        with self._lock:
            stale = [conn for kept, conn in self._idle if kept != identity]
            fresh = [conn for kept, conn in self._idle if kept == identity]
            self._idle = [(identity, conn) for conn in fresh[1:]]
        for conn in stale:
            conn.close()
        return fresh[0] if fresh else None


def _open_reader(db: Path, timeout: float) -> sqlite3.Connection:
    """A checked, query-only connection that any one thread at a time may use."""
    conn = _connect(db, timeout, check_same_thread=False)
    try:
        _prepare(conn, db, create=False)
        conn.execute("PRAGMA query_only = ON")
        conn.execute(f"PRAGMA cache_size = -{READ_CACHE_KIB}")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise _index_error(db, exc, timeout) from None
    except BaseException:
        conn.close()
        raise
    return conn


def db_error(db: Path, exc: sqlite3.Error, timeout: float) -> VanbanError:
    message = str(exc)
    if "locked" in message or "busy" in message:
        return VanbanError(str(db), f"database is locked by another process (waited {timeout:g} s)")
    return VanbanError(str(db), f"database error ({message})")


def _create_schema(conn: sqlite3.Connection) -> None:
    """Create the tables in one transaction (a concurrent creator makes this a no-op)."""
    conn.execute("PRAGMA journal_mode = WAL")  # readers keep reading while an index run writes
    with _transaction(conn):
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone():
            return
        for statement in _SCHEMA_SQL.split(";\n"):
            if statement.strip():
                conn.execute(statement)
        conn.execute("INSERT INTO meta VALUES ('strip_check', ?)", (fold_signature(),))


def _prepare(conn: sqlite3.Connection, db: Path, create: bool) -> None:
    conn.execute("PRAGMA foreign_keys = ON")
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        if not create:
            raise VanbanError(str(db), "empty database, not a vanban index")
        _create_schema(conn)
        return
    if "meta" not in tables:
        raise VanbanError(str(db), "not a vanban index (no meta table)")
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    version = int(row[0]) if row else 0
    check = conn.execute("SELECT value FROM meta WHERE key = 'strip_check'").fetchone()
    if version == SCHEMA_VERSION and (check is None or check[0] != fold_signature()):
        version = 0  # the mark stripping or folding changed: the columns must be rebuilt
    if version != SCHEMA_VERSION:
        raise VanbanError(
            str(db),
            f"index schema version {version}, this vanban needs {SCHEMA_VERSION}: "
            "rebuild it with `vanban index OUTDIR --db DB --rebuild`",
        )
    if create and conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        conn.execute("PRAGMA journal_mode = WAL")  # e.g. after --rebuild swapped the file in


@dataclass
class IndexReport:
    """What one `index` run did."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    passages: int = 0
    seconds: float = 0.0
    failed: list[VanbanError] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"indexed {self.added} new, {self.updated} changed, {self.removed} removed, "
            f"{self.unchanged} unchanged documents ({self.passages} passages) "
            f"in {self.seconds:.1f} s; {len(self.failed)} failed"
        )


def index_outdir(
    outdir: Path, db: Path, *, timeout: float = DEFAULT_TIMEOUT, batch: int = 50, progress=None
) -> IndexReport:
    """Bring the index of OUTDIR in `db` up to date: add new/changed documents, drop removed."""
    started = time.perf_counter()
    outdir = outdir.resolve()
    report = IndexReport()
    files = document_files(outdir, report.failed)
    with open_db(db, create=True, timeout=timeout) as conn:
        forget_corrected(conn, outdir)
        known = {
            row[0]: row[1:]
            for row in conn.execute(
                "SELECT path, id, size, mtime_ns, sha256 FROM documents WHERE outdir = ?",
                (str(outdir),),
            )
        }
        pending: list[tuple[int | None, OutputDocument, os.stat_result, str]] = []
        for path in files:
            rel = path.relative_to(outdir).as_posix()
            try:
                change = _change(path, known.pop(rel, None), conn)
                if change is None:
                    report.unchanged += 1
                    continue
                old_id, stat, sha = change
                pending.append((old_id, load_document(path, outdir), stat, sha))
            except NotADocument:
                continue
            except (VanbanError, OSError) as exc:
                known.pop(rel, None)  # keep what the index has for it
                report.failed.append(
                    exc if isinstance(exc, VanbanError) else VanbanError(str(path), str(exc))
                )
                continue
            if len(pending) >= batch:
                _write_batch(conn, outdir, pending, report)
                pending = []
                if progress:
                    progress(report)
        _write_batch(conn, outdir, pending, report)
        _remove(conn, [row[0] for row in known.values()], report)
    report.seconds = time.perf_counter() - started
    return report


def forget_corrected(conn: sqlite3.Connection, outdir: Path) -> None:
    """Mark documents with review corrections newer than the index as changed (their JSON is not).

    The meta table remembers the corrections sidecar's size and first line per OUTDIR; records past
    that size name the documents to re-read; a sidecar that shrank or was replaced re-reads all.
    """
    key = f"corrections:{outdir}"
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    seen = json.loads(row[0]) if row else {"size": 0, "head": ""}
    stamp = corrections_stamp(outdir)
    if stamp == seen:
        return
    grown = seen["size"] <= stamp["size"] and (not seen["size"] or seen["head"] == stamp["head"])
    forget = "UPDATE documents SET sha256 = '', mtime_ns = -1 WHERE outdir = ?"
    with _transaction(conn):
        if grown:
            paths = {r["document"] for r in records_after(outdir, seen["size"])}
            conn.executemany(forget + " AND path = ?", [(str(outdir), p) for p in sorted(paths)])
        else:
            conn.execute(forget, (str(outdir),))
        conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(stamp)))


def _change(path: Path, known: tuple | None, conn) -> tuple[int | None, os.stat_result, str] | None:
    """None when the file is as indexed, else (old row id or None, stat, sha256)."""
    stat = path.stat()
    if known is not None:
        doc_id, size, mtime_ns, sha = known
        if size == stat.st_size and mtime_ns == stat.st_mtime_ns:
            return None
        new_sha = sha256_file(path)
        if new_sha == sha:  # touched, not changed
            with _transaction(conn):
                conn.execute(
                    "UPDATE documents SET mtime_ns = ? WHERE id = ?", (stat.st_mtime_ns, doc_id)
                )
            return None
        return doc_id, stat, new_sha
    return None, stat, sha256_file(path)


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _write_batch(conn, outdir: Path, pending: list, report: IndexReport) -> None:
    """Replace/add a batch of documents in one transaction (all or nothing)."""
    if not pending:
        return
    with _transaction(conn):
        for old_id, doc, stat, sha in pending:
            if old_id is not None:
                _delete_document(conn, old_id)
                report.updated += 1
            else:
                report.added += 1
            report.passages += _insert_document(conn, outdir, doc, stat, sha)


def _remove(conn, doc_ids: list[int], report: IndexReport) -> None:
    if not doc_ids:
        return
    with _transaction(conn):
        for doc_id in doc_ids:
            _delete_document(conn, doc_id)
    report.removed += len(doc_ids)


_FTS_NAMES = ", ".join(("body", "plain", "tags", "tags_plain", *EXTRA_COLUMNS))
_FTS_COUNT = 4 + len(EXTRA_COLUMNS)


def _delete_document(conn, doc_id: int) -> None:
    rows = conn.execute(
        "SELECT id, body, tags, fts_extra FROM passages WHERE doc_id = ?", (doc_id,)
    ).fetchall()
    conn.executemany(  # a contentless FTS table forgets a row given the values it indexed
        f"INSERT INTO passages_fts (passages_fts, rowid, {_FTS_NAMES})"
        f" VALUES ('delete', ?{', ?' * _FTS_COUNT})",
        [
            (pid, body, plain_text(body), tags, plain_text(tags), *json.loads(extra))
            for pid, body, tags, extra in rows
        ],
    )
    conn.execute("DELETE FROM documents WHERE id = ?", (doc_id,))


def _insert_document(conn, outdir: Path, doc: OutputDocument, stat, sha: str) -> int:
    meta = doc.meta
    date = meta.get("date") if isinstance(meta.get("date"), str) else None
    year = int(date[:4]) if date and date[:4].isdigit() else None
    cur = conn.execute(
        "INSERT INTO documents (outdir, path, size, mtime_ns, sha256, source, issuer, doc_type,"
        " number, date, year, place, title, signer, issuer_plain, doc_type_plain)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            str(outdir),
            doc.rel,
            stat.st_size,
            stat.st_mtime_ns,
            sha,
            doc.source,
            meta.get("issuer"),
            meta.get("doc_type"),
            meta.get("number"),
            date,
            year,
            meta.get("place"),
            meta.get("title"),
            meta.get("signer"),
            fold(meta.get("issuer")),
            fold(meta.get("doc_type")),
        ),
    )
    doc_id = cur.lastrowid
    passages = document_passages(doc)
    doc_facts = {
        "issuer": fold(meta.get("issuer")),
        "doc_type": fold(meta.get("doc_type")),
        "year": year,
    }
    for passage in passages:
        _insert_passage(conn, doc_id, passage, doc_facts)
    return len(passages)


def _extra_columns(p: Passage, doc_facts: dict) -> list[str]:
    """Values of EXTRA_COLUMNS for one passage."""
    agencies: dict[str, list[str]] = {"lead": [], "support": [], "executor": []}
    for role, agency in p.roles:
        agencies[role].append(fold(" | ".join(agency_names(agency))))
    facets = [kind_token(p.kind)]
    facets += [year_token(doc_facts["year"])] if doc_facts["year"] else []
    facets += section_tokens(p.section_id) if p.section_id else ()
    facets += [role_token(role) for role, names in agencies.items() if names]
    return [
        *("; ".join(agencies[role]) for role in ("lead", "support", "executor")),
        doc_facts["issuer"], doc_facts["doc_type"], " ".join(facets),
    ]  # fmt: skip


def _insert_passage(conn, doc_id: int, p: Passage, doc_facts: dict) -> None:
    body, tags = unicodedata.normalize("NFC", p.body), unicodedata.normalize("NFC", p.tags)
    extra = _extra_columns(p, doc_facts)
    cur = conn.execute(
        "INSERT INTO passages (doc_id, kind, section_id, section_key, section_title, line_start,"
        " line_end, page, line_pages, deadline, body, tags, length, fts_extra)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            doc_id, p.kind, p.section_id, p.section_id.lower() if p.section_id else None,
            p.section_title, p.line_start, p.line_end, p.page,
            json.dumps(p.line_pages) if p.line_pages else None, p.deadline, body, tags,
            len(body), json.dumps(extra, ensure_ascii=False),
        ),
    )  # fmt: skip
    conn.execute(
        f"INSERT INTO passages_fts (rowid, {_FTS_NAMES}) VALUES (?{', ?' * _FTS_COUNT})",
        (cur.lastrowid, body, plain_text(body), tags, plain_text(tags), *extra),
    )
    conn.executemany(
        "INSERT INTO roles (passage_id, role, name, canonical, agency_id, plain)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [
            (cur.lastrowid, role, *names, fold(" | ".join(names)))
            for role, agency in p.roles
            for names in [agency_names(agency)]
        ],
    )


def rebuild_index(
    outdir: Path, db: Path, *, timeout: float = DEFAULT_TIMEOUT, progress=None
) -> IndexReport:
    """Build a fresh index beside `db` and swap it in atomically."""
    with atomic_path(db) as tmp:
        try:
            report = index_outdir(outdir, tmp, timeout=timeout, progress=progress)
            with closing(sqlite3.connect(tmp)) as conn:
                conn.execute("PRAGMA journal_mode = DELETE")  # fold the WAL in before the swap
            if db.exists():
                _check_not_busy(db, timeout)
        finally:
            for leftover in (Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
                leftover.unlink(missing_ok=True)
    for stale in (Path(f"{db}-wal"), Path(f"{db}-shm")):
        stale.unlink(missing_ok=True)
    return report


def _check_not_busy(db: Path, timeout: float) -> None:
    try:
        with closing(sqlite3.connect(db, timeout=timeout, isolation_level=None)) as conn:
            conn.execute("BEGIN EXCLUSIVE")
            conn.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        raise db_error(db, exc, timeout) from None


# ---------------------------------------------------------------- CLI


def run_index(args: argparse.Namespace) -> int:
    """`vanban index OUTDIR --db DB`: exit 0 when every document is indexed, 1 when some failed,
    2 when OUTDIR is not an output folder or the database cannot be used."""
    db = Path(args.db)
    quiet = getattr(args, "quiet", False)
    progress = None if quiet else _progress_printer()
    try:
        build = rebuild_index if args.rebuild else index_outdir
        report = build(Path(args.outdir), db, timeout=args.timeout, progress=progress)
    except VanbanError as exc:  # not an output folder, or the database cannot be used
        print(f"vanban: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    for failure in report.failed:
        print(f"vanban: error: {failure}", file=sys.stderr)
    if not quiet:
        print(f"{db}: {report.summary()}", file=sys.stderr)
    return 1 if report.failed else 0


def _progress_printer():
    if not sys.stderr.isatty():
        return None

    def show(report: IndexReport) -> None:
        print(f"\r  {report.added + report.updated} documents written...", end="", file=sys.stderr)

    return show


def add_index_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "index",
        help="build or update the full-text index of a vanban output directory",
        description="Index restored lines, sections and assignments of OUTDIR into a SQLite FTS5 "
        "database. Re-running adds only new or changed documents and drops removed ones.",
    )
    parser.add_argument("outdir", metavar="OUTDIR", help="a vanban output directory")
    parser.add_argument("--db", default="corpus.sqlite", help="index file (default: corpus.sqlite)")
    parser.add_argument(
        "--rebuild", action="store_true", help="build from scratch (e.g. after an upgrade)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help="seconds to wait for a locked database",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no summary on stderr")
    parser.set_defaults(func=run_index)
