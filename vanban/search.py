"""Full-text search over a vanban index: safe FTS5 queries, filters, snippets with provenance."""

from __future__ import annotations

import argparse
import functools
import json
import os
import sqlite3
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

import regex

from vanban.core.errors import VanbanError
from vanban.core.text import fold, normalize
from vanban.index import (
    DEFAULT_TIMEOUT,
    add_index_parser,
    db_error,
    kind_token,
    open_db,
    plain_text,
    role_token,
    section_tokens,
    year_token,
)

KINDS = ("document", "text", "assignment")
ROLE_CHOICES = ("lead", "support", "executor")
_TOKEN_RE = regex.compile(r"[\p{L}\p{M}\p{N}\p{Co}]+")
_QUERY_PIECE_RE = regex.compile(r'(-?)"([^"]*)("?)|(\S+)')
EXACT_COLUMNS = "{body tags}"
PLAIN_COLUMNS = "{plain tags_plain}"
SNIPPET_CHARS = 240


# ---------------------------------------------------------------- query parsing


@dataclass(frozen=True)
class Term:
    """A word or a phrase of the user's query, already split into index tokens."""

    words: tuple[str, ...]
    prefix: bool = False  # last word is a prefix (word*)
    negated: bool = False


@dataclass
class ParsedQuery:
    """A user query as OR-groups of AND-ed terms, and whether it asks for exact diacritics."""

    groups: list[list[Term]] = field(default_factory=list)
    exact: bool = False

    @property
    def positive_terms(self) -> list[Term]:
        return [t for group in self.groups for t in group if not t.negated]

    def is_empty(self) -> bool:
        return not self.positive_terms

    def to_fts(self) -> str:
        """Safe FTS5 syntax: every word quoted, operators only where we put them."""
        columns = EXACT_COLUMNS if self.exact else PLAIN_COLUMNS
        clauses = []
        for group in self.groups:
            positives = [_fts_term(t, columns) for t in group if not t.negated]
            negatives = [_fts_term(t, columns) for t in group if t.negated]
            if not positives:
                continue
            clause = "(" + " AND ".join(positives) + ")"
            for negative in negatives:
                clause = f"({clause} NOT {negative})"
            clauses.append(clause)
        return " OR ".join(clauses)


def _fts_term(term: Term, columns: str) -> str:
    phrase = '"' + " ".join(term.words) + '"'
    return f"{columns} : {phrase}{' *' if term.prefix else ''}"


def parse_query(query: str, *, ignore_marks: bool = False) -> ParsedQuery:
    """Turn free text into terms: "phrases", OR, -word / NOT word, word*; other syntax is text.

    A query typed with any Vietnamese mark matches marks exactly; one typed without marks (or with
    ignore_marks) matches any marks ("cong an" finds "Công an").
    """
    query = normalize(query)
    exact = not ignore_marks and plain_text(query) != query
    parsed = ParsedQuery(groups=[[]], exact=exact)
    negate_next = False
    for piece in _QUERY_PIECE_RE.finditer(query):
        negated_quote, phrase, _closing, word = piece.groups()
        if word in ("OR", "|", "||"):
            if parsed.groups[-1]:
                parsed.groups.append([])
            continue
        if word in ("AND", "&&", "+"):
            continue
        if word == "NOT":
            negate_next = True
            continue
        if phrase is not None:
            text, prefix, negated = phrase, False, bool(negated_quote)
        else:
            negated = word.startswith("-") and len(word) > 1
            text = word[1:] if negated else word
            prefix = text.endswith("*")
        term = _make_term(text, exact, prefix, negated or negate_next)
        negate_next = False
        if term is not None:
            parsed.groups[-1].append(term)
    parsed.groups = [g for g in parsed.groups if any(not t.negated for t in g)]
    return parsed


def _make_term(text: str, exact: bool, prefix: bool, negated: bool) -> Term | None:
    words = tuple(w if exact else plain_text(w).lower() for w in _TOKEN_RE.findall(text))
    if not words:
        return None
    return Term(words, prefix=prefix, negated=negated)


# ---------------------------------------------------------------- snippets


_WORD_CHAR = r"[\p{L}\p{M}\p{N}\p{Co}]"
_GAP = r"[^\p{L}\p{M}\p{N}\p{Co}]+"


def find_spans(text: str, parsed: ParsedQuery, plain: str | None = None) -> list[tuple[int, int]]:
    """Character spans of `text` matched by the query's positive terms (whole phrases only).

    `plain` is plain_text(text) when the caller has it already.
    """
    if parsed.is_empty():
        return []
    pattern = _terms_pattern(tuple(parsed.positive_terms))
    haystack = text if parsed.exact else plain if plain is not None else plain_text(text)
    if len(haystack) != len(text):  # offsets would not map back
        haystack = text
    return _merge([m.span() for m in pattern.finditer(haystack)])


@functools.lru_cache(maxsize=64)
def _terms_pattern(terms: tuple[Term, ...]) -> regex.Pattern:
    """One regex, a group per term: words in order, separated by non-word characters (as FTS5)."""
    alternatives = []
    for term in terms:
        words = _GAP.join(regex.escape(w) for w in term.words)
        tail = f"{_WORD_CHAR}*" if term.prefix else f"(?!{_WORD_CHAR})"
        alternatives.append(f"(?<!{_WORD_CHAR})({words}{tail})")
    return regex.compile("|".join(alternatives) or "(?!)", regex.IGNORECASE)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def make_snippet(
    text: str, spans: list[tuple[int, int]], mark: tuple[str, str] = ("**", "**")
) -> str:
    """About SNIPPET_CHARS characters around the first match, matches wrapped in `mark`."""
    first = spans[0][0] if spans else 0
    start = 0 if first < 60 else text.rfind(" ", 0, first - 50) + 1
    end = min(len(text), start + SNIPPET_CHARS)
    if end < len(text):
        cut = text.rfind(" ", first, end)
        end = cut if cut > first else end
    out, cursor = [], start
    for s, e in spans:
        if s < start or e > end:
            continue
        out += [text[cursor:s], mark[0], text[s:e], mark[1]]
        cursor = e
    out.append(text[cursor:end])
    snippet = " ".join("".join(out).split())
    return ("…" if start > 0 else "") + snippet + ("…" if end < len(text) else "")


# ---------------------------------------------------------------- searching


@dataclass
class Filters:
    """Restrictions on results beyond the text query."""

    agency: str | None = None
    role: str | None = None
    doc_type: str | None = None
    issuer: str | None = None
    year: int | None = None
    section: str | None = None
    kind: str | None = None  # None = every kind

    def any(self) -> bool:
        return any(v is not None for v in asdict(self).values())

    def fts(self) -> str:
        """The filters as FTS5 clauses over the filter columns (AND-ed), '' when none."""
        kind = self.kind
        clauses = []
        if self.agency or self.role:
            if kind not in (None, "assignment"):
                raise VanbanError("--agency/--role", "only assignments have agencies (drop --kind)")
            kind = "assignment"
        if self.agency:
            columns = self.role or "{lead support executor}"
            clauses.append(f"{columns} : {_phrase('--agency', self.agency)}")
        elif self.role:
            clauses.append(f'facets : "{role_token(self.role)}"')
        if kind:
            clauses.append(f'facets : "{kind_token(kind)}"')
        for column, value in (("doc_type", self.doc_type), ("issuer", self.issuer)):
            if value:
                clauses.append(f"{column} : {_phrase('--' + column.replace('_', '-'), value)}")
        if self.year is not None:
            clauses.append(f'facets : "{year_token(self.year)}"')
        if self.section:
            tokens = section_tokens(self.section.strip().strip("."))
            if not tokens:
                raise VanbanError("--section", f"no section label in {self.section!r}")
            clauses.append(f'facets : "{tokens[-1]}"')
        return " AND ".join(clauses)


def _phrase(option: str, value: str) -> str:
    words = _TOKEN_RE.findall(fold(value))
    if not words:
        raise VanbanError(option, f"no words to match in {value!r}")
    return '"' + " ".join(words) + '"'


@dataclass
class Hit:
    """One search result with its provenance."""

    kind: str
    document: dict
    json_file: str
    source: str
    section_id: str | None
    section_title: str | None
    line: int | None
    line_start: int | None
    line_end: int | None
    page: int | None
    snippet: str
    score: float | None
    roles: dict[str, list[dict]] = field(default_factory=dict)
    deadline: str | None = None

    def to_json(self) -> dict:
        return asdict(self)


MAX_RANKED = 1000  # matches considered per query: the newest ones
RESCORED = 50  # of those, the shortest are scored
_COLUMNS = """
p.id AS pid, p.kind AS kind, p.section_id AS section_id, p.section_title AS section_title,
p.line_start AS line_start, p.line_end AS line_end, p.page AS page, p.line_pages AS line_pages,
p.deadline AS deadline, p.body AS body, d.outdir AS outdir, d.path AS path, d.source AS source,
d.issuer AS issuer, d.doc_type AS doc_type, d.number AS number, d.date AS date, d.title AS title,
d.place AS place
"""


class SearchResult(NamedTuple):
    """Hits of one query; `ranked` matches were scored (MAX_RANKED means there were more)."""

    parsed: ParsedQuery
    hits: list[Hit]
    ranked: int


class Matches:
    """FTS5 lookups through one connection, each expression run once (a page's search and its
    facet counts share them); keep one for one request only, the index may change between."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self._newest: dict[str, list[int]] = {}

    def newest(self, expression: str) -> list[int]:
        """Rowids of the newest MAX_RANKED passages matching `expression`, newest first."""
        if expression not in self._newest:
            sql = (
                "SELECT rowid FROM passages_fts WHERE passages_fts MATCH ?"
                " ORDER BY rowid DESC LIMIT ?"
            )
            rows = self.conn.execute(sql, (expression, MAX_RANKED))
            self._newest[expression] = [r[0] for r in rows]
        return self._newest[expression]


def search(
    db: Path,
    query: str,
    filters: Filters | None = None,
    *,
    limit: int = 10,
    ignore_marks: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    mark: tuple[str, str] = ("**", "**"),
    matches: Matches | None = None,
) -> SearchResult:
    """Run a user query against the index; VanbanError for an unusable query or database.

    With `matches`, read through its connection (and reuse its lookups) instead of opening `db`.
    """
    filters = filters or Filters()
    parsed = parse_query(query, ignore_marks=ignore_marks)
    if parsed.is_empty() and not filters.any():
        raise VanbanError(query or "<query>", "nothing to search for (give words or a filter)")
    filter_fts = filters.fts()
    if matches is not None:
        return _search(matches, parsed, filter_fts, limit, mark, query, db, timeout)
    with open_db(db, create=False, timeout=timeout) as conn:
        return _search(Matches(conn), parsed, filter_fts, limit, mark, query, db, timeout)


def _search(
    matches: Matches,
    parsed: ParsedQuery,
    filter_fts: str,
    limit: int,
    mark: tuple[str, str],
    query: str,
    db: Path,
    timeout: float,
) -> SearchResult:
    conn = matches.conn
    conn.row_factory = sqlite3.Row
    try:
        plain: dict[int, str] = {}
        rows, scores, ranked = _fetch(matches, parsed, filter_fts, limit, plain)
        hits = _hits(conn, rows, parsed, mark, scores, plain, limit)
        return SearchResult(parsed, hits, ranked)
    except sqlite3.OperationalError as exc:
        if "fts5" in str(exc) or "syntax" in str(exc):
            raise VanbanError(query, f"cannot search for this ({exc})") from None
        raise db_error(db, exc, timeout) from None
    finally:
        conn.row_factory = None


def _fetch(
    matches: Matches, parsed: ParsedQuery, filters: str, limit: int, plain: dict[int, str]
) -> tuple[list, dict, int]:
    """Rows of the best passages, their scores, and how many matches were considered; `plain`
    gets the plain text of the passages scored.

    FTS5's own bm25() reads the whole posting list of every term to weigh it, which costs
    hundreds of milliseconds for common words in a large corpus. Instead: the newest MAX_RANKED
    matches (rowids only: cheap), of which the RESCORED shortest are scored here with BM25's
    term-frequency and length parts. Without words, the passages the filters select, in index
    order.
    """
    conn = matches.conn
    fetch = limit * 3 + 5  # room for text hits dropped as covered by an assignment hit
    words = parsed.to_fts()
    if not words:
        sql = "SELECT rowid FROM passages_fts WHERE passages_fts MATCH ? ORDER BY rowid LIMIT ?"
        ids = [r[0] for r in conn.execute(sql, (filters, fetch))]
        return _passage_rows(conn, ids), {}, 0
    expression = f"({words}) AND {filters}" if filters else words
    candidates = json.dumps(matches.newest(expression))
    sql = "SELECT id, length FROM passages WHERE id IN (SELECT value FROM json_each(?))"
    by_length = sorted(conn.execute(sql, (candidates,)), key=lambda row: (row[1], -row[0]))
    scores = _score(conn, [pid for pid, _ in by_length[:RESCORED]], parsed, plain)
    best = sorted(scores, key=lambda pid: -scores[pid])[:fetch]
    return _passage_rows(conn, best), scores, len(by_length)


def _passage_rows(conn, ids: list[int]) -> list[sqlite3.Row]:
    """The passages `ids` with their documents, in the order of `ids`."""
    sql = (
        f"SELECT {_COLUMNS} FROM passages p JOIN documents d ON d.id = p.doc_id"
        " WHERE p.id IN (SELECT value FROM json_each(?))"
    )
    rows = {row["pid"]: row for row in conn.execute(sql, (json.dumps(ids),))}
    return [rows[pid] for pid in ids if pid in rows]


BM25_K1, BM25_B = 1.2, 0.75
TAGS_WEIGHT = 2.0  # a match in the agency names counts twice


def _score(conn, ids: list[int], parsed: ParsedQuery, plain: dict[int, str]) -> dict[int, float]:
    """BM25 without IDF (every term weighs the same) over the candidate passages; `plain` gets
    their bodies' plain text (when the query ignores marks)."""
    pattern = _terms_pattern(tuple(parsed.positive_terms))
    sql = "SELECT id, body, tags FROM passages WHERE id IN (SELECT value FROM json_each(?))"
    counts: dict[int, tuple[list[float], int]] = {}
    for pid, body, tags in conn.execute(sql, (json.dumps(ids),)):
        freq = [0.0] * (pattern.groups or 1)
        texts = (body, tags)
        if not parsed.exact:
            plain[pid] = plain_text(body)
            texts = (plain[pid], plain_text(tags))
        for text, weight in zip(texts, (1.0, TAGS_WEIGHT), strict=True):
            for match in pattern.finditer(text):
                freq[match.lastindex - 1] += weight
        counts[pid] = (freq, len(body))
    if not counts:
        return {}
    average = sum(length for _, length in counts.values()) / len(counts) or 1.0
    return {
        pid: sum(
            f * (BM25_K1 + 1) / (f + BM25_K1 * (1 - BM25_B + BM25_B * length / average))
            for f in freq
        )
        for pid, (freq, length) in counts.items()
    }


def _hits(
    conn,
    rows: list[sqlite3.Row],
    parsed: ParsedQuery,
    mark: tuple[str, str],
    scores: dict[int, float],
    plain: dict[int, str],
    limit: int,
) -> list[Hit]:
    """The first `limit` hits of `rows`, leaving out text hits on a line that an assignment hit
    of the same document among `rows` covers (they add nothing); no snippet is made past `limit`.
    """
    covered = {
        (row["outdir"], row["path"], n)
        for row in rows
        if row["kind"] == "assignment" and row["line_start"] is not None
        for n in range(row["line_start"], (row["line_end"] or row["line_start"]) + 1)
    }
    hits: list[Hit] = []
    for row in rows:
        if len(hits) == limit:
            break
        hit = _hit(conn, row, parsed, mark, scores, plain.get(row["pid"]))
        if hit.kind != "text" or (row["outdir"], row["path"], hit.line) not in covered:
            hits.append(hit)
    return hits


def _hit(
    conn,
    row: sqlite3.Row,
    parsed: ParsedQuery,
    mark: tuple[str, str],
    scores: dict[int, float],
    plain: str | None,
) -> Hit:
    body, kind, line_start, page = row["body"], row["kind"], row["line_start"], row["page"]
    spans = find_spans(body, parsed, plain)
    line = line_start
    if kind == "text" and spans and line_start is not None:
        line = line_start + body.count("\n", 0, spans[0][0])
        page = _page_of(line, row["line_pages"], page)
    return Hit(
        kind=kind,
        document={k: row[k] for k in ("number", "doc_type", "issuer", "date", "title", "place")},
        json_file=str(Path(row["outdir"]) / row["path"]),
        source=row["source"],
        section_id=row["section_id"],
        section_title=row["section_title"],
        line=line,
        line_start=line_start,
        line_end=row["line_end"],
        page=page,
        snippet=make_snippet(body, spans, mark),
        score=round(scores[row["pid"]], 4) if row["pid"] in scores else None,
        roles=_roles(conn, row["pid"]) if kind == "assignment" else {},
        deadline=row["deadline"],
    )


def _page_of(line: int, line_pages: str | None, default: int | None) -> int | None:
    if not line_pages:
        return default
    for number, page in json.loads(line_pages):
        if number == line:
            return page
    return default


def _roles(conn, passage_id: int) -> dict[str, list[dict]]:
    roles: dict[str, list[dict]] = {}
    for role, name, canonical, agency_id in conn.execute(
        "SELECT role, name, canonical, agency_id FROM roles WHERE passage_id = ? ORDER BY rowid",
        (passage_id,),
    ):
        roles.setdefault(role, []).append({"name": name, "canonical": canonical, "id": agency_id})
    return roles


# ---------------------------------------------------------------- output


def format_hit(rank: int, hit: Hit) -> str:
    """A few human-readable lines for one hit."""
    doc = hit.document
    head = " · ".join(
        str(x) for x in (doc.get("number"), doc.get("doc_type"), doc.get("date")) if x
    )
    issuer = f" — {doc['issuer']}" if doc.get("issuer") else ""
    where = f"line {hit.line}" if hit.line is not None else "header"
    if hit.page is not None:
        where += f", page {hit.page}"
    section = f"  § {hit.section_id} {hit.section_title or ''}".rstrip() if hit.section_id else ""
    section = section if len(section) <= 90 else section[:89] + "…"
    lines = [
        f"{rank}. {head or hit.source}{issuer}",
        f"   [{hit.kind}] {hit.json_file}:{where}{section}",
        f"   {hit.snippet}",
    ]
    if hit.roles or hit.deadline:
        parts = [
            f"{role}: {', '.join(a['canonical'] or a['name'] for a in agencies)}"
            for role, agencies in hit.roles.items()
        ]
        if hit.deadline:
            parts.append(f"deadline: {hit.deadline}")
        lines.append("   " + " | ".join(parts))
    return "\n".join(lines)


def run_search(args: argparse.Namespace) -> int:
    """`vanban search QUERY --db DB [filters]`: exit 0 with results, 1 with none or on error."""
    filters = Filters(
        agency=args.agency,
        role=args.role,
        doc_type=args.doc_type,
        issuer=args.issuer,
        year=args.year,
        section=args.section,
        kind=None if args.kind == "all" else args.kind,
    )
    color = not args.json and sys.stdout.isatty()
    mark = ("\033[1;33m", "\033[0m") if color else ("**", "**")
    try:
        parsed, hits, ranked = search(
            Path(args.db),
            " ".join(args.query),
            filters,
            limit=args.limit,
            ignore_marks=args.ignore_marks,
            timeout=args.timeout,
            mark=mark,
        )
    except VanbanError as exc:
        print(f"vanban: error: {exc}", file=sys.stderr)
        return 2 if "nothing to search" in exc.reason else 1
    try:
        _print_hits(args, parsed, hits, ranked)
    except BrokenPipeError:  # the reader (e.g. `head`) stopped early
        silence_stdout()
    return 0 if hits else 1


def _print_hits(args: argparse.Namespace, parsed: ParsedQuery, hits: list[Hit], ranked: int):
    if args.json:
        payload = {
            "query": " ".join(args.query),
            "fts_query": parsed.to_fts() or None,
            "marks": "exact" if parsed.exact else "any",
            "count": len(hits),
            "ranked": ranked,
            "ranked_all": ranked < MAX_RANKED,
            "results": [h.to_json() for h in hits],
        }
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        print("\n\n".join(format_hit(k, h) for k, h in enumerate(hits, start=1)) or "no results")


def silence_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so exiting does not raise again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_search_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "search",
        help="search an index built by `vanban index`",
        description='Words match with or without diacritics ("cong an chu tri" finds "Công an ... '
        'chủ trì"; a query typed with marks matches them exactly). "..." is a phrase, OR joins '
        "alternatives, -word excludes, word* is a prefix; other punctuation is ignored. Hits are "
        "ranked by term frequency and length among the 1000 most recently indexed matches. "
        "Exit status: 0 with results, 1 with none or on error, 2 for an empty query.",
    )
    parser.add_argument(
        "query", nargs="*", metavar="QUERY", help="words; may be empty with filters"
    )
    parser.add_argument("--db", default="corpus.sqlite", help="index file (default: corpus.sqlite)")
    parser.add_argument("--agency", help="assignments naming this agency (name, canonical or id)")
    parser.add_argument(
        "--role", choices=ROLE_CHOICES, help="assignments where the agency has this role"
    )
    parser.add_argument("--doc-type", help='e.g. "Kế hoạch", "ke hoach"')
    parser.add_argument("--issuer", help="issuing body (substring, marks optional)")
    parser.add_argument("--year", type=int, help="year of the document date")
    parser.add_argument("--section", help='section id and its subsections, e.g. "V" or "II.2.a"')
    parser.add_argument("--kind", choices=("all", *KINDS), default="all", help="kind of passage")
    parser.add_argument("--ignore-marks", action="store_true", help="match any marks even if typed")
    parser.add_argument(
        "--limit", type=_positive_int, default=10, help="results to show (default 10)"
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help=argparse.SUPPRESS)
    parser.set_defaults(func=run_search)


def register_cli(subparsers) -> None:
    """Add the `index` and `search` subcommands to the vanban CLI."""
    add_index_parser(subparsers)
    add_search_parser(subparsers)
