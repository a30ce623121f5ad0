"""Does a restored token's confidence mean what it says? Reliability on the held-out sets.

For each set, every line whose output and reference split into the same chunks is scored token by
token (the restored word against the reference word, marks and case included). Tokens are binned by
their confidence; each bin shows how many tokens it holds and how many are right. Then, for a
reviewer who checks every token under a threshold: the share of tokens to check and the share of
the errors they contain. Pass-through tokens (numbers, codes, punctuation) count like the others.

Usage: .venv/bin/python scripts/eval_confidence.py [--sets seed,eng,vie] [--shared ../shared]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eval_restore import EVAL_DIR, EvalSet, seed_sets, tsv_set  # noqa: E402
from vanban.restore.api import load_restorer  # noqa: E402

from vanban.core.text import normalize, split_chunks  # noqa: E402

BINS = (0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 1.0)
THRESHOLDS = (0.5, 0.8, 0.9, 0.95, 0.99)


def scored_tokens(restorer, eval_set: EvalSet) -> list[tuple[float, bool]]:
    """(confidence, right) for every token of the lines that align chunk by chunk."""
    out = []
    for line, gold in zip(restorer.restore_lines(eval_set.noisy), eval_set.gold, strict=True):
        produced = [c for c in split_chunks(line.text) if c.core]
        expected = [c for c in split_chunks(normalize(gold)) if c.core]
        if len(produced) != len(expected) or len(line.tokens) != len(produced):
            continue  # words run together or split: no one-to-one reading
        for token, want in zip(line.tokens, expected, strict=True):
            out.append((token.confidence, normalize(token.text) == want.core))
    return out


def report(name: str, tokens: list[tuple[float, bool]]) -> list[str]:
    errors = sum(not right for _, right in tokens)
    rows = [f"### {name}: {len(tokens):,} tokens, {errors} wrong", "",
            "| confidence | tokens | share | right |", "|---|---:|---:|---:|"]  # fmt: skip
    for low, high in zip(BINS, BINS[1:], strict=False):
        inside = [right for p, right in tokens if low <= p < high or (high == 1.0 and p == 1.0)]
        if inside:
            bracket = "]" if high == 1.0 else ")"
            share, right = len(inside) / len(tokens), sum(inside) / len(inside)
            rows.append(
                f"| [{low:.2f}, {high:.2f}{bracket} | {len(inside):,} | {share:.2%} | {right:.2%} |"
            )
    rows += ["", "| check tokens under | tokens checked | errors found |", "|---|---:|---:|"]
    for threshold in THRESHOLDS:
        checked = [right for p, right in tokens if p < threshold]
        found = sum(not right for right in checked)
        share = found / errors if errors else 0.0
        rows.append(f"| {threshold} | {len(checked) / len(tokens):.2%} | {found} of {errors} "
                    f"({share:.0%}) |")  # fmt: skip
    return rows + [""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    repo = Path(__file__).resolve().parents[1]
    parser.add_argument("--shared", type=Path, default=repo.parent / "shared")
    parser.add_argument("--eval-dir", type=Path, default=EVAL_DIR)
    parser.add_argument("--sets", default="seed,eng,vie")
    args = parser.parse_args()
    wanted = args.sets.split(",")
    sets: list[EvalSet] = []
    if "seed" in wanted:
        sets += [s for s in seed_sets(args.shared) if s.name == "seed000-part2"]
    for name in ("eng", "vie"):
        if name in wanted:
            sets += tsv_set(name, args.eval_dir / f"{name}.tsv", 10**9, "")
    restorer = load_restorer()
    lines = []
    for eval_set in sets:
        lines += report(eval_set.name, scored_tokens(restorer, eval_set))
    print("\n".join(lines))
    print(f"Command: `python scripts/eval_confidence.py --sets {args.sets}`")


if __name__ == "__main__":
    main()
