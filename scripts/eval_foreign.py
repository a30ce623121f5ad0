"""Measure the foreign-text detector (`restore.rules.foreign`, issue 16): false keeps and changes.

    .venv/bin/python scripts/eval_foreign.py [--shared ../shared] [--heldout-dir DIR ...]
        [--corpus-lines 1000] [--weights] [--restore] [-v]

The detector alone (no model):
  english     tests/fixtures/foreign/english.txt (English written for this test; seen while the
              weights were chosen): words kept
  english-frozen   tests/fixtures/foreign/english_frozen.txt, written after they were frozen
  mixed       tests/fixtures/foreign/mixed.txt, Vietnamese lines quoting English ([[...]] marks the
              foreign words), marks stripped: Vietnamese words kept (false keeps), foreign kept
  seed000-part1/2, heldout-*-eng, heldout-*-vie (when built)   real and rendered OCR of
              Vietnamese (eng, and Tesseract vie): every word kept is a
              false keep (a word left unrestored)
  corpus      --corpus-lines clean lines per corpus source, marks stripped: words that needed
              marks and were kept (false keeps), and lines with one
--weights: the counts behind the detector's weights: each kind of word in English reference
  text (the licence texts in /usr/share/common-licenses) against eng OCR (seed 000 part 1, heldout
  tune), and their log-odds.
--restore: the shipped restorer with the detector off and on: English tokens changed (false
  changes), foreign tokens of the mixed lines changed, the mixed lines' Vietnamese accuracy, and
  the OCR sets above restored both ways: lines whose output differs.
"""

from __future__ import annotations

import argparse
import gzip
import math
import random
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import regex

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from vanban.restore.rules import foreign  # noqa: E402

from vanban.core.files import data_dir  # noqa: E402
from vanban.core.text import Chunk, split_chunks, strip_marks  # noqa: E402

FIXTURES = REPO / "tests/fixtures/foreign"
SEED = "seeds/000_33b23e2610885f83.txt"
PART1_LINES = 370
LICENSES = Path("/usr/share/common-licenses")
_SPAN = regex.compile(r"\[\[(.*?)\]\]")


def chunked(lines: list[str]) -> list[list[Chunk]]:
    return [split_chunks(line) if line.strip() else [] for line in lines]


def is_word(chunk: Chunk) -> bool:
    return foreign.word_evidence(chunk.core) is not None


def kept_words(lines: list[str]) -> tuple[int, int, list[str]]:
    """Words, words the detector keeps, and the kept words in context."""
    chunks = chunked(lines)
    words = kept = 0
    shown = []
    for line, flags in zip(chunks, foreign.foreign_chunks(chunks), strict=True):
        marks = [is_word(c) for c in line]
        words += sum(marks)
        hits = [c.core for c, w, f in zip(line, marks, flags, strict=True) if f and w]
        kept += len(hits)
        if hits:
            shown.append(" ".join(hits))
    return words, kept, shown


ENGLISH_SETS = ("english", "english_frozen")


def english_lines(name: str) -> list[str]:
    return (FIXTURES / f"{name}.txt").read_text(encoding="utf-8").splitlines()


def mixed_lines() -> tuple[list[str], list[str], list[set[int]]]:
    """Clean mixed lines, the same with marks stripped, and each line's foreign chunk indices."""
    clean, noisy, spans = [], [], []
    for raw in (FIXTURES / "mixed.txt").read_text(encoding="utf-8").splitlines():
        line = raw.replace("[[", "").replace("]]", "")
        cores = {c.core for span in _SPAN.findall(raw) for c in split_chunks(span)}
        positions = {k for k, c in enumerate(split_chunks(line)) if c.core and c.core in cores}
        clean.append(line)
        noisy.append(strip_marks(line))
        spans.append(positions)
    return clean, noisy, spans


def ocr_sets(shared: Path, heldout_dirs: list[Path]) -> dict[str, list[list[str]]]:
    """Name -> documents (lists of OCR lines) of Vietnamese: seed 000, and the held-out sets
    (eng and vie OCR) found in `heldout_dirs`."""
    sets: dict[str, list[list[str]]] = {}
    seed = shared / SEED
    part2 = shared / "dev/000.gold.part2.txt"
    if seed.exists() and part2.exists():
        lines = seed.read_text(encoding="utf-8").split("\n")
        n2 = len(part2.read_text(encoding="utf-8").rstrip("\n").split("\n"))
        sets["seed000-part1"] = [lines[:PART1_LINES]]
        sets["seed000-part2"] = [lines[PART1_LINES : PART1_LINES + n2]]
    for heldout in heldout_dirs:
        for name in ("tune", "test"):
            for lang in ("eng", "vie"):
                files = sorted((heldout / name).glob(f"*.{lang}.tsv"))
                docs = [[row.split("\t")[0] for row in f.read_text(encoding="utf-8").splitlines()]
                        for f in files]  # fmt: skip
                if docs:
                    sets[f"heldout-{name}-{lang}"] = docs
    return sets


def corpus_lines(shared: Path, per_source: int) -> dict[str, list[str]]:
    """A fixed random sample of clean lines (20+ characters) of each corpus source."""
    out = {}
    for path in sorted((shared / "corpus").glob("*.txt.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            lines = [
                s for _, line in zip(range(200_000), f, strict=False) if len(s := line.strip()) > 20
            ]
        out[path.name.split(".")[0]] = random.Random(1).sample(lines, min(per_source, len(lines)))
    return out


def word_kinds(lines: list[str]) -> Counter:
    kinds: Counter = Counter()
    for line in lines:
        for chunk in split_chunks(line):
            if kind := foreign.word_kind(chunk.core):
                kinds[kind] += 1
    return kinds


def print_weights(ocr: dict[str, list[list[str]]]) -> None:
    files = [p for p in sorted(LICENSES.glob("*")) if p.is_file()]
    english = [
        s for p in files for s in p.read_text(encoding="utf-8", errors="replace").splitlines()
    ]
    docs = [doc for name in ("seed000-part1", "heldout-tune-eng") for doc in ocr.get(name, [])]
    vietnamese = [line for doc in docs for line in doc]
    a, b = word_kinds(english), word_kinds(vietnamese)
    na, nb = sum(a.values()), sum(b.values())
    print(f"\n## weights: English ({LICENSES}, {na} words) vs eng OCR (seed part 1 + heldout "
          f"tune, {nb} words)")  # fmt: skip
    print("| kind | English | eng OCR | log-odds (add-one) | weight used |\n|---|---|---|---|---|")
    for kind in foreign.WEIGHTS:
        pa, pb = (a[kind] + 1) / (na + 5), (b[kind] + 1) / (nb + 5)
        odds = math.log(pa / pb)
        print(f"| {kind} | {a[kind]} ({pa:.2%}) | {b[kind]} ({pb:.2%}) | {odds:+.2f} | "
              f"{foreign.WEIGHTS[kind]:+.1f} |")  # fmt: skip


def detector_counts(args, ocr: dict[str, list[list[str]]]) -> None:
    print("\n## the detector alone")
    print("| set | words | kept | share kept |\n|---|---|---|---|")
    for name in ENGLISH_SETS:
        n, k, _ = kept_words(english_lines(name))
        print(f"| {name} (all foreign) | {n} | {k} | {k / n:.2%} |")
    clean, noisy, spans = mixed_lines()
    vn = vk = fn = fk = 0
    for line, flags, span in zip(chunked(noisy), foreign.foreign_chunks(chunked(noisy)), spans,
                                 strict=True):  # fmt: skip
        for pos, (chunk, flag) in enumerate(zip(line, flags, strict=True)):
            if pos in span:
                fn, fk = fn + 1, fk + flag
            elif is_word(chunk):
                vn, vk = vn + 1, vk + flag
    print(f"| mixed, Vietnamese words (false keeps) | {vn} | {vk} | {vk / vn:.2%} |")
    print(f"| mixed, foreign words | {fn} | {fk} | {fk / fn:.2%} |")
    for name, docs in ocr.items():
        n = k = 0
        shown = []
        for doc in docs:
            dn, dk, ds = kept_words(doc)
            n, k, shown = n + dn, k + dk, shown + ds
        print(f"| {name} (false keeps) | {n} | {k} | {k / max(n, 1):.2%} |")
        if args.verbose and shown:
            print("  kept: " + " / ".join(shown))
    total = kept = lines_hit = 0
    for source, lines in corpus_lines(args.shared, args.corpus_lines).items():
        s_total = s_kept = s_lines = 0
        for clean_line in lines:
            stripped = split_chunks(strip_marks(clean_line))
            flags = foreign.foreign_chunks([stripped])[0]
            gold = split_chunks(clean_line)
            lost = [c.core for c, g, f in zip(stripped, gold, flags, strict=True)
                    if f and g.core != c.core]  # fmt: skip
            s_total += sum(g.core != c.core for c, g in zip(stripped, gold, strict=True))
            s_kept += len(lost)
            s_lines += bool(lost)
            if args.verbose and lost:
                print(f"  {source}: {lost} | {clean_line[:100]}")
        print(f"| corpus {source}, {len(lines)} lines stripped: words needing marks kept "
              f"(false keeps); lines with one | {s_total} | {s_kept} | {s_kept / s_total:.3%}; "
              f"{s_lines} lines |")  # fmt: skip
        total, kept, lines_hit = total + s_total, kept + s_kept, lines_hit + s_lines
    print(f"| corpus, all | {total} | {kept} | {kept / max(total, 1):.3%}; {lines_hit} lines |")


def restore_counts(model_dir: Path | None, ocr: dict[str, list[list[str]]]) -> None:
    from vanban.restore.api import load_restorer

    restorer = load_restorer(model_dir)
    english, frozen = (english_lines(name) for name in ENGLISH_SETS)
    clean, noisy, spans = mixed_lines()
    issue = ["Each file has -o too.", "```", "CI N", "```"]
    print("\n## through the restorer (detector off -> on)")
    print("| set | tokens | changed, off | changed, on |\n|---|---|---|---|")
    results = {}
    for on in (False, True):
        restorer.config = replace(restorer.config, keep_foreign=on)
        restorer.decoder.config = restorer.config
        sets = (english, noisy, issue, frozen)
        results[on] = [restorer.restore_lines(lines) for lines in sets]
    for n, lines, name in (
        (0, english, "english (false changes)"),
        (3, frozen, "english-frozen (false changes)"),
        (2, issue, "issue 16 examples"),
    ):
        tokens = sum(len(split_chunks(line)) for line in lines)
        changed = [sum(_changed(r) for r in results[on][n]) for on in (False, True)]
        print(f"| {name} | {tokens} | {changed[0]} | {changed[1]} |")
    for on in (False, True):
        print(
            f"  issue examples, detector {'on' if on else 'off'}: "
            f"{[r.text for r in results[on][2]]}"
        )
    foreign_n = sum(len(s) for s in spans)
    changed, correct = {}, {}
    for on in (False, True):
        changed[on] = correct[on] = 0
        for gold, out, span in zip(clean, results[on][1], spans, strict=True):
            got, want = split_chunks(out.text), split_chunks(gold)
            for pos, (g, w) in enumerate(zip(got, want, strict=True)):
                if pos in span:
                    changed[on] += g.core != w.core
                elif w.core:
                    correct[on] += g.core == w.core
    vn = sum(1 for gold, s in zip(clean, spans, strict=True)
             for pos, c in enumerate(split_chunks(gold)) if c.core and pos not in s)  # fmt: skip
    print(f"| mixed, foreign words changed | {foreign_n} | {changed[False]} | {changed[True]} |")
    print(
        f"| mixed, Vietnamese words wrong | {vn} | {vn - correct[False]} | {vn - correct[True]} |"
    )
    print("\n## OCR'd Vietnamese through the restorer: lines whose output the detector changes")
    print("| set | lines | tokens changed by the restorer (off) | lines that differ off/on |")
    print("|---|---|---|---|")
    for name, docs in ocr.items():
        outputs = {}
        for on in (False, True):
            restorer.config = replace(restorer.config, keep_foreign=on)
            restorer.decoder.config = restorer.config
            outputs[on] = [r for doc in docs for r in restorer.restore_lines(doc)]
        differ = sum(a.text != b.text for a, b in zip(outputs[False], outputs[True], strict=True))
        edits = sum(t.changed for r in outputs[False] for t in r.tokens)
        print(f"| {name} | {len(outputs[True])} | {edits} | {differ} |")


def _changed(line) -> int:
    """Words of a restored line that differ from the input (a dropped chunk counts)."""
    got, was = split_chunks(line.text), split_chunks(line.source)
    if len(got) != len(was):
        return abs(len(was) - len(got)) + sum(
            g.text != w.text for g, w in zip(got, was, strict=False)
        )
    return sum(g.text != w.text for g, w in zip(got, was, strict=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--heldout-dir", type=Path, nargs="+", default=[data_dir() / "heldout"])
    parser.add_argument("--corpus-lines", type=int, default=1000, help="lines per corpus source")
    parser.add_argument("--weights", action="store_true", help="the counts behind the weights")
    parser.add_argument("--restore", action="store_true", help="also through the restorer")
    parser.add_argument("--model-dir", type=Path, default=None)
    parser.add_argument("-v", "--verbose", action="store_true", help="show every kept word")
    args = parser.parse_args(argv)
    ocr = ocr_sets(args.shared, args.heldout_dir)
    if args.weights:
        print_weights(ocr)
    detector_counts(args, ocr)
    if args.restore:
        restore_counts(args.model_dir, ocr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
