"""Learn the OCR readings the distance rule of restore.network.constraint misses ("g" -> "ứng").

Reads chunk-aligned `noisy<TAB>clean` pair files and writes `noisy<TAB>gold<TAB>count` rows for
gold syllables of the vocabulary that the mark-free edit-distance rule would not allow.

    python scripts/build_confusions.py --vocab models/restorer/vocab.txt \
        --pairs $VANBAN_DATA/pairs/real_part1.tsv:1 $VANBAN_DATA/pairs/true_eng.tsv:2 \
        --out models/restorer/confusions.tsv
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rapidfuzz.distance import Levenshtein  # noqa: E402
from vanban.restore.network.constraint import CandidateMask, letter_skeleton  # noqa: E402
from vanban.restore.network.features import is_passthrough  # noqa: E402
from vanban.restore.network.vocab import OutputVocab  # noqa: E402

from vanban.core.text import normalize, split_chunks  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--vocab", type=Path, required=True)
    ap.add_argument("--pairs", nargs="+", help="FILE:MIN_COUNT")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    vocab = OutputVocab.load(args.vocab)
    mask = CandidateMask(vocab.tokens)
    kept: Counter[tuple[str, str]] = Counter()
    for spec in args.pairs:
        path, _, min_count = spec.rpartition(":")
        counts: Counter[tuple[str, str]] = Counter()
        for row in Path(path).read_text(encoding="utf-8").splitlines():
            noisy, _, clean = row.partition("\t")
            a, b = split_chunks(noisy), split_chunks(normalize(clean))
            if len(a) != len(b):
                continue
            for x, y in zip(a, b, strict=True):
                gold = y.core.lower()
                if is_passthrough(x.core) or gold not in vocab.index:
                    continue
                near = Levenshtein.distance(letter_skeleton(x.core), letter_skeleton(gold)) <= 3
                if near and not mask.row(x.core)[vocab.index[gold]]:
                    counts[(x.core, gold)] += 1
        kept.update({k: n for k, n in counts.items() if n >= int(min_count)})
    rows = sorted(kept.items(), key=lambda kv: (-kv[1], kv[0]))
    args.out.write_text("".join(f"{a}\t{b}\t{n}\n" for (a, b), n in rows), encoding="utf-8")
    print(f"{len(rows)} confusions -> {args.out}")


if __name__ == "__main__":
    main()
