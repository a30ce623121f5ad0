"""Assignment tables (usually in an appendix): rows of task | lead | support | time.

Two printed forms reach us: flattened rows (`1 | task | lead | support | time`) and tables an
extraction tool broke one cell per line (a row label on its own line, then one line per cell).
Columns are recognized by their header words, which vary between documents ("Cơ quan chủ trì",
"Sở, ngành chủ trì tham mưu", "Đơn vị phối hợp thực hiện", "Thời gian thực hiện/ hoàn thành").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from vanban.segment.agencies import AgencyParser, Registry
from vanban.segment.lexicon import clean_spaces, fold, tokenize

_ROLE_WORDS = (  # (role, folded header words), first match wins
    ("support", ("phoi hop",)),
    ("lead", ("chu tri",)),
    ("deadline", ("thoi gian", "thoi han", "tien do", "hoan thanh")),
    ("task", ("noi dung", "nhiem vu", "hoat dong", "cong viec", "ten ")),
    ("number", ("tt", "stt", "so tt")),
)
_ROW_LABEL_RE = re.compile(r"^\s*(\d{1,3}(?:\.\d{1,2})?|[IVX]{1,4}|[a-zđ])\s*[.)]?\s*$")
_INDEX_ROW_RE = re.compile(r"^[\s|()\d]*$")  # ' | (1) | (2) | (3)'
MAX_HEADER_LINES = 3


@dataclass
class TableRow:
    """One row that gives a task: the printed cells by role, and the lines it spans."""

    label: str
    task: str
    lead: list[str] = field(default_factory=list)
    support: list[str] = field(default_factory=list)
    deadline: str | None = None
    lines: list[int] = field(default_factory=list)  # line indexes, the first one carries the label

    @property
    def raw(self) -> str:
        return " | ".join(x for x in (self.label, self.task) if x)


def column_role(header: str) -> str | None:
    key = fold(header).strip() + " "
    for role, words in _ROLE_WORDS:
        if any(w in key for w in words) and not (role == "number" and len(key.split()) > 2):
            return role
    return None


def header_roles(cells: list[str]) -> list[str | None] | None:
    """Roles of the header cells; None unless the header names a lead column."""
    roles = [column_role(c) for c in cells]
    return roles if "lead" in roles else None


def split_cell(cell: str) -> list[str]:
    """Cell text -> agency pieces split on ';' (commas are left to the agency parser)."""
    return [clean_spaces(p).strip(" .,") for p in cell.split(";") if clean_spaces(p).strip(" .,")]


def find_tables(lines: list[str]) -> list[TableRow]:
    """Every assignment-table row of the document, in order."""
    rows: list[TableRow] = []
    k = 0
    while k < len(lines):
        found = _table_at(lines, k)
        if found is None:
            k += 1
            continue
        table_rows, k = found
        rows.extend(table_rows)
    return rows


def _table_at(lines: list[str], k: int) -> tuple[list[TableRow], int] | None:
    text = lines[k]
    if "|" not in text and (len(text) > 40 or column_role(text) not in {"number", "task"}):
        return None
    cells, end = _header_cells(lines, k)
    roles = header_roles(cells)
    if roles is None:
        return None
    if "|" in text and any("|" in lines[j] for j in range(end, min(end + 3, len(lines)))):
        return _flattened_rows(lines, end, roles)
    return _cell_per_line_rows(lines, end, roles)


def _header_cells(lines: list[str], k: int) -> tuple[list[str], int]:
    """Header cells from line k on: split on '|', and header words on the next lines."""
    cells = [c.strip() for c in lines[k].split("|")]
    end = k + 1
    while end < len(lines) and end - k < MAX_HEADER_LINES:
        nxt = lines[end].strip()
        if not nxt or "|" in nxt or _ROW_LABEL_RE.match(nxt) or column_role(nxt) is None:
            break
        if len(nxt.split()) > 6:
            break
        cells.append(nxt)
        end += 1
    return [c for c in cells if c], end


def _flattened_rows(lines: list[str], start: int, roles: list) -> tuple[list[TableRow], int]:
    rows: list[TableRow] = []
    k = start
    while k < len(lines) and "|" in lines[k]:
        if not _INDEX_ROW_RE.match(lines[k]):
            cells = [c.strip() for c in lines[k].split("|")]
            row = _row(cells, roles, [k])
            if row is not None:
                rows.append(row)
        k += 1
    return rows, k


def _cell_per_line_rows(lines: list[str], start: int, roles: list) -> tuple[list[TableRow], int]:
    """A row label alone on its line, then one line per cell (extra lines continue the cells
    in column order: a row the page broke prints the rest of each cell below)."""
    rows: list[TableRow] = []
    k = start
    while k < len(lines):
        label = lines[k].strip()
        if not _ROW_LABEL_RE.match(label):
            break
        j = k + 1
        while j < len(lines) and lines[j].strip() and not _ROW_LABEL_RE.match(lines[j].strip()):
            j += 1
        body = [lines[i].strip() for i in range(k + 1, j)]
        width = len(roles) - 1
        if len(body) > 2 * width:  # text after the table: end it at this row's cells
            j = k + 1 + width
            body = body[:width]
        cells = body[:width]
        for n, extra in enumerate(body[width:]):
            if n < len(cells):
                cells[n] = f"{cells[n]} {extra}"
        row = _row([label, *cells], roles, list(range(k, j)))
        if row is not None:
            rows.append(row)
        k = j
    return rows, k


def _row(cells: list[str], roles: list, line_indexes: list[int]) -> TableRow | None:
    by_role: dict[str, str] = {}
    for role, cell in zip(roles, cells, strict=False):
        if role and cell and role not in by_role:
            by_role[role] = cell
    lead = split_cell(by_role.get("lead", ""))
    if not lead:
        return None  # a group row ('1 | Tổ chức tuyên truyền') or a row without a lead
    return TableRow(
        label=cells[0].strip(),
        task=by_role.get("task", ""),
        lead=lead,
        support=split_cell(by_role.get("support", "")),
        deadline=clean_spaces(by_role["deadline"]) if by_role.get("deadline") else None,
        lines=line_indexes,
    )


def cell_agencies(cell_piece: str, registry: Registry) -> list[str]:
    """Agencies of one ';'-piece of a cell: split at a comma that opens another agency ('Cục A,
    Sở B') and at 'và các' ('Vụ A và các đơn vị liên quan'); 'Sở Văn hóa, Thể thao và Du lịch',
    'Cục A và Cục B', 'các Sở, ban, ngành' stay whole (one name or one collective)."""
    tokens = tokenize(cell_piece)
    parser = AgencyParser(tokens, registry)
    cuts = [0]
    for k, token in enumerate(tokens[:-1]):
        nxt = k + 1
        if token.text == "," and (parser.head_at(nxt) is not None or tokens[nxt].fold == "cac"):
            cuts.append(nxt)
        elif token.fold == "va" and (
            tokens[nxt].fold == "cac"
            or (tokens[cuts[-1]].fold == "cac" and parser.head_at(nxt) is not None)
        ):
            cuts.append(nxt)  # 'Vụ A và các đơn vị', 'các Sở, ngành và UBND các xã
    pieces = []
    for a, b in zip(cuts, [*cuts[1:], len(tokens)], strict=True):
        end = b - 1 if b - 1 > a and tokens[b - 1].fold in {",", "va"} else b
        if end > a:
            pieces.append(clean_spaces(cell_piece[tokens[a].start : tokens[end - 1].end]))
    return pieces
