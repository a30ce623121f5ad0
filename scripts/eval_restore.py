"""Evaluate restorers: do-nothing, the n-gram baseline and the neural model, on the held-out sets.

    .venv/bin/python scripts/eval_restore.py [--model-dir models/restorer] [--json out.json]
        [--systems none,ngram,neural] [--max-lines 2000] [--train-ngram]

Systems: none (do-nothing), ngram (the non-neural baseline: trigram LM in $VANBAN_DATA/ngram,
channel, beam search), neural (the shipped restorer), and for ablation network (the network
alone, greedy) and ngram-lm4 (the shipped decoder and LM with the network switched off).

Sets (each skipped when its file is missing):
  seed000-part2   seed 000 lines 371-736 vs ../shared/dev/000.gold.part2.txt (real eng OCR)
  seed000-part2-certain   the same without the lines in 000.part2.uncertain.txt
  seed000-part1   lines 1-370 (SEEN IN TRAINING: the channel and fine-tuning use them)
  eng, vie        held-out rendered pages OCR'd with Tesseract eng / vie ($VANBAN_DATA/eval/*.tsv)
  stripped        held-out clean text, marks removed ($VANBAN_DATA/eval/stripped.tsv): random
                  single lines, each restored on its own (--chain-stripped: as one text)
  stripped-docs-* (only with --sets ...,stripped-docs) per corpus source (admin, legal, wiki):
                  stretches of held-out documents, marks removed, in document order
  eng-caps, vie-caps (only with --sets ...,caps) held-out pages printed in capitals (titles and
                  headings), OCR'd with Tesseract eng / vie ($VANBAN_DATA/eval/*-caps.tsv)
  heldout-tune-eng, heldout-tune-vie, heldout-test-eng, heldout-test-vie (with --sets
                  ...,heldout-tune,heldout-test): whole unseen documents, printed and OCR'd by
                  scripts/build_heldout_sets.py ($VANBAN_DATA/heldout); each document is restored
                  as one batch; scored per document and pooled, with the digit-for-word errors
                  (a digit token OCR printed for a word) and the numbers the restorer broke
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rapidfuzz.distance import Levenshtein  # noqa: E402
from vanban.restore.training.metrics import CorpusScore, score_corpus, scoring_text  # noqa: E402

from vanban.core.files import atomic_open, data_dir  # noqa: E402
from vanban.core.text import normalize, score_tokens  # noqa: E402

SEED = "seeds/000_33b23e2610885f83.txt"
EVAL_DIR = data_dir() / "eval"
HELDOUT_DIR = data_dir() / "heldout"
CLEAN_TRAIN = data_dir() / "clean/train.txt"


@dataclass
class EvalSet:
    name: str
    noisy: list[str]
    gold: list[str]
    note: str = ""
    independent: bool = False  # unrelated lines (a random sample): no context between them
    group: str = ""  # held-out documents: the pooled set this document belongs to


def _read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").rstrip("\n").split("\n")


def seed_sets(shared: Path) -> list[EvalSet]:
    """Seed 000 parts 2 (held out, with and without uncertain lines) and 1 (seen in training)."""
    seed_path, dev = shared / SEED, shared / "dev"
    if not (seed_path.exists() and (dev / "000.gold.part2.txt").exists()):
        print(f"{dev}: seed 000 references missing, skipping the seed sets", file=sys.stderr)
        return []
    seed = seed_path.read_text(encoding="utf-8").split("\n")
    part1, part2 = _read_lines(dev / "000.gold.part1.txt"), _read_lines(dev / "000.gold.part2.txt")
    noisy2 = seed[len(part1) : len(part1) + len(part2)]
    uncertain_path = dev / "000.part2.uncertain.txt"
    uncertain = set()
    if uncertain_path.exists():
        uncertain = {int(x.split("\t")[0]) for x in _read_lines(uncertain_path) if x.strip()}
    keep = [i for i in range(len(part2)) if len(part1) + i + 1 not in uncertain]
    return [
        EvalSet("seed000-part2", noisy2, part2, "held out, real eng OCR"),
        EvalSet("seed000-part2-certain", [noisy2[i] for i in keep], [part2[i] for i in keep],
                f"without {len(part2) - len(keep)} uncertain lines"),
        EvalSet("seed000-part1", seed[: len(part1)], part1, "SEEN IN TRAINING"),
    ]  # fmt: skip


def tsv_set(name: str, path: Path, max_lines: int, note: str) -> list[EvalSet]:
    """A `noisy<TAB>clean[<TAB>...]` file (first `max_lines` lines, in file order)."""
    if not path.exists():
        print(f"{path}: missing, skipping set {name}", file=sys.stderr)
        return []
    noisy, gold = [], []
    with path.open(encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 2:
                noisy.append(parts[0])
                gold.append(parts[1])
            if len(noisy) >= max_lines:
                break
    return [EvalSet(name, noisy, gold, note)]


def stripped_documents_sets(shared: Path, lines: int = 1500, per_doc: int = 60) -> list[EvalSet]:
    """Per corpus source (admin, legal, wiki): stretches of its held-out (test-split) documents
    with the marks removed, in document order. Up to `per_doc` lines from each document, in a
    random order of documents (seed 11), a blank line between documents, `lines` lines at most.
    The documents are rebuilt from ../shared/corpus as `scripts/build_clean_corpus.py` made
    them (about 35 s)."""
    import random

    from vanban.corpus.channel import strip_accents_line
    from vanban.corpus.clean import iter_source_documents, shared_sources, split_of

    sets = []
    for source in shared_sources(shared):
        if not source.path.exists():
            print(f"{source.path}: missing, skipping its stripped-docs set", file=sys.stderr)
            continue
        docs = [d for key, d in iter_source_documents(source) if split_of(key) == "test"]
        random.Random(11).shuffle(docs)
        gold: list[str] = []
        for doc in docs:
            if len(gold) >= lines:
                break
            gold += [*doc[:per_doc], ""]
        gold = gold[:lines]
        note = f"held-out {source.name} documents, marks removed, {per_doc} lines each, in order"
        noisy = [strip_accents_line(x) for x in gold]
        sets.append(EvalSet(f"stripped-docs-{source.name}", noisy, gold, note))
    return sets


def heldout_sets(folder: Path, which: str) -> list[EvalSet]:
    """One set per document and OCR language of `heldout/<which>/` (build_heldout_sets.py)."""
    files = sorted((folder / which).glob("*.tsv"))
    if not files:
        print(f"{folder / which}: no held-out documents, skipping heldout-{which}", file=sys.stderr)
    sets = []
    for path in files:
        doc, lang = path.name.removesuffix(".tsv").rsplit(".", 1)
        group = f"heldout-{which}-{lang}"
        for found in tsv_set(f"{group}:{doc}", path, 10**9, f"unseen document {doc}, {lang} OCR"):
            found.group = group
            sets.append(found)
    return sets


def _words(text: str) -> list[str]:
    return score_tokens(scoring_text(text))


def _matched(a: list[str], b: list[str]) -> set[int]:
    """Indices of `b` that the token edit alignment of `a` to `b` keeps equal."""
    return {
        j
        for op in Levenshtein.opcodes(a, b)
        if op.tag == "equal"
        for j in range(op.dest_start, op.dest_end)
    }


def digit_word_sites(noisy: list[str], gold: list[str]) -> list[tuple[int, int]]:
    """(line, gold token) where OCR printed a token with digits for a word without any."""
    sites = []
    for i, (n_line, g_line) in enumerate(zip(noisy, gold, strict=True)):
        n_tok, g_tok = _words(n_line), _words(g_line)
        for op in Levenshtein.opcodes(n_tok, g_tok):
            if op.tag != "replace" or op.src_end - op.src_start != op.dest_end - op.dest_start:
                continue
            for k in range(op.src_end - op.src_start):
                printed, word = n_tok[op.src_start + k], g_tok[op.dest_start + k]
                if any(c.isdigit() for c in printed) and word.isalpha():
                    sites.append((i, op.dest_start + k))
    return sites


def number_damage(noisy: list[str], out: list[str], gold: list[str]) -> tuple[int, int]:
    """(gold tokens with digits that OCR printed right, how many of them the output lost)."""
    right = lost = 0
    for n_line, o_line, g_line in zip(noisy, out, gold, strict=True):
        g_tok = _words(g_line)
        numbers = {j for j, t in enumerate(g_tok) if any(c.isdigit() for c in t)}
        kept = numbers & _matched(_words(n_line), g_tok)
        right += len(kept)
        lost += len(kept - _matched(_words(o_line), g_tok))
    return right, lost


def digit_word_row(noisy: list[str], out: list[str], gold: list[str], errors: int) -> dict:
    """Digit-for-word sites in the input, how many the output got right, and the unfixed
    ones' share of the output's token errors; numbers right in the input that it broke."""
    sites = digit_word_sites(noisy, gold)
    fixed = sum(1 for i, j in sites if j in _matched(_words(out[i]), _words(gold[i])))
    right, lost = number_damage(noisy, out, gold)
    return {"digit_word_sites": len(sites), "digit_word_fixed": fixed,
            "digit_word_share_of_errors": round((len(sites) - fixed) / max(errors, 1), 4),
            "numbers_right_in_input": right, "numbers_broken": lost}  # fmt: skip


def evaluate_documents(system, docs: list[EvalSet]) -> list[dict]:
    """Each document restored as one batch; a row per document, then the pooled row."""
    rows, pooled = [], {"noisy": [], "out": [], "gold": []}
    start = time.time()
    for doc in docs:
        out = [r.text for r in system.restore_lines(doc.noisy)]
        score = score_corpus(out, doc.gold)
        errors = sum(s.token_errors for s in score.lines)
        rows.append({"set": doc.name} | score.as_dict()
                    | digit_word_row(doc.noisy, out, doc.gold, errors))  # fmt: skip
        for key, lines in (("noisy", doc.noisy), ("out", out), ("gold", doc.gold)):
            pooled[key] += lines
    score = score_corpus(pooled["out"], pooled["gold"])
    before = score_corpus([normalize(x) for x in pooled["noisy"]], pooled["gold"])
    errors = sum(s.token_errors for s in score.lines)
    input_errors = sum(s.token_errors for s in before.lines)
    worse = sum(1 for a, b in zip(score.lines, before.lines, strict=True)
                if a.token_errors > b.token_errors)  # fmt: skip
    seconds = time.time() - start
    row = (
        {"set": docs[0].group, "documents": len(docs)}
        | score.as_dict()
        | {
            "lines_worse": worse,
            "errors_fixed": round((input_errors - errors) / input_errors, 4)
            if input_errors
            else 0.0,
            "seconds": round(seconds, 1),
            "chars_per_s": round(sum(map(len, pooled["out"])) / max(seconds, 1e-9)),
        }
    )
    return [row | digit_word_row(pooled["noisy"], pooled["out"], pooled["gold"], errors), *rows]


def heldout_markdown(rows: list[dict]) -> str:
    head = (
        "| set / document | system | lines | tokens | syllable acc | lines worse | "
        "digit-for-word sites | fixed | their share of errors left | numbers broken |"
    )
    out = [head, "|" + "---|" * 10]
    for r in rows:
        share = f"{100 * r['digit_word_share_of_errors']:.1f}%"
        name = f"**{r['set']}** ({r['documents']} docs, pooled)" if "documents" in r else r["set"]
        out.append(
            f"| {name} | {r['system']} | {r['lines']} | {r['tokens']} | "
            f"{100 * r['syllable_accuracy']:.2f}% | {r.get('lines_worse', '')} | "
            f"{r['digit_word_sites']} | {r['digit_word_fixed']} | {share} | "
            f"{r['numbers_broken']} of {r['numbers_right_in_input']} |"
        )  # fmt: skip
    return "\n".join(out)


class DoNothing:
    def restore_lines(self, lines: list[str]):
        from vanban.core.records import RestoredLine

        return [RestoredLine(text=normalize(line), source=line) for line in lines]


def load_systems(names: list[str], model_dir: Path | None) -> dict[str, object]:
    systems: dict[str, object] = {}
    for name in names:
        start = time.time()
        try:
            if name == "none":
                systems[name] = DoNothing()
            elif name == "ngram":
                from vanban.restore.decoder.restorer import NgramRestorer

                systems[name] = NgramRestorer.load()
            elif name == "neural":  # the shipped restorer: network + LM + channel beam search
                from vanban.restore import load_restorer

                systems[name] = load_restorer(model_dir)
            elif name == "network":  # the network alone, greedy within the candidate mask
                from vanban.restore.api import DEFAULT_MODEL_DIR
                from vanban.restore.network.restorer import ModelRestorer

                systems[name] = ModelRestorer.from_pretrained(model_dir or DEFAULT_MODEL_DIR)
            elif name == "ngram-lm4":  # the shipped decoder with the network switched off
                from vanban.restore.api import DEFAULT_MODEL_DIR
                from vanban.restore.hybrid import HybridRestorer

                hybrid = HybridRestorer.from_pretrained(model_dir or DEFAULT_MODEL_DIR)
                systems[name] = hybrid.decoder
            else:
                print(f"unknown system {name}", file=sys.stderr)
                continue
        except (FileNotFoundError, OSError, ImportError) as err:
            print(f"{name}: not available ({err})", file=sys.stderr)
            continue
        print(f"{name}: loaded in {time.time() - start:.1f}s", file=sys.stderr)
    return systems


def evaluate(system, eval_set: EvalSet, baseline: CorpusScore | None) -> dict:
    start = time.time()
    if eval_set.independent:  # a blank line between lines: each is restored on its own
        spaced = [x for line in eval_set.noisy for x in (line, "")]
        out = [r.text for r in system.restore_lines(spaced)][::2]
    else:
        out = [r.text for r in system.restore_lines(eval_set.noisy)]
    seconds = time.time() - start
    if len(out) != len(eval_set.noisy):
        raise SystemExit(f"{eval_set.name}: {len(out)} output lines, {len(eval_set.noisy)} input")
    score = score_corpus(out, eval_set.gold)
    speed = round(sum(map(len, out)) / max(seconds, 1e-9))
    row = score.as_dict() | {"seconds": round(seconds, 1), "chars_per_s": speed}
    if baseline is not None:
        worse = sum(
            1 for a, b in zip(score.lines, baseline.lines, strict=True)
            if a.token_errors > b.token_errors
        )  # fmt: skip
        before = sum(s.token_errors for s in baseline.lines)
        after = sum(s.token_errors for s in score.lines)
        row["lines_worse"] = worse
        row["errors_fixed"] = round((before - after) / before, 4) if before else 0.0
    return row


def candidate_recall(eval_set: EvalSet, ks=(1, 3, 10, 24)) -> dict:
    """Share of aligned tokens whose gold (lowercase) is among the top-k candidates."""
    from vanban.restore.config import DecodingConfig
    from vanban.restore.decoder.candidates import CandidateGenerator
    from vanban.restore.decoder.channel import token_pairs
    from vanban.restore.decoder.lines import is_fixed
    from vanban.restore.profile import choose_profile

    profile = choose_profile(eval_set.noisy, DecodingConfig())
    generator = CandidateGenerator.load().for_profile(profile)
    pairs = [(n, g) for n, g in token_pairs(eval_set.noisy, eval_set.gold) if not is_fixed(n)]
    hits = dict.fromkeys(ks, 0)
    in_inventory = sizes = 0
    start = time.time()
    for noisy, gold in pairs:
        found = [c for c, _ in generator.candidates(noisy, max(ks))]
        sizes += len(found)
        in_inventory += gold in generator.inventory
        for k in ks:
            hits[k] += gold in found[:k]
    seconds = time.time() - start
    n = max(1, len(pairs))
    return {"set": eval_set.name, "tokens": len(pairs), "gold_in_inventory": in_inventory / n,
            "mean_set_size": sizes / n, "tokens_per_s": round(len(pairs) / max(seconds, 1e-9))}  \
        | {f"recall@{k}": hits[k] / n for k in ks}  # fmt: skip


def recall_markdown(rows: list[dict]) -> str:
    ks = [k for k in rows[0] if k.startswith("recall@")]
    head = "| set | tokens | gold in inventory | " + " | ".join(ks)
    head += f" | {ks[-1]} of gold in inventory | mean set | tokens/s (cold cache) |"
    out = [head, "|" + "---|" * (len(ks) + 6)]
    for r in rows:
        recalls = " | ".join(f"{100 * r[k]:.2f}%" for k in ks)
        within = r[ks[-1]] / max(r["gold_in_inventory"], 1e-9)
        out.append(f"| {r['set']} | {r['tokens']} | {100 * r['gold_in_inventory']:.2f}% | "
                   f"{recalls} | {100 * within:.2f}% | {r['mean_set_size']:.1f} | "
                   f"{r['tokens_per_s']} |")  # fmt: skip
    return "\n".join(out)


def markdown(rows: list[dict]) -> str:
    head = ("| set | system | lines | tokens | syllable acc | CER | base-letter err | "
            "lines worse | input errors fixed | chars/s |")  # fmt: skip
    out = [head, "|" + "---|" * 10]
    for r in rows:
        fixed = f"{100 * r['errors_fixed']:.1f}%" if "errors_fixed" in r else ""
        out.append(
            f"| {r['set']} | {r['system']} | {r['lines']} | {r['tokens']} | "
            f"{100 * r['syllable_accuracy']:.2f}% | {100 * r['cer']:.2f}% | "
            f"{100 * r['base_error']:.2f}% | {r.get('lines_worse', '')} | "
            f"{fixed} | "
            f"{r['chars_per_s']} |"
        )
    return "\n".join(out)


def write_json(path: Path, data: dict) -> None:
    with atomic_open(path) as out:
        json.dump(data, out, ensure_ascii=False, indent=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--eval-dir", type=Path, default=EVAL_DIR)
    parser.add_argument("--heldout-dir", type=Path, default=HELDOUT_DIR)
    parser.add_argument("--model-dir", type=Path, default=None)
    parser.add_argument("--systems", default="none,ngram,neural")
    parser.add_argument("--sets", default="seed,eng,vie,stripped")
    parser.add_argument("--max-lines", type=int, default=2000, help="lines per rendered set")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--chain-stripped",
        action="store_true",
        help="restore the random stripped lines as one text (the earlier protocol: "
        "each line then gets an unrelated line as context)",
    )
    parser.add_argument("--recall", action="store_true", help="also candidate recall@k per set")
    parser.add_argument("--train-ngram", action="store_true",
                        help="(re)train the n-gram LM on --ngram-text first")  # fmt: skip
    parser.add_argument(
        "--ngram-text",
        type=Path,
        default=CLEAN_TRAIN,
        help="clean text to count (the shipped LM: $VANBAN_DATA/clean_lm/train.txt)",
    )
    parser.add_argument("--ngram-lines", type=int, default=5_000_000)
    parser.add_argument("--ngram-order", type=int, default=3, help="3 (baseline) or 4 (shipped)")
    parser.add_argument("--ngram-dir", type=Path, default=data_dir() / "ngram")
    parser.add_argument(
        "--ngram-min-count",
        type=lambda text: [int(x) for x in text.split(",")],
        default=[2, 2],
        help="trigram,4-gram minimum counts (the shipped 4-gram LM: 1,2)",
    )
    args = parser.parse_args(argv)

    if args.train_ngram:
        from vanban.restore.decoder.lm import train_lm

        if not args.ngram_text.exists():
            print(f"{args.ngram_text}: clean training text missing", file=sys.stderr)
            return 1
        min_tri, min_four = args.ngram_min_count[0], args.ngram_min_count[-1]
        text, lines = args.ngram_text, args.ngram_lines
        train_lm(text, lines, args.ngram_dir, args.ngram_order, min_tri, min_four)
        if args.ngram_order != 3:
            return 0

    wanted = args.sets.split(",")
    sets: list[EvalSet] = []
    if "seed" in wanted:
        sets += seed_sets(args.shared)
    notes = {"eng": "held-out pages, Tesseract eng", "vie": "held-out pages, Tesseract vie",
             "stripped": "held-out clean text, marks removed, single random lines",
             "eng-caps": "held-out pages in capitals, Tesseract eng",
             "vie-caps": "held-out pages in capitals, Tesseract vie"}  # fmt: skip
    for name in ("eng", "vie", "stripped", "eng-caps", "vie-caps"):
        if name in wanted or (name.endswith("-caps") and "caps" in wanted):
            sets += tsv_set(name, args.eval_dir / f"{name}.tsv", args.max_lines, notes[name])
    if "stripped-docs" in wanted:
        sets += stripped_documents_sets(args.shared)
    for which in ("tune", "test"):
        if f"heldout-{which}" in wanted:
            sets += heldout_sets(args.heldout_dir, which)
    for eval_set in sets:  # stripped.tsv is random.sample() lines of the test documents
        eval_set.independent = eval_set.name == "stripped" and not args.chain_stripped
    systems = load_systems(args.systems.split(","), args.model_dir)

    rows, heldout_rows = [], []
    groups: dict[str, list[EvalSet]] = {}
    for eval_set in sets:
        if eval_set.group:
            groups.setdefault(eval_set.group, []).append(eval_set)
    for group, docs in groups.items():
        for name, system in systems.items():
            found = [r | {"system": name} for r in evaluate_documents(system, docs)]
            heldout_rows += found
            print(f"{group:24s} {name:8s} {found[0]['syllable_accuracy']:.4f}", file=sys.stderr)
    for eval_set in sets:
        if eval_set.group:
            continue
        baseline = score_corpus([normalize(x) for x in eval_set.noisy], eval_set.gold)
        for name, system in systems.items():
            row = evaluate(system, eval_set, baseline if name != "none" else None)
            rows.append({"set": eval_set.name, "system": name, "note": eval_set.note} | row)
            print(f"{eval_set.name:24s} {name:8s} {row['syllable_accuracy']:.4f}", file=sys.stderr)

    recall_rows = [candidate_recall(s) for s in sets] if args.recall else []

    given = argv if argv is not None else sys.argv[1:]
    command = "python scripts/eval_restore.py " + " ".join(given)
    if rows:
        print(markdown(rows))
        print()
    if heldout_rows:
        print(heldout_markdown(heldout_rows))
        print()
    for s in sets:
        if not s.group:
            print(f"- {s.name}: {s.note}")
    if recall_rows:
        print("\nCandidate recall (gold syllable among the top-k candidates):\n")
        print(recall_markdown(recall_rows))
    print(f"\nCommand: `{command.strip()}`")
    if args.json:
        write_json(args.json, {"command": command.strip(), "rows": rows, "recall": recall_rows,
                               "heldout": heldout_rows})  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
