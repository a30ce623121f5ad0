"""Facet counts for the search page: how many documents among a query's matches have each value."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from vanban.index import open_db
from vanban.search import MAX_RANKED, Filters, Matches, parse_query

NO_DATE = "none"  # the year value of documents without a legible date
FACET_NAMES = ("doc_type", "issuer", "year", "agency", "role", "section")


@dataclass
class Facets:
    """Per facet, (value, label, documents) sorted by count; `matches` passages were counted."""

    values: dict[str, list[tuple[str, str, int]]] = field(default_factory=dict)
    matches: int = 0
    documents: int = 0
    undated: int = 0  # matching documents without a date (also shown when a year is chosen)

    @property
    def truncated(self) -> bool:
        return self.matches >= MAX_RANKED


def facet_counts(
    db: Path,
    query: str,
    filters: Filters,
    *,
    year: str | None,
    ignore_marks: bool = False,
    matches: Matches | None = None,
) -> Facets:
    """Counts over the newest MAX_RANKED matching passages (the ones `search` ranks too).

    `year` is a year, NO_DATE or None; the year facet itself is counted without it, every other
    facet with it, so the year list always says how many documents have no date. With `matches`,
    read through its connection and share its lookups (a search without a year ran this one).
    """
    words = parse_query(query, ignore_marks=ignore_marks).to_fts()
    filter_fts = filters.fts()
    expression = f"({words}) AND {filter_fts}" if words and filter_fts else words or filter_fts
    if not expression:
        return Facets()
    if matches is not None:
        return _facets(matches, expression, year)
    with open_db(db, create=False) as conn:
        return _facets(Matches(conn), expression, year)


def _facets(matches: Matches, expression: str, year: str | None) -> Facets:
    conn = matches.conn
    ids = matches.newest(expression)
    id_list = json.dumps(ids)
    rows = conn.execute(
        "SELECT p.id, p.doc_id, p.section_id, d.issuer, d.doc_type, d.year FROM passages p"
        " JOIN documents d ON d.id = p.doc_id WHERE p.id IN (SELECT value FROM json_each(?))",
        (id_list,),
    ).fetchall()
    roles = conn.execute(
        "SELECT passage_id, role, canonical, agency_id FROM roles"
        " WHERE passage_id IN (SELECT value FROM json_each(?))",
        (id_list,),
    ).fetchall()
    return _count(rows, roles, year, len(ids))


def _count(rows: list, roles: list, year: str | None, matches: int) -> Facets:
    def year_ok(value: int | None) -> bool:
        if year is None:
            return True
        return value is None if year == NO_DATE else str(value) == year

    doc_sets: dict[str, dict[tuple[str, str], set[int]]] = {name: {} for name in FACET_NAMES}
    passage_doc: dict[int, int] = {}
    kept_docs: set[int] = set()
    undated: set[int] = set()
    for pid, doc_id, section_id, issuer, doc_type, doc_year in rows:
        label = str(doc_year) if doc_year is not None else NO_DATE
        doc_sets["year"].setdefault((label, label), set()).add(doc_id)
        if doc_year is None:
            undated.add(doc_id)
        if not year_ok(doc_year):
            continue
        passage_doc[pid] = doc_id
        kept_docs.add(doc_id)
        for name, value in (("issuer", issuer), ("doc_type", doc_type)):
            if value:
                doc_sets[name].setdefault((value, value), set()).add(doc_id)
        if section_id:
            top = section_id.split(".")[0]
            doc_sets["section"].setdefault((top, top), set()).add(doc_id)
    for pid, role, canonical, agency_id in roles:
        if pid in passage_doc:
            doc_sets["role"].setdefault((role, role), set()).add(passage_doc[pid])
            if agency_id:
                key = (agency_id, canonical or agency_id)
                doc_sets["agency"].setdefault(key, set()).add(passage_doc[pid])
    facets = Facets(matches=matches, documents=len(kept_docs), undated=len(undated))
    for name, groups in doc_sets.items():
        counted = Counter({key: len(docs) for key, docs in groups.items()})
        ordered = sorted(counted.items(), key=lambda kv: (-kv[1], kv[0][1]))
        facets.values[name] = [(value, label, n) for (value, label), n in ordered]
    return facets
