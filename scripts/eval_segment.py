"""Score segment/ against the hand-checked structures in ../shared/dev and time it.

Usage: .venv/bin/python scripts/eval_segment.py [--restorer [--save-restored F] | --restored F]
       [--repeat N] [--diff]

Inputs (fixed): 002 = the seed file itself (markdown); 000-gold = 000.gold.part1.txt + part2.txt
(line-aligned with seed 000); 000-raw = the raw OCR seed; the two real documents of ../shared/dev
with references (laocai-kh-khoangsan-draft, bnnmt-qd2200-kh: clean text); with --restorer also 000
through restore.load_restorer(). Scores: section F1 on (path, level); assignment F1 on
(section, role, agency) triples counted as multisets (a task found twice or split in two costs
precision); document fields right out of 7.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import unicodedata
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vanban.segment import segment_document, segment_text  # noqa: E402
from vanban.segment.lexicon import clear_caches  # noqa: E402

from vanban.core.records import Provenance, TextLine  # noqa: E402
from vanban.core.text import strip_marks  # noqa: E402

SHARED = ROOT.parent / "shared"
DEV = SHARED / "dev"
SEEDS = SHARED / "seeds"
FIELDS = ("issuer", "doc_type", "number", "date", "place", "title", "signer")
ROLES = ("lead", "support", "executors")
DEV_DOCS = ("laocai-kh-khoangsan-draft", "bnnmt-qd2200-kh")  # real documents, clean text
LINES_PER_PAGE = 50  # text inputs carry no pages; speed is quoted per 50-line page


def label_key(label: str) -> str:
    """Compare labels ignoring case, spaces and marks, but keep đ distinct from d."""
    text = unicodedata.normalize("NFC", label).lower().replace("đ", "dd")
    return re.sub(r"\s+", "", strip_marks(text))


def path_key(path: str) -> str:
    return ".".join(label_key(p) for p in path.split("."))


def agency_key(name: str) -> str:
    text = unicodedata.normalize("NFC", name).lower()
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", text)).strip()


def reference_paths(sections: list[dict]) -> list[tuple[str, int]]:
    """Paths of the reference sections from their (number, level) sequence."""
    stack: list[tuple[str, str]] = []  # (number, path)
    out = []
    for s in sections:
        del stack[s["level"] - 1 :]
        number = s["number"]
        if stack:
            parent_number, parent_path = stack[-1]
            if number.startswith(parent_number + "."):
                path = parent_path + number[len(parent_number) :]
            else:
                path = f"{parent_path}.{number}"
        else:
            path = number
        stack.append((number, path))
        out.append((path, s["level"]))
    return out


def f1(gold: Counter, found: Counter) -> tuple[float, float, float]:
    hit = sum((gold & found).values())
    p = hit / max(1, sum(found.values()))
    r = hit / max(1, sum(gold.values()))
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def section_counter(pairs) -> Counter:
    return Counter((path_key(p), level) for p, level in pairs)


def triples(assignments: list[dict], *, predicted: bool, marks: bool = True) -> Counter:
    out: Counter = Counter()
    for a in assignments:
        for role in ROLES:
            for agency in a[role]:
                name = agency_key(agency["name"] if predicted else agency)
                out[(path_key(a["section"]), role, name if marks else strip_marks(name))] += 1
    return out


def field_value(value) -> str:
    text = unicodedata.normalize("NFC", str(value or "")).lower()
    return re.sub(r"\s+", " ", re.sub(r"[\"“”'.,:;]", " ", text)).strip()


def score(result: dict, gold: dict) -> dict:
    sec = f1(
        section_counter(reference_paths(gold["sections"])),
        section_counter((s["id"], s["level"]) for s in result["sections"]),
    )
    asg = f1(
        triples(gold["assignments"], predicted=False),
        triples(result["assignments"], predicted=True),
    )
    bare = f1(
        triples(gold["assignments"], predicted=False, marks=False),
        triples(result["assignments"], predicted=True, marks=False),
    )
    deadlines = deadline_agreement(result["assignments"], gold["assignments"])
    wrong = [
        f
        for f in FIELDS
        if field_value(result["document"].get(f)) != field_value(gold["document"].get(f))
    ]
    return {
        "sections": sec,
        "assignments": asg,
        "bare": bare,
        "fields": len(FIELDS) - len(wrong),
        "wrong": wrong,
        "deadlines": deadlines,
    }


def deadline_agreement(found: list[dict], gold: list[dict]) -> tuple[int, int]:
    """(right, total) over reference tasks with a deadline: a found task in the same section
    sharing an agency has the same deadline phrase (case, marks and spacing ignored)."""
    right = total = 0
    for g in gold:
        if not g.get("deadline"):
            continue
        total += 1
        names = {agency_key(n) for role in ROLES for n in g[role]}
        for a in found:
            same_section = path_key(a["section"]) == path_key(g["section"])
            shared = names & {agency_key(x["name"]) for role in ROLES for x in a[role]}
            if same_section and shared and a.get("deadline"):
                if label_key(a["deadline"]) == label_key(g["deadline"]):
                    right += 1
                    break
    return right, total


def diff(result: dict, gold: dict) -> None:
    """Print what differs (for development)."""
    g = triples(gold["assignments"], predicted=False)
    p = triples(result["assignments"], predicted=True)
    for t in sorted((g - p).elements()):
        print("  missed ", t)
    for t in sorted((p - g).elements()):
        print("  extra  ", t)
    gs = section_counter(reference_paths(gold["sections"]))
    ps = section_counter((s["id"], s["level"]) for s in result["sections"])
    for t in sorted((gs - ps).elements()):
        print("  missed section", t)
    for t in sorted((ps - gs).elements()):
        print("  extra section", t)


_ROMAN_LABEL = re.compile(r"^(\W*)([IVX]{1,4})\.(\s)")
_DD_LABEL = re.compile(r"^(\W*)đ\)")


def damage_labels(text: str) -> str:
    """The label damage eng OCR does to headings, applied deterministically: Roman I printed as 1
    or l ('111.', 'Il.') with the capitals of the title lost ('111. Tổ chức thực hiện'), 'đ)' as
    'd)'."""
    out = []
    romans = 0
    for line in text.split("\n"):
        m = _ROMAN_LABEL.match(line)
        if m:
            romans += 1
            label = m.group(2).replace("I", "1" if romans % 2 else "l")
            title = line[m.end(2) + 1 :].strip()
            line = f"{m.group(1)}{label}. {title[:1]}{title[1:].lower()}"
        out.append(_DD_LABEL.sub(r"\1d)", line))
    return "\n".join(out)


def restored_lines(raw_lines: list[str], source: str) -> list[TextLine]:
    from vanban.restore import load_restorer

    restored = load_restorer().restore_lines(raw_lines)
    return [TextLine(r.text, Provenance(source=source, line=k + 1)) for k, r in enumerate(restored)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--restorer",
        action="store_true",
        help="also score seed 000 through restore.load_restorer()",
    )
    ap.add_argument(
        "--save-restored", type=Path, help="with --restorer: write the restored seed 000 here"
    )
    ap.add_argument(
        "--restored", type=Path, help="score this restored seed 000 (one line per seed line)"
    )
    ap.add_argument(
        "--damage",
        action="store_true",
        help="also score the clean inputs with OCR label damage (111. Il. d) for III. II. đ))",
    )
    ap.add_argument("--repeat", type=int, default=20, help="runs per input for the speed figure")
    ap.add_argument("--diff", action="store_true", help="print missed/extra triples and sections")
    args = ap.parse_args()
    if not DEV.exists():
        print(f"{DEV}: not found (the shared data sits beside the checkout)", file=sys.stderr)
        return 2
    seed000 = next(SEEDS.glob("000_*.txt"))
    seed002 = next(SEEDS.glob("002_*.txt"))
    gold000 = json.loads((DEV / "000.structure.json").read_text(encoding="utf-8"))
    gold002 = json.loads((DEV / "002.structure.json").read_text(encoding="utf-8"))
    gold_text = (DEV / "000.gold.part1.txt").read_text(encoding="utf-8").rstrip("\n") + "\n"
    gold_text += (DEV / "000.gold.part2.txt").read_text(encoding="utf-8")
    inputs = [
        ("002 (seed, markdown)", seed002.read_text(encoding="utf-8"), gold002),
        ("000 gold restored text", gold_text, gold000),
        ("000 raw OCR seed", seed000.read_text(encoding="utf-8"), gold000),
    ]
    for name in DEV_DOCS:
        text = (DEV / f"{name}.txt").read_text(encoding="utf-8")
        gold = json.loads((DEV / f"{name}.structure.json").read_text(encoding="utf-8"))
        inputs.append((f"{name} (clean text)", text, gold))
    if args.damage:
        inputs += [
            (f"{name}, labels damaged", damage_labels(text), gold)
            for name, text, gold in inputs
            if "raw OCR" not in name
        ]
    rows = []
    for name, text, gold in inputs:
        result = segment_text(text, source=name)
        rows.append((name, score(result, gold)))
        if args.diff:
            print(name)
            diff(result, gold)
    if args.restorer or args.restored:
        raw = seed000.read_text(encoding="utf-8").split("\n")
        t0 = time.perf_counter()
        try:
            if args.restored:
                texts = args.restored.read_text(encoding="utf-8").split("\n")
                lines = [
                    TextLine(t, Provenance(source=str(seed000), line=k + 1))
                    for k, t in enumerate(texts)
                ]
            else:
                lines = restored_lines(raw, str(seed000))
        except (FileNotFoundError, OSError) as err:
            print(f"--restorer: {err}", file=sys.stderr)
            return 2
        restore_seconds = time.perf_counter() - t0
        if args.save_restored:
            args.save_restored.write_text("\n".join(x.text for x in lines), encoding="utf-8")
        result = segment_document(lines, source=str(seed000))
        how = f"read from {args.restored.name}" if args.restored else f"{restore_seconds:.0f}s"
        rows.append((f"000 via restorer ({how})", score(result, gold000)))
        if args.diff:
            print("000 via restorer")
            diff(result, gold000)

    print(
        "| input | sections P/R/F1 | assignments P/R/F1 | assignments F1, marks ignored "
        "| document fields | wrong fields | deadlines right |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, s in rows:
        sec = "/".join(f"{x:.3f}" for x in s["sections"])
        asg = "/".join(f"{x:.3f}" for x in s["assignments"])
        wrong = ", ".join(s["wrong"]) or "-"
        right, total = s["deadlines"]
        print(
            f"| {name} | {sec} | {asg} | {s['bare'][2]:.3f} | {s['fields']}/7 | {wrong} "
            f"| {right}/{total} |"
        )

    total_lines = sum(len(text.split("\n")) for _, text, _ in inputs)
    wall = cpu = 0.0
    for _ in range(args.repeat):
        for name, text, _ in inputs:
            clear_caches()  # cold runs: no tokens or folds kept from the previous run
            t0, c0 = time.perf_counter(), time.process_time()
            segment_text(text, source=name)
            wall += time.perf_counter() - t0
            cpu += time.process_time() - c0
    pages = total_lines * args.repeat / LINES_PER_PAGE
    print(
        f"\nspeed: {pages / cpu:,.0f} pages/s of CPU time, {pages / wall:,.0f} pages/s wall clock "
        f"({LINES_PER_PAGE}-line pages; {args.repeat} cold runs over {total_lines} lines, "
        "one process; "
        f"load average {os.getloadavg()[0]:.1f})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
