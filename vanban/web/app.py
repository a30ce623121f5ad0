"""The `vanban serve` web app: search, document, agency and review pages over OUTDIR and its index.

Server-rendered (Starlette + Jinja2 with autoescape), no script. URLs name documents by their JSON
path relative to OUTDIR, and only paths the index lists for this OUTDIR that resolve inside it are
served; scan crops come from a document's own `source`. POSTs exist only with `review=True` and
must carry the page's CSRF token.
"""

from __future__ import annotations

import io
import json
import logging
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import jinja2
import regex
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from vanban.core.errors import VanbanError
from vanban.core.text import fold
from vanban.corrections import (
    ASSIGNMENT_FIELDS,
    append_correction,
    apply_corrections,
    make_record,
    read_corrections,
)
from vanban.export import FORMATS, ROW_MAKERS, WHAT, write_export
from vanban.index import KeptReaders, index_outdir
from vanban.outputs import ROLES, OutputDocument, is_document_tree, load_document
from vanban.search import (
    KINDS,
    ROLE_CHOICES,
    Filters,
    Hit,
    Matches,
    find_spans,
    parse_query,
    search,
)
from vanban.web.facets import NO_DATE, facet_counts
from vanban.web.queue import DoubtQueue
from vanban.web.render import (
    MARK_END,
    MARK_START,
    line_runs,
    section_rows,
    snippet_runs,
    url,
)
from vanban.web.scans import ScanCrops

log = logging.getLogger("vanban")
HERE = Path(__file__).parent
PAGE_SIZE = 20
MAX_PAGE = 25
AGENCY_PAGE_SIZE = 50
EXPORT_HITS = 500
SEARCH_KEYS = ("q", "marks", "doc_type", "issuer", "year", "agency", "role", "section", "kind")
NUMBER_RE = regex.compile(r"\d+[\p{L}\d.]*/[\p{L}\d./-]+")
AGENCY_ID_RE = regex.compile(r"^[a-z0-9-]+/\S+$")
MAX_FIELD = 4000  # characters accepted in one review field
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self'; style-src 'self'; "
    "script-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class Site:
    """What the pages share: the OUTDIR, its index, templates, scan crops, the review queue."""

    def __init__(
        self,
        outdir: Path,
        db: Path,
        *,
        review: bool = False,
        reviewer: str = "reviewer",
        scan_dirs: tuple[Path, ...] = (),
        cache_dir: Path | None = None,
    ):
        self.outdir = Path(outdir).resolve()
        self.db = Path(db)
        self.readers = KeptReaders(self.db)
        self.review = review
        self.reviewer = reviewer
        self.csrf = secrets.token_urlsafe(32)
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,  # every template, whatever its name: OCR text can hold <script>
        )
        self.env.globals.update(url=url, site=self)
        self.crops = ScanCrops(self.outdir, cache_dir or self.outdir / ".vanban-cache", scan_dirs)
        self.queue = DoubtQueue(self.outdir)
        self._reindex = threading.Lock()
        self._reindex_again = threading.Event()

    @contextmanager
    def matches(self) -> Iterator[Matches]:
        """A fresh set of index lookups for one request, on a kept connection."""
        with self.readers.connection() as conn:
            yield Matches(conn)

    def page(self, template: str, status: int = 200, **context) -> HTMLResponse:
        return HTMLResponse(self.env.get_template(template).render(**context), status_code=status)

    # ---------------------------------------------------------------- documents

    def document_path(self, rel: str) -> Path:
        """The JSON file of `rel`, only when it is an indexed document of OUTDIR inside OUTDIR."""
        if not rel or "\x00" in rel or not rel.endswith(".json") or rel.startswith("/"):
            raise HTTPException(404, "no such document")
        path = (self.outdir / rel).resolve()
        if not path.is_relative_to(self.outdir) or path.relative_to(self.outdir).as_posix() != rel:
            raise HTTPException(404, "no such document")
        sql = "SELECT 1 FROM documents WHERE outdir = ? AND path = ?"
        with self.readers.connection() as conn:
            known = conn.execute(sql, (str(self.outdir), rel)).fetchone()
        if not known or not path.is_file():
            raise HTTPException(404, "no such document")
        return path

    def read_document(self, rel: str) -> tuple[OutputDocument, list[dict]]:
        """The document with its corrections applied, and the records that applied."""
        path = self.document_path(rel)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise HTTPException(404, "unreadable document JSON") from None
        if not is_document_tree(raw):
            raise HTTPException(404, "not a vanban document")
        tree, applied = apply_corrections(raw, read_corrections(self.outdir).get(rel))
        return OutputDocument(path, rel, tree), applied

    def rel_of(self, hit: Hit) -> str | None:
        try:
            return Path(hit.json_file).relative_to(self.outdir).as_posix()
        except ValueError:
            return None  # a document of another OUTDIR in the same index

    # ---------------------------------------------------------------- after a review

    def after_review(self, rel: str) -> None:
        """Queue and index follow the new correction (the index in a background thread)."""
        self.queue.refresh(rel)
        self._reindex_again.set()
        threading.Thread(target=self._update_index, daemon=True).start()

    def _update_index(self) -> None:
        if not self._reindex.acquire(blocking=False):
            return  # the running update goes round again
        try:
            while self._reindex_again.is_set():
                self._reindex_again.clear()
                try:
                    index_outdir(self.outdir, self.db)
                except VanbanError as exc:
                    log.warning("index update after review failed: %s", exc)
        finally:
            self._reindex.release()

    def wait_for_index(self, timeout: float = 30.0) -> None:
        """Block until a pending index update is done (tests, benchmarks)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._reindex_again.is_set() and self._reindex.acquire(blocking=False):
                self._reindex.release()
                return
            time.sleep(0.02)


# ---------------------------------------------------------------- search


def search_params(request: Request) -> dict[str, str]:
    params = {k: request.query_params.get(k, "").strip()[:500] for k in SEARCH_KEYS}
    if params["role"] not in ROLE_CHOICES:
        params["role"] = ""
    if params["kind"] not in KINDS:
        params["kind"] = ""
    if params["year"] != NO_DATE and not params["year"].isdigit():
        params["year"] = ""
    return params


def filters_of(params: dict[str, str]) -> Filters:
    """Filters of the page (the year is applied by the caller: it may be 'no date')."""
    return Filters(
        agency=params["agency"] or None,
        role=params["role"] or None,
        doc_type=params["doc_type"] or None,
        issuer=params["issuer"] or None,
        section=params["section"] or None,
        kind=params["kind"] or None,
    )


def find(
    site: Site, params: dict[str, str], limit: int, matches: Matches | None = None
) -> list[Hit]:
    """Hits of the page's query: the document whose number it is, adjacent words, then any order."""
    if matches is None:
        with site.matches() as matches:
            return find(site, params, limit, matches)
    query, filters = params["q"], filters_of(params)
    year = params["year"]
    if year.isdigit():
        filters.year = int(year)
    if not query.strip() and not filters.any():
        filters.kind = "document"  # browsing by year (or 'no date') alone lists documents
    fetch = limit * 3 if year == NO_DATE else limit
    options = {
        "ignore_marks": params["marks"] == "any",
        "mark": (MARK_START, MARK_END),
        "matches": matches,
    }
    hits: list[Hit] = []
    stripped = query.strip()
    if NUMBER_RE.fullmatch(stripped):
        numbered = search(site.db, stripped, Filters(kind="document"), limit=5, **options).hits
        hits += [h for h in numbered if fold(h.document.get("number")) == fold(stripped)]
    loose = search(site.db, query, filters, limit=fetch, **options).hits
    hits += _adjacent_first(loose, query, options["ignore_marks"])
    seen, unique = set(), []
    for hit in hits:
        key = (hit.json_file, hit.kind, hit.line_start, hit.line)
        if key not in seen and (year != NO_DATE or not hit.document.get("date")):
            seen.add(key)
            unique.append(hit)
    return unique[:limit]


def _adjacent_first(hits: list[Hit], query: str, ignore_marks: bool) -> list[Hit]:
    """Hits whose snippet has the query's words adjacent and in order come first (stable).

    A second FTS5 phrase query would see adjacent matches beyond the ranked ones, but one that
    matches nothing reads every position list of its words: 260 ms CPU for `cong an chu tri` on
    the 10,000-document benchmark index, against ~30 ms for the whole search.
    """
    if not _worth_a_phrase(query):
        return hits
    phrase = parse_query(f'"{query}"', ignore_marks=ignore_marks)

    def adjacent(hit: Hit) -> bool:
        text = hit.snippet.replace(MARK_START, "").replace(MARK_END, "")
        return bool(find_spans(text, phrase))

    return sorted(hits, key=lambda hit: not adjacent(hit))


def _worth_a_phrase(query: str) -> bool:
    """Several plain words (no operators): their adjacent occurrences rank first."""
    if any(c in query for c in '"*-()') or regex.search(r"\b(OR|NOT|AND)\b", query):
        return False
    return len(regex.findall(r"[\p{L}\p{N}]+", query)) >= 2


def hit_view(site: Site, hit: Hit) -> dict:
    return {
        "rel": site.rel_of(hit),
        "kind": hit.kind,
        "document": hit.document,
        "source": hit.source,
        "section_id": hit.section_id,
        "section_title": hit.section_title,
        "line": hit.line,
        "page": hit.page,
        "runs": snippet_runs(hit.snippet),
        "roles": hit.roles,
        "deadline": hit.deadline,
    }


def search_page(request: Request) -> HTMLResponse:
    site: Site = request.app.state.site
    params = search_params(request)
    page = _int(request.query_params.get("page"), 1, 1, MAX_PAGE)
    context = {
        "params": params,
        "page_no": page,
        "hits": [],
        "facets": None,
        "error": None,
        "has_next": False,
        "filters": _active_filters(params),
    }
    if params["q"] or context["filters"]:
        try:
            with site.matches() as matches:
                hits = find(site, params, page * PAGE_SIZE + 1, matches)
                context["facets"] = facet_counts(
                    site.db,
                    params["q"],
                    filters_of(params),
                    year=params["year"] or None,
                    ignore_marks=params["marks"] == "any",
                    matches=matches,
                )
        except VanbanError as exc:
            context["error"] = exc.reason
        else:
            shown = hits[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
            context["hits"] = [hit_view(site, h) for h in shown]
            context["has_next"] = len(hits) > page * PAGE_SIZE
    else:
        context["documents"] = _document_count(site)
    return site.page("search.html", **context)


def _active_filters(params: dict[str, str]) -> list[tuple[str, str]]:
    return [(k, params[k]) for k in SEARCH_KEYS if k not in ("q", "marks") and params[k]]


def _document_count(site: Site) -> int:
    sql = "SELECT count(*) FROM documents WHERE outdir = ?"
    with site.readers.connection() as conn:
        return conn.execute(sql, (str(site.outdir),)).fetchone()[0]


def export_results(request: Request) -> Response:
    """The search's documents through `vanban export`: assignments (agency/role filters kept),
    sections or documents, as CSV (with BOM, for Excel) or JSONL."""
    site: Site = request.app.state.site
    params = search_params(request)
    what, fmt = request.query_params.get("what", "assignments"), request.query_params.get("format")
    if what not in WHAT or fmt not in FORMATS:
        raise HTTPException(400, f"what must be one of {WHAT}, format one of {FORMATS}")
    try:
        hits = find(site, params, EXPORT_HITS)
    except VanbanError as exc:
        raise HTTPException(400, exc.reason) from None
    rels = list(dict.fromkeys(r for h in hits if (r := site.rel_of(h))))
    rows = []
    for rel in rels:
        try:
            doc = load_document(site.document_path(rel), site.outdir)
        except (VanbanError, HTTPException):
            continue
        rows += [row for row in ROW_MAKERS[what](doc) if _row_matches(row, what, params)]
    buffer = io.StringIO()
    write_export(rows, buffer, what, fmt, bom=fmt == "csv")
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson; charset=utf-8"
    disposition = f'attachment; filename="vanban-{what}.{fmt}"'
    return Response(
        buffer.getvalue(), media_type=media, headers={"Content-Disposition": disposition}
    )


def _row_matches(row: dict, what: str, params: dict[str, str]) -> bool:
    if what != "assignments":
        return True
    if params["role"] and row.get("role") != params["role"]:
        return False
    agency = params["agency"]
    if agency:
        names = " | ".join(
            str(row.get(k) or "") for k in ("agency_id", "agency_name", "agency_printed")
        )
        return agency == row.get("agency_id") or fold(agency) in fold(names)
    return True


# ---------------------------------------------------------------- document


def document_page(request: Request) -> HTMLResponse:
    site: Site = request.app.state.site
    rel = request.query_params.get("path", "")
    doc, applied = site.read_document(rel)
    lines = _lines(doc)
    selected = _int(request.query_params.get("line"), 0, 0, 10**7)
    corrected_words: dict[int, set[str]] = {}
    corrected_lines: set[int] = set()
    for record in applied:
        if record["kind"] == "word" and record["action"] == "correct":
            corrected_words.setdefault(int(record["line"]), set()).add(str(record["after"]))
        elif record["kind"] == "line" and record["before"] != record["after"]:
            corrected_lines.add(int(record["line"]))
    views = []
    for item in lines:
        number = int(item.get("line") or 0)
        runs = line_runs(
            str(item.get("text") or ""),
            item.get("tokens") or [],
            frozenset(corrected_words.get(number, ())),
        )
        views.append(
            {
                "number": number,
                "page": item.get("page"),
                "runs": runs,
                "corrected": number in corrected_lines,
                "doubts": any(r.css and "doubtful" in r.css for r in runs),
            }
        )
    panel = _line_panel(site, doc, lines, selected, applied) if selected else None
    agency, deadline = (
        request.query_params.get("agency", ""),
        request.query_params.get("deadline", ""),
    )
    edit = _int(request.query_params.get("edit"), 0, 0, 10**6)
    return site.page(
        "document.html",
        rel=rel,
        doc=doc,
        meta=doc.meta,
        sections=section_rows(doc.sections),
        lines=views,
        panel=panel,
        assignments=_assignment_rows(doc, agency, deadline),
        agencies=_doc_agencies(doc),
        agency=agency,
        deadline=deadline,
        edit=_edit_form(doc, edit) if site.review and edit else None,
        history=[r for r in read_corrections(site.outdir).get(rel, [])][-20:],
        csrf=site.csrf,
        from_queue=request.query_params.get("queue") == "1",
    )


def _lines(doc: OutputDocument) -> list[dict]:
    lines = doc.tree.get("lines")
    if isinstance(lines, list) and lines:
        return [x for x in lines if isinstance(x, dict)]
    return [
        {"line": n, "page": p, "text": t, "tokens": [], "ocr_text": None, "bbox": None}
        for n, p, t in doc.text_lines()
    ]


def _line_panel(site: Site, doc: OutputDocument, lines: list[dict], number: int, applied) -> dict:
    item = next((x for x in lines if x.get("line") == number), None)
    if item is None:
        return {"number": number, "missing": True}
    text = str(item.get("text") or "")
    words = []
    cursor = 0
    for index, token in enumerate(item.get("tokens") or []):
        if not isinstance(token, dict) or not token.get("text"):
            continue
        match = regex.compile(
            rf"(?<![\p{{L}}\p{{M}}\p{{N}}]){regex.escape(str(token['text']))}(?![\p{{L}}\p{{M}}\p{{N}}])"
        ).search(text, cursor)
        if match is None:
            continue
        cursor = match.end()
        words.append(
            {
                "index": index,
                "start": match.start(),
                "end": match.end(),
                "text": match.group(),
                "source": token.get("source"),
                "confidence": token.get("confidence"),
            }
        )
    has_box = bool(item.get("bbox")) and item.get("page") is not None
    return {
        "number": number,
        "missing": False,
        "page": item.get("page"),
        "ocr_text": item.get("ocr_text"),
        "text": text,
        "runs": line_runs(text, item.get("tokens") or []),
        "ocr_confidence": item.get("ocr_confidence"),
        "crop": url("/crop", {"path": doc.rel, "line": number}) if has_box else None,
        "words": words,
        "reviews": [r for r in applied if r.get("line") == number],
    }


def _assignment_rows(doc: OutputDocument, agency: str, deadline: str) -> list[dict]:
    rows = []
    for index, assignment in enumerate(doc.assignments, start=1):
        roles = {r: [a for a in assignment.get(r) or [] if isinstance(a, dict)] for r in ROLES}
        ids = {a.get("id") for agencies in roles.values() for a in agencies}
        if agency and agency not in ids:
            continue
        has_deadline = bool(assignment.get("deadline"))
        if (deadline == "with" and not has_deadline) or (deadline == "without" and has_deadline):
            continue
        rows.append({"index": index, "roles": roles, **assignment})
    return rows


def _doc_agencies(doc: OutputDocument) -> list[tuple[str, str]]:
    found: dict[str, str] = {}
    for assignment in doc.assignments:
        for role in ROLES:
            for a in assignment.get(role) or []:
                if isinstance(a, dict) and a.get("id"):
                    found.setdefault(str(a["id"]), str(a.get("canonical") or a["id"]))
    return sorted(found.items(), key=lambda kv: fold(kv[1]))


def _edit_form(doc: OutputDocument, index: int) -> dict | None:
    if not 1 <= index <= len(doc.assignments):
        return None
    assignment = doc.assignments[index - 1]
    return {
        "index": index,
        "task": assignment.get("task") or "",
        "deadline": assignment.get("deadline") or "",
        "roles": {
            r: "\n".join(
                f"{a.get('canonical')} | {a.get('id')}"
                for a in assignment.get(r) or []
                if isinstance(a, dict)
            )
            for r in ROLES
        },
    }


def crop_image(request: Request) -> Response:
    site: Site = request.app.state.site
    rel = request.query_params.get("path", "")
    number = _int(request.query_params.get("line"), 0, 0, 10**7)
    doc, _ = site.read_document(rel)
    item = next((x for x in _lines(doc) if x.get("line") == number), None)
    if item is None or not item.get("bbox") or item.get("page") is None:
        raise HTTPException(404, "this line has no position on a scan")
    try:
        data = site.crops.crop_png(doc.source, int(item["page"]), list(item["bbox"]))
    except VanbanError as exc:
        raise HTTPException(404, exc.reason) from None
    return Response(data, media_type="image/png", headers={"Cache-Control": "private, max-age=600"})


# ---------------------------------------------------------------- agency


def agency_page(request: Request) -> HTMLResponse:
    site: Site = request.app.state.site
    agency_id = request.query_params.get("id", "").strip()[:300]
    deadline = request.query_params.get("deadline", "")
    page = _int(request.query_params.get("page"), 1, 1, 200)
    rows, error, name = [], None, agency_id
    try:
        found = _agency_hits(site, agency_id, page * AGENCY_PAGE_SIZE + 1) if agency_id else []
    except VanbanError as exc:
        found, error = [], exc.reason
    for hit in found:
        mine = [
            (role, a)
            for role, agencies in hit.roles.items()
            for a in agencies
            if a.get("id") == agency_id
        ]
        if not mine:
            continue
        if (deadline == "with" and not hit.deadline) or (deadline == "without" and hit.deadline):
            continue
        name = mine[0][1].get("canonical") or name
        rows.append(
            {
                **hit_view(site, hit),
                "my_roles": sorted({role for role, _ in mine}),
                "printed": sorted({a.get("name") or "" for _, a in mine}),
            }
        )
    shown = rows[(page - 1) * AGENCY_PAGE_SIZE : page * AGENCY_PAGE_SIZE]
    return site.page(
        "agency.html",
        agency_id=agency_id,
        name=name,
        rows=shown,
        error=error,
        page_no=page,
        has_next=len(rows) > page * AGENCY_PAGE_SIZE,
        deadline=deadline,
    )


def _agency_hits(site: Site, agency_id: str, limit: int) -> list[Hit]:
    with site.matches() as matches:
        filters, mark = Filters(agency=agency_id), (MARK_START, MARK_END)
        return search(site.db, "", filters, limit=limit, mark=mark, matches=matches).hits


# ---------------------------------------------------------------- review


async def _review_form(request: Request) -> dict[str, str]:
    site: Site = request.app.state.site
    if not site.review:
        raise HTTPException(403, "read-only: start `vanban serve` with --review to correct")
    form = await request.form()
    token = str(form.get("csrf") or "")
    if not secrets.compare_digest(token.encode(), site.csrf.encode()):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    if any(len(v) > MAX_FIELD for v in values.values()):
        raise HTTPException(400, "a field is too long")
    return values


def _who(site: Site, form: dict[str, str]) -> str:
    who = " ".join(form.get("who", "").split())[:80]
    return who or site.reviewer


def _back(form: dict[str, str], rel: str, line: int | None = None) -> RedirectResponse:
    if form.get("next") == "queue":
        return RedirectResponse("/review/next", status_code=303)
    target = url("/doc", {"path": rel, "line": line or ""}) + (f"#l{line}" if line else "")
    return RedirectResponse(target, status_code=303)


def _line_of(doc: OutputDocument, number: int) -> dict:
    item = next((x for x in _lines(doc) if x.get("line") == number), None)
    if item is None or not doc.tree.get("lines"):
        raise HTTPException(404, "no such line with a restored record")
    return item


async def review_word(request: Request) -> Response:
    site: Site = request.app.state.site
    form = await _review_form(request)
    rel = form.get("path", "")
    doc, _ = await run_in_threadpool(site.read_document, rel)
    number = _int(form.get("line"), 0, 0, 10**7)
    item = _line_of(doc, number)
    start, end = _int(form.get("start"), -1, -1, 10**6), _int(form.get("end"), -1, -1, 10**6)
    text, before = str(item.get("text") or ""), form.get("before", "")
    if not before or start < 0 or text[start:end] != before:
        raise HTTPException(409, "the line changed since the page was shown: reload it")
    accept = form.get("action") == "accept"
    after = before if accept else " ".join(form.get("after", "").split())
    if not after:
        raise HTTPException(400, "a correction needs the right word (use 'accept' to keep it)")
    token = _int(form.get("token"), -1, -1, 10**6)
    tokens = item.get("tokens") or []
    confidence = tokens[token].get("confidence") if 0 <= token < len(tokens) else None
    record = make_record(
        who=_who(site, form),
        document=rel,
        kind="word",
        action="accept" if accept or after == before else "correct",
        line=number,
        token=token,
        start=start,
        end=end,
        confidence=confidence,
        before=before,
        after=after,
    )
    await run_in_threadpool(_save_review, site, record)
    return _back(form, rel, number)


async def review_line(request: Request) -> Response:
    site: Site = request.app.state.site
    form = await _review_form(request)
    rel = form.get("path", "")
    doc, _ = await run_in_threadpool(site.read_document, rel)
    number = _int(form.get("line"), 0, 0, 10**7)
    item = _line_of(doc, number)
    before = str(item.get("text") or "")
    if form.get("before", "") != before:
        raise HTTPException(409, "the line changed since the page was shown: reload it")
    after = " ".join(form.get("after", "").split())
    action = "accept" if form.get("action") == "accept" or after == before else "correct"
    record = make_record(
        who=_who(site, form),
        document=rel,
        kind="line",
        action=action,
        line=number,
        before=before,
        after=before if action == "accept" else after,
    )
    await run_in_threadpool(_save_review, site, record)
    return _back(form, rel, number)


async def review_assignment(request: Request) -> Response:
    site: Site = request.app.state.site
    form = await _review_form(request)
    rel = form.get("path", "")
    doc, _ = await run_in_threadpool(site.read_document, rel)
    index = _int(form.get("assignment"), 0, 0, 10**6)
    if not 1 <= index <= len(doc.assignments):
        raise HTTPException(404, "no such assignment")
    current = doc.assignments[index - 1]
    before = {f: current.get(f) for f in ASSIGNMENT_FIELDS}
    known = [a for r in ROLES for a in current.get(r) or [] if isinstance(a, dict)]
    after = {
        "task": " ".join(form.get("task", "").split()) or current.get("task"),
        "deadline": " ".join(form.get("deadline", "").split()) or None,
        **{r: _parse_agencies(form.get(r, ""), known) for r in ROLES},
    }
    if after == before:
        return _back(form, rel)
    record = make_record(
        who=_who(site, form),
        document=rel,
        kind="assignment",
        action="correct",
        assignment=index,
        before=before,
        after=after,
    )
    await run_in_threadpool(_save_review, site, record)
    response = _back(form, rel)
    response.headers["location"] += f"#a{index}"
    return response


def _parse_agencies(text: str, known: list[dict]) -> list[dict]:
    """'Canonical name | locality/type' lines; a known agency keeps its printed name."""
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        name, _, agency_id = (
            (part.strip() for part in line.rpartition("|"))
            if "|" in line
            else (line.strip(), "", "")
        )
        match = next(
            (
                a
                for a in known
                if a.get("canonical") == name and (not agency_id or a.get("id") == agency_id)
            ),
            None,
        )
        if match is not None:
            out.append(match)
            continue
        if not AGENCY_ID_RE.match(agency_id):
            raise HTTPException(
                400, f"agency id needed as 'Name | locality/type': {line.strip()!r}"
            )
        out.append({"name": name, "canonical": name, "id": agency_id})
    return out


def _save_review(site: Site, record: dict) -> None:
    append_correction(site.outdir, record)
    site.after_review(record["document"])


def review_queue(request: Request) -> HTMLResponse:
    site: Site = request.app.state.site
    if not site.review:
        raise HTTPException(404, "the review queue needs `vanban serve --review`")
    site.queue.wait(timeout=2.0)  # a small OUTDIR is read at once; a large one shows progress
    return site.page("review.html", items=site.queue.items(50), queue=site.queue)


def review_next(request: Request) -> Response:
    site: Site = request.app.state.site
    if not site.review:
        raise HTTPException(404, "the review queue needs `vanban serve --review`")
    site.queue.wait(timeout=5.0)
    items = site.queue.items(1)
    if not items:
        return RedirectResponse("/review", status_code=303)
    first = items[0]
    target = url("/doc", {"path": first.document, "line": first.line, "queue": 1})
    return RedirectResponse(f"{target}#l{first.line}", status_code=303)


# ---------------------------------------------------------------- the app


def _int(text: str | None, default: int, low: int, high: int) -> int:
    try:
        value = int(str(text))
    except (TypeError, ValueError):
        return default
    return min(max(value, low), high)


async def _error(request: Request, exc: Exception) -> HTMLResponse:
    site: Site = request.app.state.site
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else "internal error"
    return site.page("error.html", status=status, status_code=status, detail=detail)


class TimingAndSecurityHeaders:
    """Adds security headers and `Server-Timing: app;dur=<ms>, cpu;dur=<ms>`: wall-clock and process
    CPU time from the request to the response head (CPU is the request's own only when requests
    do not overlap, as in scripts/bench_serve.py)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, started_cpu = time.perf_counter(), time.process_time()

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                wall = (time.perf_counter() - started) * 1e3
                cpu = (time.process_time() - started_cpu) * 1e3
                headers.append("Server-Timing", f"app;dur={wall:.1f}, cpu;dur={cpu:.1f}")
                for key, value in SECURITY_HEADERS.items():
                    if key not in headers:
                        headers.append(key, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(site: Site, *, allowed_hosts: list[str] | None = None) -> Starlette:
    """The ASGI app for one Site; only requests naming an allowed Host are answered."""
    routes = [
        Route("/", search_page),
        Route("/export", export_results),
        Route("/doc", document_page),
        Route("/crop", crop_image),
        Route("/agency", agency_page),
        Route("/review", review_queue),
        Route("/review/next", review_next),
        Route("/review/word", review_word, methods=["POST"]),
        Route("/review/line", review_line, methods=["POST"]),
        Route("/review/assignment", review_assignment, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    hosts = allowed_hosts or ["127.0.0.1", "localhost"]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(TimingAndSecurityHeaders),
            Middleware(TrustedHostMiddleware, allowed_hosts=hosts),
        ],
        exception_handlers={HTTPException: _error, 500: _error},
    )
    app.state.site = site
    return app
