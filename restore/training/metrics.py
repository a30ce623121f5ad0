"""Restoration scores: syllable accuracy, CER and base-letter error, per line and over a corpus.

Syllable accuracy = 1 - token edit distance / reference tokens, tokens being words and single
punctuation marks (`vanban.core.text.score_tokens`) of `normalize`d text. A run of dots or ellipsis
characters (a dotted fill line "………", "......", an ellipsis "...") counts as one token "…": its
length on the page is not text, and OCR prints dots where the source has "…". CER is the
character edit distance over reference characters (after the same folding). Base-letter error is
the token error rate left after stripping every mark (what a restorer got wrong beyond accents).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import regex
from rapidfuzz.distance import Levenshtein

from vanban.core.text import normalize, score_tokens, strip_marks


@dataclass
class LineScore:
    """Edit counts of one hypothesis line against its reference."""

    token_errors: int
    tokens: int
    char_errors: int
    chars: int
    base_errors: int

    @property
    def accuracy(self) -> float:
        return 1 - self.token_errors / self.tokens if self.tokens else float(self.token_errors == 0)


@dataclass
class CorpusScore:
    """Sums over lines: corpus-level rates are ratios of sums, not means of line rates."""

    lines: list[LineScore] = field(default_factory=list)

    def _sum(self, name: str) -> int:
        return sum(getattr(s, name) for s in self.lines)

    @property
    def tokens(self) -> int:
        return self._sum("tokens")

    @property
    def syllable_accuracy(self) -> float:
        return 1 - self._sum("token_errors") / max(1, self.tokens)

    @property
    def cer(self) -> float:
        return self._sum("char_errors") / max(1, self._sum("chars"))

    @property
    def base_error(self) -> float:
        return self._sum("base_errors") / max(1, self.tokens)

    def as_dict(self) -> dict:
        return {
            "lines": len(self.lines),
            "tokens": self.tokens,
            "syllable_accuracy": round(self.syllable_accuracy, 5),
            "cer": round(self.cer, 5),
            "base_error": round(self.base_error, 5),
        }


_DOT_RUN = regex.compile(r"[.…]{2,}|…")


def scoring_text(text: str) -> str:
    """`normalize`d text with every run of dots or ellipses folded into one ' … '."""
    return _DOT_RUN.sub(" … ", normalize(text)).strip()


def _bases(tokens: list[str]) -> list[str]:
    return [strip_marks(t).lower() for t in tokens]


def score_line(hypothesis: str, reference: str) -> LineScore:
    """Token, character and mark-stripped token edit counts of one line."""
    hyp, ref = scoring_text(hypothesis), scoring_text(reference)
    hyp_tokens, ref_tokens = score_tokens(hyp), score_tokens(ref)
    return LineScore(
        token_errors=Levenshtein.distance(hyp_tokens, ref_tokens),
        tokens=len(ref_tokens),
        char_errors=Levenshtein.distance(" ".join(hyp.split()), " ".join(ref.split())),
        chars=len(" ".join(ref.split())),
        base_errors=Levenshtein.distance(_bases(hyp_tokens), _bases(ref_tokens)),
    )


def score_corpus(hypotheses: Iterable[str], references: Iterable[str]) -> CorpusScore:
    """Score line-aligned hypotheses against references (both lists must have equal length)."""
    hyps, refs = list(hypotheses), list(references)
    if len(hyps) != len(refs):
        raise ValueError(f"{len(hyps)} hypothesis lines for {len(refs)} reference lines")
    return CorpusScore([score_line(h, r) for h, r in zip(hyps, refs, strict=True)])


def syllable_accuracy(hypotheses: Iterable[str], references: Iterable[str]) -> float:
    return score_corpus(hypotheses, references).syllable_accuracy
