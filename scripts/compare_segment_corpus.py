"""What a segmenter change does to clean documents it was never tuned on: segment many corpus
documents, save sections and assignments, and compare with a saved run of other code.

A rule is kept when it changes few clean documents, and those for the right reason: run this once
before a change (`--out before.jsonl`), once after (`--out after.jsonl --against before.jsonl`),
then read the documents it lists.

    .venv/bin/python scripts/compare_segment_corpus.py --out before.jsonl
    .venv/bin/python scripts/compare_segment_corpus.py --out after.jsonl --against before.jsonl

Documents: blank-line separated in the corpus files (default: the admin and legal sources of
../shared/corpus), those with at least 3 numbered headings in their first --max-lines lines,
--docs of them sampled with --seed (the same documents in every run with the same arguments).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
from eval_segment import path_key, triples  # noqa: E402
from vanban.corpus.clean import iter_documents  # noqa: E402
from vanban.segment import segment_document  # noqa: E402
from vanban.segment.sections import find_candidate  # noqa: E402

from vanban.core.records import Provenance, TextLine  # noqa: E402

SHARED = ROOT.parent / "shared"
DEFAULT_CORPORA = ("vn-admin-congbao.txt.gz", "vn-legal-phapdien.txt.gz")


def has_numbered_structure(paragraphs: list[str], headings: int = 3) -> bool:
    """At least `headings` lines that open a numbered section (Chương / Điều / I. / 1.)."""
    found = (find_candidate(k, x.strip()) is not None for k, x in enumerate(paragraphs))
    return sum(found) >= headings


def sample(paths: list[Path], n: int, seed: int, max_lines: int) -> list[tuple[str, list[str]]]:
    numbered = []
    for path in paths:
        for index, paragraphs in enumerate(iter_documents(path)):
            head = paragraphs[:max_lines]
            if has_numbered_structure(head):
                numbered.append((f"{path.name}#{index}", head))
    rng = random.Random(seed)
    return sorted(rng.sample(numbered, min(n, len(numbered))))


def structure(name: str, paragraphs: list[str]) -> dict:
    lines = [TextLine(t, Provenance(source=name, line=k + 1)) for k, t in enumerate(paragraphs)]
    result = segment_document(lines, source=name)
    return {
        "name": name,
        "sections": sorted(
            f"{path_key(s['id'].split('#')[0])}|{s['level']}" for s in result["sections"]
        ),
        "assignments": sorted(
            "|".join(key) for key in triples(result["assignments"], predicted=True).elements()
        ),
    }


def compare(before: dict[str, dict], after: list[dict]) -> None:
    changed = {"sections": 0, "assignments": 0}
    totals = {"sections": [0, 0], "assignments": [0, 0]}
    for row in after:
        old = before.get(row["name"])
        if old is None:
            continue
        for key in changed:
            totals[key][0] += len(old[key])
            totals[key][1] += len(row[key])
            lost = Counter(old[key]) - Counter(row[key])
            gained = Counter(row[key]) - Counter(old[key])
            if lost or gained:
                changed[key] += 1
                print(f"{row['name']} {key}: -{sum(lost.values())} +{sum(gained.values())}")
                for item in sorted(lost.elements())[:6]:
                    print(f"    - {item}")
                for item in sorted(gained.elements())[:6]:
                    print(f"    + {item}")
    compared = sum(1 for row in after if row["name"] in before)
    for key, (old, new) in totals.items():
        print(f"{key}: {changed[key]} of {compared} documents changed; {old} before, {new} after")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, nargs="*", help="corpus files (.txt.gz)")
    ap.add_argument("--docs", type=int, default=870)
    ap.add_argument("--max-lines", type=int, default=300, help="paragraphs kept per document")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True, help="this run's structures (JSON lines)")
    ap.add_argument("--against", type=Path, help="an earlier run's --out to compare with")
    args = ap.parse_args()
    paths = args.corpus or [SHARED / "corpus" / name for name in DEFAULT_CORPORA]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        sys.exit(f"corpus file not found: {', '.join(missing)}")
    rows = [structure(name, paras) for name, paras in sample(paths, args.docs, args.seed,
                                                              args.max_lines)]  # fmt: skip
    with args.out.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} documents segmented -> {args.out}")
    if args.against:
        with args.against.open(encoding="utf-8") as fh:
            before = {row["name"]: row for row in map(json.loads, fh)}
        compare(before, rows)


if __name__ == "__main__":
    main()
