"""A fast statistical OCR-noise channel fitted on true-channel alignments and the real seed pairs.

`NoiseChannel.corrupt(line, rng)` changes only the letters of word chunks (never digits, codes,
foreign words or punctuation) and keeps the chunk count: noisy chunk i reads clean chunk i.
"""

from __future__ import annotations

import bisect
import json
import random
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import regex
from rapidfuzz.distance import Levenshtein

from vanban.core.files import atomic_write_text
from vanban.core.text import ONSETS, is_valid_syllable, split_chunks, strip_marks

_LETTERS = regex.compile(r"\p{L}+")
_ROMAN = regex.compile(r"[IVXLCDM]+")  # heading numbers (II., IV.) pass unchanged
REAL_LAMBDA_CAP = 0.8  # at most this share of a syllable's distribution comes from the real pairs
REAL_PRIOR = 2.0  # real share = n_real / (n_real + REAL_PRIOR) * REAL_LAMBDA_CAP


@lru_cache(maxsize=200_000)
def is_corruptible(core: str) -> bool:
    """Vietnamese word cores only: letters forming a valid syllable or with Vietnamese letters."""
    if not core or not _LETTERS.fullmatch(core) or _ROMAN.fullmatch(core):
        return False
    return is_valid_syllable(core) or not core.isascii()


def _similar(a: str, b: str) -> float:
    return Levenshtein.normalized_similarity(strip_marks(a).lower(), strip_marks(b).lower())


def chunks_correspond(noisy: str, clean: str) -> bool:
    """Same chunk count, and no chunk reading as its neighbour (a split and a merge that cancel)."""
    noisy_chunks, clean_chunks = split_chunks(noisy), split_chunks(clean)
    if len(noisy_chunks) != len(clean_chunks):
        return False
    for i, (n, c) in enumerate(zip(noisy_chunks, clean_chunks, strict=True)):
        if not n.core or not c.core or _similar(n.core, c.core) >= 0.5:
            continue
        for j in (i - 1, i + 1):
            if 0 <= j < len(clean_chunks) and clean_chunks[j].core:
                other = clean_chunks[j].core
                if _similar(other, c.core) < 1 and _similar(n.core, other) >= 0.8:
                    return False
    return True


def word_pairs(noisy: str, clean: str) -> list[tuple[str, str]]:
    """(clean core, noisy core) of corruptible chunks of a chunk-aligned pair; [] if not aligned."""
    if not chunks_correspond(noisy, clean):
        return []
    noisy_chunks, clean_chunks = split_chunks(noisy), split_chunks(clean)
    return [
        (c.core, n.core)
        for n, c in zip(noisy_chunks, clean_chunks, strict=True)
        if is_corruptible(c.core) and n.core and not any(ch.isspace() for ch in n.core)
    ]


def char_pieces(clean: str, noisy: str) -> list[tuple[str, str]]:
    """Align a word and its reading by edit operations: (clean char, what it became) per clean char.

    An insertion goes with the changed char after it ("của" -> "ctia": ủ -> "ti"), else the one
    before.
    """
    pieces: list[tuple[str, str]] = []
    pending = ""
    ops = Levenshtein.opcodes(clean, noisy)
    for k, op in enumerate(ops):
        src, dst = clean[op.src_start : op.src_end], noisy[op.dest_start : op.dest_end]
        if op.tag == "insert":
            next_changes = k + 1 < len(ops) and ops[k + 1].tag in ("replace", "delete")
            if pieces and not next_changes:
                pieces[-1] = (pieces[-1][0], pieces[-1][1] + dst)
            else:
                pending += dst
            continue
        if op.tag == "equal" or (op.tag == "replace" and len(src) == len(dst)):
            pieces.extend(zip(src, dst, strict=True))
        else:  # delete, or replace of unequal length: the block goes to its first char
            pieces.append((src[0], dst))
            pieces.extend((ch, "") for ch in src[1:])
        if pending:
            first = len(pieces) - len(src)
            pieces[first] = (pieces[first][0], pending + pieces[first][1])
            pending = ""
    if pending and pieces:
        pieces[-1] = (pieces[-1][0], pieces[-1][1] + pending)
    return pieces


def split_syllable(core: str) -> tuple[str, str]:
    """Onset and rhyme (with its tone): 'Nghĩa' -> ('Ngh', 'ĩa'), 'ứng' -> ('', 'ứng')."""
    low = core.lower()
    for onset in ONSETS:
        if low.startswith(onset) and len(low) > len(onset):
            if onset == "gi" and strip_marks(low[2:3]) not in "aeouy":  # 'gì', 'gìn': g + i…
                continue
            return core[: len(onset)], core[len(onset) :]
    return "", core


def part_pairs(clean_core: str, noisy_core: str) -> list[tuple[str, str]]:
    """('o:'+onset, its reading) and ('r:'+rhyme, its reading) of a syllable and its OCR reading."""
    if not is_valid_syllable(clean_core):
        return []
    onset, _ = split_syllable(clean_core)
    pieces = char_pieces(clean_core, noisy_core)
    noisy_onset = "".join(out for _, out in pieces[: len(onset)])
    noisy_rhyme = "".join(out for _, out in pieces[len(onset) :])
    return [("o:" + onset, noisy_onset), ("r:" + clean_core[len(onset) :], noisy_rhyme)]


def transfer_case(template: str, word: str) -> str:
    if template.isupper() and len(template) > 1:
        return word.upper()
    if template[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


@dataclass
class Table:
    """Outputs with cumulative weights for fast sampling."""

    outputs: list[str]
    cumulative: list[float]

    @classmethod
    def from_counts(cls, counts: dict[str, float]) -> Table:
        outputs, cumulative, total = [], [], 0.0
        for out, weight in sorted(counts.items(), key=lambda kv: -kv[1]):
            total += weight
            outputs.append(out)
            cumulative.append(total)
        return cls(outputs, cumulative)

    @property
    def total(self) -> float:
        return self.cumulative[-1] if self.cumulative else 0.0

    def sample(self, rng: random.Random) -> str:
        return self.outputs[
            bisect.bisect_right(self.cumulative, rng.random() * self.total)
            if len(self.outputs) > 1
            else 0
        ]


@dataclass
class NoiseChannel:
    """Token confusions P(reading | syllable), char confusions for unseen ones, real char model."""

    tokens: dict[str, dict[str, float]]
    chars: dict[str, dict[str, float]]
    real_chars: dict[str, dict[str, float]] = field(default_factory=dict)
    real_char_share: float = 0.0  # share of seen syllables read by the real-pair char model instead
    parts: dict[str, dict[str, float]] = field(default_factory=dict)  # onset/rhyme confusions
    novelty: float = 1.0  # pseudo-count of "something not seen": char model for that syllable
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._tokens = {k: Table.from_counts(v) for k, v in self.tokens.items()}
        self._chars = {k: Table.from_counts(v) for k, v in self.chars.items()}
        self._real_chars = {k: Table.from_counts(v) for k, v in self.real_chars.items()}
        self._lower = {k: t for k, t in self._tokens.items() if k == k.lower()}
        self._parts = {k: Table.from_counts(v) for k, v in self.parts.items()}

    # -- fitting -------------------------------------------------------------------------------
    @classmethod
    def fit(
        cls,
        true_pairs: Iterable[tuple[str, str]],
        real_pairs: Iterable[tuple[str, str]] = (),
        real_char_share: float = 0.0,
        meta: dict | None = None,
    ) -> NoiseChannel:
        """Fit from (noisy, clean) line pairs; real pairs mixed in per syllable (see REAL_PRIOR)."""
        true_tokens: dict[str, Counter] = defaultdict(Counter)
        real_tokens: dict[str, Counter] = defaultdict(Counter)
        chars: dict[str, Counter] = defaultdict(Counter)
        real_chars: dict[str, Counter] = defaultdict(Counter)
        true_parts: dict[str, Counter] = defaultdict(Counter)
        real_parts: dict[str, Counter] = defaultdict(Counter)
        for table, char_table, part_table, pairs in (
            (true_tokens, chars, true_parts, true_pairs),
            (real_tokens, real_chars, real_parts, real_pairs),
        ):
            for noisy, clean in pairs:
                for clean_core, noisy_core in word_pairs(noisy, clean):
                    table[clean_core][noisy_core] += 1
                    for ch, out in char_pieces(clean_core, noisy_core):
                        char_table[ch][out] += 1
                    for part, out in part_pairs(clean_core, noisy_core):
                        part_table[part][out] += 1
        parts = {
            k: mix_distributions(true_parts.get(k, Counter()), real_parts.get(k, Counter()))
            for k in set(true_parts) | set(real_parts)
        }
        tokens = {}
        for key in set(true_tokens) | set(real_tokens):
            tokens[key] = mix_distributions(
                true_tokens.get(key, Counter()), real_tokens.get(key, Counter())
            )
        merged_chars = {
            k: dict(chars.get(k, Counter()) + real_chars.get(k, Counter()))
            for k in set(chars) | set(real_chars)
        }
        return cls(
            tokens,
            merged_chars,
            {k: dict(v) for k, v in real_chars.items()},
            real_char_share,
            parts,
            meta=meta or {},
        )

    # -- sampling ------------------------------------------------------------------------------
    def corrupt_word(self, core: str, rng: random.Random) -> str:
        """One OCR reading of a word core."""
        table = self._tokens.get(core)
        case_from = None
        if table is None:
            table = self._lower.get(core.lower())
            case_from = core
        if table is not None and rng.random() * (table.total + self.novelty) < table.total:
            if self.real_char_share and rng.random() < self.real_char_share:
                return self._by_chars(core, self._real_chars, rng)
            out = table.sample(rng)
            return transfer_case(case_from, out) if case_from else out
        return self._by_parts(core, rng) or self._by_chars(core, self._chars, rng)

    def _by_parts(self, core: str, rng: random.Random) -> str | None:
        """An unseen syllable read as onset reading + rhyme reading; None if a part is unseen."""
        if not self._parts or not is_valid_syllable(core):
            return None
        onset, rhyme = split_syllable(core)
        out = []
        for key in ("o:" + onset, "r:" + rhyme):
            table = self._parts.get(key)
            if table is not None:
                out.append(table.sample(rng))
                continue
            table = self._parts.get(key.lower())
            if table is None:
                return None
            out.append(transfer_case(key[2:], table.sample(rng)) if key[2:] else table.sample(rng))
        word = "".join(out)
        return word if word and not any(c.isspace() for c in word) else None

    def _by_chars(self, core: str, tables: dict[str, Table], rng: random.Random) -> str:
        pieces = []
        for ch in core:
            table = tables.get(ch) or tables.get(ch.lower())
            if table is None:
                pieces.append(strip_marks(ch))
                continue
            out = table.sample(rng)
            pieces.append(out.upper() if ch.isupper() and table is tables.get(ch.lower()) else out)
        word = "".join(pieces)
        return word if word and not any(c.isspace() for c in word) else strip_marks(core)

    def corrupt(self, line: str, rng: random.Random) -> str:
        """A noisy reading of a line with the same chunks; digits, codes, punctuation unchanged."""
        parts = []
        for chunk in split_chunks(line):
            core = self.corrupt_word(chunk.core, rng) if is_corruptible(chunk.core) else chunk.core
            parts.append(chunk.space_before + chunk.prefix + core + chunk.suffix)
        trailing = line[len(line.rstrip()) :] if line.strip() else line
        return "".join(parts) + trailing

    # -- persistence ---------------------------------------------------------------------------
    def to_json(self, path: Path) -> None:
        data = {
            "version": 1,
            "meta": self.meta,
            "novelty": self.novelty,
            "real_char_share": self.real_char_share,
            "tokens": self.tokens,
            "chars": self.chars,
            "real_chars": self.real_chars,
            "parts": self.parts,
        }
        atomic_write_text(path, json.dumps(data, ensure_ascii=False))

    @classmethod
    def from_json(cls, path: Path) -> NoiseChannel:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(
            tokens=data["tokens"],
            chars=data["chars"],
            real_chars=data.get("real_chars", {}),
            real_char_share=data.get("real_char_share", 0.0),
            parts=data.get("parts", {}),
            novelty=data.get("novelty", 1.0),
            meta=data.get("meta", {}),
        )


def mix_distributions(true: Counter, real: Counter) -> dict[str, float]:
    """Per-syllable mixture: the real share grows with the real count, up to REAL_LAMBDA_CAP."""
    n_true, n_real = sum(true.values()), sum(real.values())
    if not n_real:
        return {k: float(v) for k, v in true.items()}
    if not n_true:
        return {k: float(v) for k, v in real.items()}
    share = n_real / (n_real + REAL_PRIOR) * REAL_LAMBDA_CAP
    total = n_true + n_real  # keep the total count (it sets how often the char model is used)
    mixed: dict[str, float] = defaultdict(float)
    for k, v in true.items():
        mixed[k] += (1 - share) * v / n_true * total
    for k, v in real.items():
        mixed[k] += share * v / n_real * total
    return dict(mixed)


def strip_accents_line(line: str) -> str:
    """Text typed without marks: every diacritic removed, đ -> d."""
    return strip_marks(line)
