"""Page pieces as plain data (text runs with a CSS class) that the templates escape and print."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from urllib.parse import urlencode

import regex

from vanban.web.queue import DOUBTFUL_BELOW

MARK_START, MARK_END = "\x02", "\x03"  # what `search` wraps matches in; never in a document
_MARKDOWN = [
    (regex.compile(r"(?:(?<=^)|(?<=\s))#{1,6}\s+"), ""),  # headings
    (regex.compile(r"\*\*|__|`+"), ""),  # bold, code
    (regex.compile(r"(?:(?<=^)|(?<=\s))[*_](?=\S)|(?<=\S)[*_](?=\s|$)"), ""),  # emphasis
    (regex.compile(r"\s*\|\s*(?:-{3,}\s*\|\s*)*"), " "),  # table pipes and rules
    (regex.compile(r"(?:(?<=^)|(?<=\s))(?:>|[-+*]\s|\d+\\\.)\s*"), ""),  # quotes, bullets
]


@dataclass(frozen=True)
class Run:
    """A piece of text and how to show it: css '' (plain), 'hit', 'changed', 'doubtful', ..."""

    text: str
    css: str = ""
    title: str = ""


def strip_markdown(text: str) -> str:
    """The source's markdown marks out of a snippet: headings, emphasis, table pipes, bullets."""
    for pattern, replacement in _MARKDOWN:
        text = pattern.sub(replacement, text)
    return " ".join(text.split())


def snippet_runs(snippet: str) -> list[Run]:
    """A snippet marked with MARK_START/MARK_END as runs, matches as 'hit', markdown removed."""
    runs = []
    for k, piece in enumerate(regex.split(f"[{MARK_START}{MARK_END}]", snippet)):
        if k % 2:
            clean = piece.replace("*", "").strip()
        else:
            clean = strip_markdown(piece)
            lead = " " if piece[:1].isspace() and runs else ""
            trail = " " if piece[-1:].isspace() else ""
            clean = f"{lead}{clean}{trail}" if clean else (lead or trail)
        if clean:
            runs.append(Run(clean, "hit" if k % 2 else ""))
    return runs


def _word_at(text: str, word: str, start: int) -> tuple[int, int] | None:
    pattern = rf"(?<![\p{{L}}\p{{M}}\p{{N}}]){regex.escape(word)}(?![\p{{L}}\p{{M}}\p{{N}}])"
    match = regex.compile(pattern).search(text, start)
    return match.span() if match else None


def line_runs(text: str, tokens: list, corrected: frozenset[str] = frozenset()) -> list[Run]:
    """A restored line with the restorer's changed and doubtful words (and reviewed ones) marked.

    `tokens` are the line's JSON tokens in order; each is looked up after the previous one.
    """
    runs, cursor = [], 0
    for index, token in enumerate(tokens):
        if not isinstance(token, dict) or not token.get("text"):
            continue
        span = _word_at(text, str(token["text"]), cursor)
        if span is None:
            continue
        if span[0] > cursor:
            runs.append(Run(text[cursor : span[0]]))
        runs.append(_token_run(text[span[0] : span[1]], token, index, corrected))
        cursor = span[1]
    if cursor < len(text) or not runs:
        runs.append(Run(text[cursor:]))
    return runs


def _token_run(word: str, token: dict, index: int, corrected: frozenset[str]) -> Run:
    source = str(token.get("source") or "")
    confidence = token.get("confidence")
    classes = []
    if word in corrected:
        classes.append("corrected")
    elif isinstance(confidence, int | float) and confidence < DOUBTFUL_BELOW:
        classes.append("doubtful")
    if source != word:
        classes.append("changed")
    conf = f"{confidence:.2f}" if isinstance(confidence, int | float) else "?"
    return Run(word, " ".join(classes), f"OCR: {source} · confidence {conf} · token {index}")


def section_rows(sections: list[dict]) -> list[dict]:
    """Sections in document order with their nesting depth (from `parent` links)."""
    depth: dict[str, int] = {}
    rows = []
    for section in sections:
        parent = section.get("parent")
        level = depth.get(parent, 0) + 1 if parent else 1
        depth[str(section.get("id"))] = level
        rows.append({**section, "depth": min(level, 6)})
    return rows


def url(path: str, params: dict, **changes) -> str:
    """`path?query` from params with changes (None drops a key); empty values are left out."""
    merged = {**params, **changes}
    query = "&".join(_query_pair(k, str(v)) for k, v in merged.items() if v not in (None, ""))
    return f"{path}?{query}" if query else path


@functools.lru_cache(maxsize=1024)
def _query_pair(key: str, value: str) -> str:
    """`key=value` as urlencode writes it (a search page links ~100 URLs of the same pairs)."""
    return urlencode([(key, value)])
