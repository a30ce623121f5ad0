"""Facet counts for the search page: how many documents among a query's matches have each value."""

from __future__ import annotations

import json
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


# Each facet value with its number of documents, in one statement over the matching passages:
# the year of every match (and the undated ones), the other facets over the matches of the chosen
# year only (`kept`). Sections count by their top level ("II" for "II.2.a").
_COUNT_SQL = """
WITH hit AS MATERIALIZED (
    SELECT p.id AS pid, p.doc_id AS doc, p.section_id AS section, d.issuer AS issuer,
           d.doc_type AS doc_type, d.year AS year,
           CASE WHEN ?2 IS NULL THEN 1 WHEN ?2 = ?3 THEN d.year IS NULL
                ELSE CAST(d.year AS TEXT) = ?2 END AS kept
    FROM json_each(?1) AS j JOIN passages p ON p.id = j.value JOIN documents d ON d.id = p.doc_id
),
kept_role AS MATERIALIZED (
    SELECT hit.doc AS doc, r.role AS role, r.agency_id AS agency_id, r.canonical AS canonical
    FROM hit JOIN roles r ON r.passage_id = hit.pid WHERE hit.kept
)
SELECT 'year', year, year, count(DISTINCT doc) FROM hit GROUP BY year
UNION ALL SELECT 'issuer', issuer, issuer, count(DISTINCT doc) FROM hit
    WHERE kept AND issuer != '' GROUP BY issuer
UNION ALL SELECT 'doc_type', doc_type, doc_type, count(DISTINCT doc) FROM hit
    WHERE kept AND doc_type != '' GROUP BY doc_type
UNION ALL SELECT 'section', top, top, count(DISTINCT doc) FROM (
    SELECT substr(section, 1, instr(section || '.', '.') - 1) AS top, doc FROM hit
    WHERE kept AND section != '') GROUP BY top
UNION ALL SELECT 'role', role, role, count(DISTINCT doc) FROM kept_role GROUP BY role
UNION ALL SELECT 'agency', agency_id, coalesce(nullif(canonical, ''), agency_id),
    count(DISTINCT doc) FROM kept_role WHERE agency_id != '' GROUP BY 2, 3
UNION ALL SELECT 'documents', NULL, NULL, count(DISTINCT doc) FROM hit WHERE kept
UNION ALL SELECT 'undated', NULL, NULL, count(DISTINCT doc) FROM hit WHERE year IS NULL
"""


def _facets(matches: Matches, expression: str, year: str | None) -> Facets:
    """Facets of the newest matches of `expression`, sorted by count, then label."""
    ids = matches.newest(expression)
    facets = Facets(matches=len(ids), values={name: [] for name in FACET_NAMES})
    counts = matches.conn.execute(_COUNT_SQL, (json.dumps(ids), year, NO_DATE))
    for name, value, label, documents in counts:
        if name == "documents":
            facets.documents = documents
        elif name == "undated":
            facets.undated = documents
        else:
            if name == "year":
                value = label = NO_DATE if value is None else str(value)
            facets.values[name].append((value, label, documents))
    for values in facets.values.values():
        values.sort(key=lambda item: (-item[2], item[1], item[0]))
    return facets
