"""Deadlines as printed -> {text, start, end, recurrence, by}: dates a tracker can sort on.

'Quý II/2026' -> 2026-04-01..2026-06-30; 'trước ngày 30/6/2026' -> end 2026-06-30;
'xong trong tháng 5/2026' -> 2026-05-01..2026-05-31; 'trong năm 2026' -> the year; '2024 - 2030' ->
2024-01-01..2030-12-31; 'Quý III, IV/2026, 2027' -> 2026-07-01..2027-12-31; 'Hằng năm' -> recurrence
yearly; 'trước ngày 20 hằng tháng' -> monthly, by day 20; 'Thường xuyên' -> ongoing. Anything not
understood keeps its text with null dates: the text is never altered.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

from vanban.segment.lexicon import fold
from vanban.segment.sections import roman_value

_QUARTER_RE = re.compile(
    r"\bquy\s+((?:[ivx]{1,3}\s*(?:,|va|-)\s*)*[ivx]{1,3})\s*(?:/|nam)\s*(\d{4})"
)
_DATE_RE = re.compile(r"\b(\d{1,2})\s*/\s*(\d{1,2})\s*/\s*(\d{4})")
_MONTH_RE = re.compile(r"\bthang\s+(\d{1,2})\s*(?:/|nam)\s*(\d{4})")
_SPAN_RE = re.compile(r"\b((?:19|20)\d{2})\s*[-–]\s*((?:19|20)\d{2})\b")
_YEAR_RE = re.compile(r"\b((?:19|20)\d{2})\b")
_RECURRING = (  # folded words -> recurrence
    ("hang nam", "yearly"),
    ("hang quy", "quarterly"),
    ("hang thang", "monthly"),
    ("hang tuan", "weekly"),
    ("dinh ky", "periodic"),
    ("thuong xuyen", "ongoing"),
    ("lien tuc", "ongoing"),
)
_DAY_OF_MONTH_RE = re.compile(r"ngay\s+(\d{1,2})\s+hang\s+thang")
_DAY_OF_YEAR_RE = re.compile(r"ngay\s+(\d{1,2})\s*/\s*(\d{1,2})(?!\s*/\s*\d)")


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _years_after(key: str, start: int) -> list[int]:
    return [int(y) for y in _YEAR_RE.findall(key[start:])]


def _span(key: str) -> tuple[date | None, date | None]:
    """(start, end) of the first time expression in the folded text."""
    before = bool(re.search(r"\b(truoc|cham nhat|han choi)\b", key))
    m = _DATE_RE.search(key)
    if m:
        day = _safe_date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        return (None, day) if before or "ngay" in key[: m.start()] else (day, day)
    m = _QUARTER_RE.search(key)
    if m:
        quarters = [roman_value(q.upper()) for q in re.findall(r"[ivx]{1,3}", m.group(1))]
        quarters = [q for q in quarters if q and 1 <= q <= 4]
        years = [int(m.group(2)), *_years_after(key, m.end())]
        if quarters:
            start = date(years[0], 3 * min(quarters) - 2, 1)
            last_quarter = max(quarters) if len(years) == 1 else 4
            return (None if before else start), _month_end(years[-1], 3 * last_quarter)
    m = _MONTH_RE.search(key)
    if m and 1 <= int(m.group(1)) <= 12:
        year, month = int(m.group(2)), int(m.group(1))
        return (None if before else date(year, month, 1)), _month_end(year, month)
    m = _SPAN_RE.search(key)
    if m:
        return date(int(m.group(1)), 1, 1), date(int(m.group(2)), 12, 31)
    m = _YEAR_RE.search(key)
    if m:
        year = int(m.group(1))
        if before and re.search(r"truoc\s+nam", key):
            return None, date(year - 1, 12, 31)
        return (None if before else date(year, 1, 1)), date(year, 12, 31)
    return None, None


def parse_deadline(text: str | None) -> dict | None:
    """The structured form of a printed deadline; None for no deadline."""
    if not text:
        return None
    key = fold(text)
    start, end = _span(key)
    recurrence = next((r for words, r in _RECURRING if words in key), None)
    by = None
    m = _DAY_OF_MONTH_RE.search(key)
    if m:
        recurrence, by = "monthly", m.group(1)
    else:
        if recurrence == "periodic" and "nam" in key:
            recurrence = "yearly"
        m = _DAY_OF_YEAR_RE.search(key)
        if m and 1 <= int(m.group(2)) <= 12:  # 'trước ngày 10/12': a day of every year
            by = f"{int(m.group(2)):02d}-{int(m.group(1)):02d}"
    return {
        "text": text,
        "start": _iso(start),
        "end": _iso(end),
        "recurrence": recurrence,
        "by": by,
    }
