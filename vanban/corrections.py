"""A reviewer's corrections: an append-only sidecar of an output directory, applied when read.

`OUTDIR/vanban-corrections.jsonl` holds one JSON object per decision (who, when, before, after);
outputs are never rewritten. Readers (`vanban index`, `vanban export`, `vanban serve`) apply the
records of a document in file order to its tree. A record whose `before` no longer matches (the
document was processed again since) is stale and skipped.

Kinds: `word` (accept or correct one word of a restored line: `line`, `start`, `end`, `token`),
`line` (replace a restored line) and `assignment` (replace fields of the `assignment`-th task).
A changed line also changes the section title/text and assignment task holding it when the old
line (or the old word, when it occurs once there) is found in them.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

import regex

from vanban.core.errors import VanbanError

CORRECTIONS_NAME = "vanban-corrections.jsonl"
KINDS = ("word", "line", "assignment")
ACTIONS = ("accept", "correct")
ASSIGNMENT_FIELDS = ("task", "deadline", "lead", "support", "executors")
REVIEWED_CONFIDENCE = 1.0  # a word a reviewer accepted or typed is no longer doubtful
_APPEND_LOCK = threading.Lock()


def corrections_path(outdir: Path) -> Path:
    return Path(outdir) / CORRECTIONS_NAME


def make_record(
    *, who: str, document: str, kind: str, action: str, before: object, after: object, **where
) -> dict:
    """A correction record stamped with the time (UTC, seconds); `where` locates it."""
    if kind not in KINDS or action not in ACTIONS:
        raise VanbanError(document, f"unknown correction {kind}/{action}")
    at = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return {
        "at": at,
        "who": who,
        "document": document,
        "kind": kind,
        "action": action,
        **where,
        "before": before,
        "after": after,
    }


def append_correction(outdir: Path, record: dict) -> None:
    """Append one record (one write of one line, fsynced) to the sidecar of OUTDIR."""
    line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
    path = corrections_path(outdir)
    with _APPEND_LOCK:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)


def corrections_stamp(outdir: Path) -> dict:
    """Size and first line of the sidecar: what an index remembers to notice new records."""
    path = corrections_path(outdir)
    try:
        with path.open("rb") as handle:
            head = handle.readline(4096).decode("utf-8", errors="replace")
            size = os.fstat(handle.fileno()).st_size
    except OSError:
        return {"size": 0, "head": ""}
    return {"size": size, "head": head}


def read_corrections(outdir: Path) -> dict[str, list[dict]]:
    """Records of the sidecar by document (JSON path relative to OUTDIR), in file order."""
    path = corrections_path(outdir)
    try:
        stat = path.stat()
    except OSError:
        return {}
    return _read_cached(str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _read_cached(path: str, size: int, mtime_ns: int) -> dict[str, list[dict]]:
    by_document: dict[str, list[dict]] = {}
    for record in _records(Path(path)):
        by_document.setdefault(record["document"], []).append(record)
    return by_document


def records_after(outdir: Path, offset: int) -> list[dict]:
    """Records that start at or after byte `offset` of the sidecar."""
    return list(_records(corrections_path(outdir), offset))


def _records(path: Path, offset: int = 0):
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            data = handle.read()
    except OSError:
        return
    for raw in data.split(b"\n"):
        try:
            record = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            continue  # a line torn by a kill, or blank
        if (
            isinstance(record, dict)
            and isinstance(record.get("document"), str)
            and record.get("kind") in KINDS
        ):
            yield record


def corrected_tree(outdir: Path, rel: str, tree: dict) -> dict:
    """`tree` with the corrections of document `rel` applied (the same object when none)."""
    records = read_corrections(outdir).get(rel)
    return apply_corrections(tree, records)[0] if records else tree


def apply_corrections(tree: dict, records: list[dict] | None) -> tuple[dict, list[dict]]:
    """A corrected copy of `tree` and the records that applied (stale ones are left out)."""
    if not records:
        return tree, []
    tree = copy.deepcopy(tree)
    applied = []
    for record in records:
        try:
            done = _APPLY[record["kind"]](tree, record)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError):
            done = False  # a hand-edited or foreign record: skipped like a stale one
        if done:
            applied.append(record)
    return tree, applied


# ---------------------------------------------------------------- applying one record


def _line_item(tree: dict, number: int) -> dict | None:
    lines = tree.get("lines") or []
    if 0 < number <= len(lines) and isinstance(lines[number - 1], dict):
        if lines[number - 1].get("line") == number:
            return lines[number - 1]
    return next((x for x in lines if isinstance(x, dict) and x.get("line") == number), None)


def _word_spans(text: str, word: str) -> list[tuple[int, int]]:
    if not word:
        return []
    pattern = rf"(?<![\p{{L}}\p{{M}}\p{{N}}]){regex.escape(word)}(?![\p{{L}}\p{{M}}\p{{N}}])"
    return [m.span() for m in regex.finditer(pattern, text)]


def _apply_word(tree: dict, record: dict) -> bool:
    item = _line_item(tree, int(record["line"]))
    before, after = str(record["before"]), str(record["after"])
    if item is None or not before:
        return False
    text = str(item.get("text") or "")
    start, end = int(record.get("start", -1)), int(record.get("end", -1))
    if text[start:end] != before or start < 0:
        spans = _word_spans(text, before)
        if len(spans) != 1:
            return False
        start, end = spans[0]
    _mark_token(item, record, before, after)
    if after != before:
        new = text[:start] + after + text[end:]
        item["text"] = new
        _propagate(tree, int(record["line"]), text, new, before, after)
    return True


def _mark_token(item: dict, record: dict, before: str, after: str) -> None:
    tokens = [t for t in item.get("tokens") or [] if isinstance(t, dict)]
    index = record.get("token")
    chosen = None
    if isinstance(index, int) and 0 <= index < len(tokens) and tokens[index].get("text") == before:
        chosen = tokens[index]
    else:
        chosen = next((t for t in tokens if t.get("text") == before), None)
    if chosen is not None:
        chosen["text"] = after
        chosen["confidence"] = REVIEWED_CONFIDENCE


def _apply_line(tree: dict, record: dict) -> bool:
    item = _line_item(tree, int(record["line"]))
    before, after = str(record["before"]), str(record["after"])
    if item is None or str(item.get("text") or "") != before:
        return False
    item["text"] = after
    item["tokens"] = [
        {**t, "confidence": REVIEWED_CONFIDENCE}
        for t in item.get("tokens") or []
        if isinstance(t, dict) and _word_spans(after, str(t.get("text") or ""))
    ]
    if after != before:
        _propagate(tree, int(record["line"]), before, after, None, None)
    return True


def _propagate(
    tree: dict, line: int, old: str, new: str, old_word: str | None, new_word: str | None
) -> None:
    """Carry a line change into the section and assignment texts made from that line."""
    for section in tree.get("sections") or []:
        if _covers(section, line):
            for key in ("title", "text"):
                _replace_in(section, key, old, new, old_word, new_word)
    for assignment in tree.get("assignments") or []:
        if _covers(assignment, line):
            _replace_in(assignment, "task", old, new, old_word, new_word)


def _covers(item: object, line: int) -> bool:
    if not isinstance(item, dict) or not isinstance(item.get("line_start"), int):
        return False
    return item["line_start"] <= line <= (item.get("line_end") or item["line_start"])


def _replace_in(item: dict, key: str, old: str, new: str, old_word, new_word) -> None:
    value = item.get(key)
    if not isinstance(value, str) or not value:
        return
    old, new = old.strip(), new.strip()
    if old and value.count(old) == 1:
        item[key] = value.replace(old, new)
    elif old_word and new_word is not None:
        spans = _word_spans(value, old_word)
        if len(spans) == 1:
            start, end = spans[0]
            item[key] = value[:start] + new_word + value[end:]


def _apply_assignment(tree: dict, record: dict) -> bool:
    assignments = tree.get("assignments") or []
    before, after = record["before"], record["after"]
    if not isinstance(before, dict) or not isinstance(after, dict):
        return False
    index = int(record["assignment"]) - 1
    candidates = [index] + [k for k in range(len(assignments)) if k != index]
    for k in candidates:
        if 0 <= k < len(assignments) and _same_fields(assignments[k], before):
            assignments[k].update({f: after[f] for f in ASSIGNMENT_FIELDS if f in after})
            return True
    return False


def _same_fields(assignment: object, before: dict) -> bool:
    return isinstance(assignment, dict) and all(
        assignment.get(f) == before[f] for f in ASSIGNMENT_FIELDS if f in before
    )


_APPLY = {"word": _apply_word, "line": _apply_line, "assignment": _apply_assignment}
