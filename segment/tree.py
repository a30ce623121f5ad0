"""segment_document: restored lines -> JSON-ready metadata, section tree, agency assignments."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from vanban.segment.agencies import AgencyResolver, Locality, find_places, load_registry
from vanban.segment.assignments import (
    Unit,
    find_deadline,
    find_roles,
    heading_agencies,
    is_assignment_part,
    is_principle_part,
    is_task_detail,
)
from vanban.segment.deadlines import parse_deadline
from vanban.segment.layout import gap_lines
from vanban.segment.lexicon import clean_spaces, fold, match_any, tokenize
from vanban.segment.metadata import extract_metadata
from vanban.segment.sections import (
    Section,
    build_sections,
    clean_markdown,
    ends_sentence,
    find_candidate,
    is_bullet,
    is_caps,
    is_junk,
    paragraphs,
    starts_upper,
    strip_bullet,
)
from vanban.segment.tables import TableRow, cell_agencies, find_tables

from vanban.core.records import Provenance, TextLine

SCHEMA_PATH = Path(__file__).with_name("schema.json")
SCHEMA_VERSION = "1.1"  # 1.1: assignments carry `due`, sections `label_repaired_from`
_LABEL_RE = re.compile(
    r"^\s*(c¢|¢c|[a-zđ¢€ð]|\d{1,2}(?:\.\d{1,2})*|[IVXLCl1|!][IVXLCl1|!i]{0,4})\s*[.):]\s*"
)
_LINE_END_JUNK = re.compile(r"\s+[\"'`_|~^*]{1,2}\s*$")
_DIRECTIVE_WORDS = ("Yêu cầu", "Giao", "Đề nghị")


@cache
def load_schema() -> dict:
    """The JSON Schema (draft 2020-12) of segment output, shipped in the package."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def segment_text(text: str, source: str = "<text>") -> dict:
    """Segment plain text or markdown: each line becomes a TextLine with page=None."""
    lines = [
        TextLine(line, Provenance(source=source, line=k + 1))
        for k, line in enumerate(text.split("\n"))
    ]
    return segment_document(lines, source=source)


def segment_document(lines: list[TextLine], *, source: str) -> dict:
    """Return the JSON-ready document tree (document, sections, assignments)."""
    texts = [clean_markdown(line.text) for line in lines]
    sections = build_sections(texts)
    document = extract_metadata(texts, gap_lines(lines))
    registry = load_registry()
    resolver = AgencyResolver(
        _home_locality(document.get("issuer")), find_places("\n".join(texts), registry), registry
    )
    subjects = _agency_sections(sections, registry)
    rows = find_tables(texts)
    table_lines = {i for row in rows for i in row.lines}
    units = _units(sections, texts, subjects, table_lines)
    issuer_words = frozenset(fold(w) for w in (document.get("issuer") or "").split())
    lost = _lost_subject_lines(sections, subjects)
    assignments = _assignments(
        units, lines, resolver, registry, issuer_words, document.get("issuer"), lost
    )
    assignments += _table_assignments(rows, sections, lines, resolver, registry)
    assignments.sort(key=lambda a: a["line_start"])
    return {
        "schema_version": SCHEMA_VERSION,
        "source": source,
        "document": document,
        "sections": [_section_json(s, texts, lines, subjects) for s in sections],
        "assignments": assignments,
    }


def _home_locality(issuer: str | None) -> Locality | None:
    if not issuer:
        return None
    m = re.search(  # only a resolved locality: its kind and a capitalized name of 1-4 words
        r"\b(tỉnh|thành phố|huyện|quận|thị xã|xã|phường|thị trấn|đặc khu)\s+"
        r"((?:[A-ZĐÀ-Ỹ][^\W\d_]*)(?:\s+[A-ZĐÀ-Ỹ][^\W\d_]*){0,3})$",
        issuer,
    )
    return Locality(m.group(1), m.group(2)) if m else None


def _agency_sections(sections: list[Section], registry) -> dict[str, list[str]]:
    """Headings that name only agencies, in any section: '2. Sở Xây dựng', 'Đề nghị X',
    '1. Cục X có trách nhiệm:', 'Điều 18. Trách nhiệm của Sở Công Thương'."""
    subjects: dict[str, list[str]] = {}
    for section in sections:
        names = heading_agencies(section.title, registry)
        if names:
            subjects[section.id] = names
    return subjects


def _lost_subject_lines(sections: list[Section], subjects: dict) -> set[int]:
    """Lines whose heading has siblings that name agencies: a subjectless 'Chủ trì, ...' there
    lost its agency to the scan ('4. Sé¢ Tai chinh'), it is not the issuer's own duty. A
    numbered line that is itself the task ('1. Chủ trì, ...') counts only its ancestors."""
    top = [s for s in sections if s.parent is None]

    def named_siblings(node: Section) -> bool:
        siblings = node.parent.children if node.parent else top
        return any(s.id in subjects for s in siblings if s is not node)

    lost: set[int] = set()
    for section in sections:
        if any(named_siblings(a) for a in _ancestors(section)):
            lost.update(range(section.heading_start, section.heading_end + 1))
            lost.update(section.body)
        elif named_siblings(section):
            lost.update(section.body)
    return lost


def _ancestors(section: Section) -> list[Section]:
    out = []
    node = section.parent
    while node is not None:
        out.append(node)
        node = node.parent
    return out


def _title_only(section: Section, texts: list[str], subjects: dict) -> bool:
    """The heading is a title, not the first words of the section's text."""
    if section.inline:
        return False
    if (
        section.id in subjects
        or section.scheme in {"part", "chapter", "item"}
        or is_caps(section.title)
    ):
        return True
    if section.scheme == "letter":
        return False
    nxt = next(
        (
            k
            for k in range(section.heading_end + 1, len(texts))
            if texts[k].strip() and not is_junk(texts[k])
        ),
        None,
    )
    if nxt is None or find_candidate(nxt, texts[nxt].strip()) is not None or is_bullet(texts[nxt]):
        return True
    if ends_sentence(texts[section.heading_end]) or starts_upper(texts[nxt]):
        return len(section.title.split()) <= 15
    return False


def _own_lines(section: Section, texts: list[str], subjects: dict) -> list[int]:
    heading = (
        []
        if _title_only(section, texts, subjects)
        else list(range(section.heading_start, section.heading_end + 1))
    )
    return heading + section.body


def _line_text(index: int, texts: list[str], section: Section) -> str:
    """A line of a section; its first heading line stands for the whole inline text."""
    if index == section.heading_start:
        if section.inline:
            return section.inline
        return _LABEL_RE.sub("", texts[index].strip(), count=1)
    return texts[index]


def _paragraph_text(group: list[int], texts: list[str], section: Section) -> str:
    """A paragraph's text: label dropped, lines joined, stray scan marks at line ends removed."""
    parts = []
    for index in group:
        if section.inline and section.heading_start < index <= section.heading_end:
            continue  # already in the inline text
        parts.append(_LINE_END_JUNK.sub("", _line_text(index, texts, section)))
    return clean_spaces(strip_bullet(" ".join(parts)))


def _units(sections: list[Section], texts: list[str], subjects: dict, skip: set[int]) -> list[Unit]:
    units: list[Unit] = []
    last_below = _last_descendant_starts(sections)
    for section in sections:
        subject = _subject(section, subjects)
        own = [i for i in _own_lines(section, texts, subjects) if i not in skip]
        groups = paragraphs(texts, own)
        for k, group in enumerate(groups):
            text = _paragraph_text(group, texts, section)
            if not text:
                continue
            if units and units[-1].section == section.id and k > 0 and is_task_detail(text):
                units[-1].lines += group  # 'Cơ quan chủ trì: ...' completes the task above
                units[-1].text += " " + text
                continue
            unit = Unit(section.id, group, text, subject, _in_principles(section))
            part = _trailing_directive_part(section, k, group, texts, last_below)
            if part is not None:
                unit.section, unit.subject = part.id, []
            units.append(unit)
    return units


def _in_principles(section: Section) -> bool:
    return any(is_principle_part(s.title) for s in [section, *_ancestors(section)])


def _subject(section: Section, subjects: dict) -> list[str]:
    node: Section | None = section
    while node is not None:
        if node.id in subjects:
            return subjects[node.id]
        node = node.parent
    return []


def _last_descendant_starts(sections: list[Section]) -> dict[int, int]:
    """id(section) -> the latest heading start among its descendants (one pass, not n²)."""
    last: dict[int, int] = {}
    for section in sections:
        for ancestor in _ancestors(section):
            last[id(ancestor)] = max(last.get(id(ancestor), -1), section.heading_start)
    return last


def _trailing_directive_part(
    section: Section, k: int, group: list[int], texts: list[str], last_below: dict[int, int]
) -> Section | None:
    """'Yêu cầu ...', 'Giao ...' after the last heading of an assignment part belong to it."""
    if k == 0 or is_bullet(texts[group[0]]):
        return None
    tokens = tokenize(texts[group[0]].strip())
    if not tokens or match_any(tokens, 0, _DIRECTIVE_WORDS) is None:
        return None
    part = next((a for a in _ancestors(section) if is_assignment_part(a.title)), None)
    if part is None:
        return None
    later = last_below.get(id(part), -1) > section.heading_start  # a heading of `part` follows
    return part if not later else None


def _assignments(
    units: list[Unit],
    lines: list[TextLine],
    resolver: AgencyResolver,
    registry,
    issuer_words: frozenset[str] = frozenset(),
    issuer: str | None = None,
    lost: set[int] | frozenset[int] = frozenset(),
) -> list[dict]:
    out = []
    for unit in units:
        if unit.text.rstrip().endswith(":"):
            continue  # the lead-in of a list ('..., có trách nhiệm:'): its items are the tasks
        own = None if unit.lines[0] in lost else issuer  # who leads a subjectless 'Chủ trì'
        roles = find_roles(
            unit.text, unit.subject, registry, issuer_words, own, principle=unit.principle
        )
        if roles is None:
            continue
        out.append(
            {
                "section": unit.section,
                "lead": [resolver.resolve(n) for n in roles.lead],
                "support": [resolver.resolve(n) for n in roles.support],
                "executors": [resolver.resolve(n) for n in roles.executors],
                "task": unit.text,
                **_deadline(find_deadline(unit.text)),
                **_provenance(unit.lines[0], unit.lines[-1], lines),
            }
        )
    return out


def _table_assignments(
    rows: list[TableRow], sections: list[Section], lines: list[TextLine], resolver, registry
) -> list[dict]:
    """One assignment per table row; its section is the one whose body holds the row."""
    owner = {i: s.id for s in sections for i in s.body}
    out = []
    for row in rows:
        agencies = {
            role: [a for piece in pieces for a in cell_agencies(piece, registry)]
            for role, pieces in (("lead", row.lead), ("support", row.support))
        }
        out.append(
            {
                "section": owner.get(row.lines[0], ""),
                "lead": [resolver.resolve(n) for n in agencies["lead"]],
                "support": [resolver.resolve(n) for n in agencies["support"]],
                "executors": [],
                "task": row.task,
                **_deadline(row.deadline),
                **_provenance(row.lines[0], row.lines[-1], lines),
            }
        )
    return out


def _deadline(text: str | None) -> dict:
    return {"deadline": text, "due": parse_deadline(text)}


def _provenance(first: int, last: int, lines: list[TextLine]) -> dict:
    return {
        "line_start": lines[first].prov.line,
        "line_end": lines[last].prov.line,
        "page": lines[first].prov.page,
    }


def _section_json(
    section: Section, texts: list[str], lines: list[TextLine], subjects: dict
) -> dict:
    own = _own_lines(section, texts, subjects)
    body = " ".join(_paragraph_text(g, texts, section) for g in paragraphs(texts, own))
    return {
        "id": section.id,
        "number": section.number,
        "level": section.level,
        "title": section.title,
        "label_repaired_from": section.printed or None,
        "text": clean_spaces(body),
        "parent": section.parent.id if section.parent else None,
        "agencies": subjects.get(section.id, []),
        **_provenance(section.heading_start, max(section.end, section.heading_end), lines),
    }
