"""The learned OCR channel: log P(noisy | clean) of a chunk, from character-block confusions.

The channel is a table of character-block confusions (clean block -> noisy block, e.g. ư -> ir,
ủ -> ti, ộ -> 6, đ -> p) plus a token table (noisy token -> clean tokens), both estimated from
real pairs and true-channel (rendered + OCR'd) pairs by `ChannelModel.fit`. `MixtureChannel`
mixes the channels of several kinds of OCR; the shipped one is `models/lexicon/channel.json`.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz.distance import Levenshtein
from vanban.restore.decoder.lexicon import LEXICON_DIR, base_form

from vanban.core.text import normalize, split_chunks, strip_marks, strip_tone

CHANNEL_PATH = LEXICON_DIR / "channel.json"
MAX_BLOCK = 3  # longest block (either side) kept as one confusion event
MAX_SPLIT = 6  # longer unseen blocks (poor candidates anyway) back off to character edits

# Generic (backoff) probabilities for confusions never seen in training.
P_IDENTITY = 0.9
P_SAME_BASE = 0.02  # a vowel read with other marks, đ read as d
P_OTHER = 2e-4  # any other substitution, insertion or deletion of one character


# ---------------------------------------------------------------- alignment of pairs


def _core_distance(noisy: str, clean: str) -> float:
    return Levenshtein.normalized_distance(base_form(noisy), base_form(clean))


def align_cores(noisy: list[str], clean: list[str]) -> list[tuple[str, str]]:
    """Align two lines' chunk cores (DP with 1:1, 1:0, 0:1, 2:1, 1:2 steps); return 1:1 pairs."""
    n, m = len(noisy), len(clean)
    inf = float("inf")
    cost = [[inf] * (m + 1) for _ in range(n + 1)]
    back: list[list[tuple[int, int] | None]] = [[None] * (m + 1) for _ in range(n + 1)]
    cost[0][0] = 0.0
    for i in range(n + 1):
        for j in range(m + 1):
            c = cost[i][j]
            if c == inf:
                continue
            steps = [(1, 0, 1.0), (0, 1, 1.0)]
            if i < n and j < m:
                steps.append((1, 1, _core_distance(noisy[i], clean[j])))
            if i + 1 < n and j < m:
                steps.append((2, 1, 0.3 + _core_distance(noisy[i] + noisy[i + 1], clean[j])))
            if i < n and j + 1 < m:
                steps.append((1, 2, 0.3 + _core_distance(noisy[i], clean[j] + clean[j + 1])))
            for di, dj, step in steps:
                a, b = i + di, j + dj
                if a <= n and b <= m and c + step < cost[a][b]:
                    cost[a][b] = c + step
                    back[a][b] = (di, dj)
    pairs = []
    i, j = n, m
    while i or j:
        di, dj = back[i][j]
        if di == 1 and dj == 1:
            pairs.append((noisy[i - 1], clean[j - 1]))
        i, j = i - di, j - dj
    return pairs[::-1]


def token_pairs(noisy_lines: Iterable[str], clean_lines: Iterable[str]) -> list[tuple[str, str]]:
    """Aligned (noisy, clean) lowercase token pairs from line-aligned text."""
    pairs = []
    for noisy, clean in zip(noisy_lines, clean_lines, strict=False):
        n = [c.core for c in split_chunks(normalize(noisy).lower()) if c.core]
        g = [c.core for c in split_chunks(normalize(clean).lower()) if c.core]
        if n and g:
            pairs.extend(align_cores(n, g))
    return pairs


def blocks(clean: str, noisy: str) -> list[tuple[str, str]]:
    """Confusion events turning `clean` into `noisy`: single characters where they match or are
    substituted one for one, and merged blocks around insertions and deletions ('ủ' -> 'ti')."""
    events: list[tuple[str, str]] = []
    pending_c, pending_n = "", ""

    def flush():
        nonlocal pending_c, pending_n
        if pending_c or pending_n:
            if len(pending_c) == len(pending_n):
                events.extend(zip(pending_c, pending_n, strict=True))
            else:
                events.append((pending_c, pending_n))
            pending_c, pending_n = "", ""

    for op in Levenshtein.opcodes(clean, noisy):
        if op.tag == "equal":
            flush()
            events.extend((ch, ch) for ch in clean[op.src_start : op.src_end])
        else:
            pending_c += clean[op.src_start : op.src_end]
            pending_n += noisy[op.dest_start : op.dest_end]
    flush()
    return events


# ---------------------------------------------------------------- the channel


def _generic_prob(clean: str, noisy: str) -> float:
    """Backoff probability of an unseen block, built from single-character edits."""
    if clean == noisy:
        return P_IDENTITY ** len(clean)
    if len(clean) == 1 and len(noisy) == 1:
        return P_SAME_BASE if strip_marks(clean) == strip_marks(noisy) else P_OTHER
    prob = 1.0
    for a, b in zip(clean, noisy, strict=False):
        prob *= _generic_prob(a, b)
    return prob * P_OTHER ** abs(len(clean) - len(noisy))


@dataclass
class ChannelModel:
    """Learned block confusions and token table: log P(noisy | clean)."""

    block_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    source_counts: dict[str, int] = field(default_factory=dict)
    token_table: dict[str, dict[str, int]] = field(default_factory=dict)
    prior_weight: float = 2.0  # pseudo-count of the generic backoff

    @classmethod
    def fit(
        cls, pairs: Iterable[tuple[str, str]], weight: int = 1, into: ChannelModel | None = None
    ) -> ChannelModel:
        """Add (noisy, clean) token pairs, each counted `weight` times."""
        model = into or cls()
        blocks_ = defaultdict(Counter, {k: Counter(v) for k, v in model.block_counts.items()})
        sources = Counter(model.source_counts)
        table = defaultdict(Counter, {k: Counter(v) for k, v in model.token_table.items()})
        pair_list = [(n, c) for n, c in pairs if n and c]
        for noisy, clean in pair_list:
            table[noisy][clean] += weight
            for c_block, n_block in blocks(clean, noisy):
                if len(c_block) <= MAX_BLOCK and len(n_block) <= MAX_BLOCK:
                    blocks_[c_block][n_block] += weight
        for _, clean in pair_list:
            sources[""] += weight * (len(clean) + 1)  # insertion opportunities
            for width in range(1, MAX_BLOCK + 1):
                for i in range(len(clean) - width + 1):
                    piece = clean[i : i + width]
                    if width == 1 or piece in blocks_:
                        sources[piece] += weight
        model.block_counts = {k: dict(v) for k, v in blocks_.items()}
        model.source_counts = dict(sources)
        model.token_table = {k: dict(v) for k, v in table.items()}
        model.clear_cache()
        return model

    # -- persistence
    def to_dict(self, min_token_count: int = 2) -> dict:
        """JSON-ready parameters; token-table entries seen fewer than `min_token_count` times
        are dropped (the block table still covers them)."""
        table = {}
        for noisy, cleans in self.token_table.items():
            kept = {c: n for c, n in cleans.items() if n >= min_token_count}
            if kept:
                table[noisy] = kept
        return {"prior_weight": self.prior_weight, "block_counts": self.block_counts,
                "source_counts": self.source_counts, "token_table": table}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict) -> ChannelModel:
        return cls(data["block_counts"], data["source_counts"], data["token_table"],
                   data.get("prior_weight", 2.0))  # fmt: skip

    # -- scoring
    def __post_init__(self) -> None:
        self._log_cache: dict[tuple[str, str], float] = {}

    def clear_cache(self) -> None:
        """Forget the scores computed from the counts before they changed."""
        self._log_cache = {}
        self.__dict__.pop("_block_cache", None)
        self.__dict__.pop("_classes", None)

    def block_logprob(self, clean: str, noisy: str) -> float:
        return math.log(min(self._block_prob(clean, noisy), 1.0))

    def _block_prob(self, clean: str, noisy: str) -> float:
        cache = self.__dict__.setdefault("_block_cache", {})
        key = (clean, noisy)
        if key not in cache:
            cache[key] = self._estimate(clean, noisy)
        return cache[key]

    def _estimate(self, clean: str, noisy: str) -> float:
        """Seen counts, smoothed towards the same block with any tone (OCR that cannot see the
        tone confuses ủ, ú, ù alike), smoothed towards a split into smaller known blocks."""
        alpha = self.prior_weight
        classes = self.__dict__.get("_classes")
        if classes is None:
            classes = self._tone_classes()
        tone_free = strip_tone(clean)
        c_seen, c_total = classes[0].get((tone_free, noisy), 0), classes[1].get(tone_free, 0)
        class_prob = (c_seen + alpha * self._split_prob(clean, noisy)) / (c_total + alpha)
        seen = self.block_counts.get(clean, {}).get(noisy, 0)
        total = self.source_counts.get(clean, 0)
        return (seen + alpha * class_prob) / (total + alpha)

    def _tone_classes(self) -> tuple[dict, dict]:
        seen: Counter = Counter()
        total: Counter = Counter()
        for c_block, targets in self.block_counts.items():
            for n_block, count in targets.items():
                seen[(strip_tone(c_block), n_block)] += count
        for c_block, count in self.source_counts.items():
            total[strip_tone(c_block)] += count
        self.__dict__["_classes"] = (dict(seen), dict(total))
        return self.__dict__["_classes"]

    def _split_prob(self, clean: str, noisy: str) -> float:
        """Best split of a block into single-character edits and smaller learned blocks."""
        if len(clean) + len(noisy) <= 2 or len(clean) + len(noisy) > MAX_SPLIT:
            return _generic_prob(clean, noisy)
        n, m = len(clean), len(noisy)
        best = [[0.0] * (m + 1) for _ in range(n + 1)]
        best[0][0] = 1.0
        for i in range(n + 1):
            for j in range(m + 1):
                here = best[i][j]
                if not here:
                    continue
                for a in range(0, min(2, n - i) + 1):
                    for b in range(0, min(2, m - j) + 1):
                        if (a, b) == (0, 0) or (a == n and b == m):
                            continue
                        piece_c, piece_n = clean[i : i + a], noisy[j : j + b]
                        if a + b > 2 and piece_n not in self.block_counts.get(piece_c, {}):
                            continue
                        p = here * self._block_prob(piece_c, piece_n)
                        if p > best[i + a][j + b]:
                            best[i + a][j + b] = p
        return best[n][m] or _generic_prob(clean, noisy)

    def logprob(self, noisy: str, clean: str) -> float:
        """log P(noisy | clean) for lowercase tokens, summed over the confusion blocks."""
        return self.blocks_logprob(blocks(clean, noisy))

    def blocks_logprob(self, events: list[tuple[str, str]]) -> float:
        cache = self._log_cache
        total = 0.0
        for event in events:
            logp = cache.get(event)
            if logp is None:
                logp = cache[event] = self.block_logprob(*event)
            total += logp
        return total

    def rewrites(self, min_count: int = 2) -> dict[str, set[str]]:
        """Noisy block -> mark-stripped clean blocks it was seen for (for candidate search)."""
        rules: dict[str, set[str]] = defaultdict(set)
        for c_block, targets in self.block_counts.items():
            for n_block, count in targets.items():
                if count < min_count or not n_block:
                    continue
                src, dst = strip_marks(n_block), strip_marks(c_block)
                if src != dst:
                    rules[n_block].add(dst)
        return dict(rules)


class MixtureChannel:
    """Several OCR channels mixed per token: log sum_k w_k P_k(noisy | clean).

    `eng` (legacy scans: marks lost, ộ -> 6, ư -> ir, đ -> P), `vie` (fresh scans: mostly right),
    and `strip` (text typed without marks: noisy == clean with every mark removed)."""

    def __init__(self, channels: dict[str, ChannelModel], weights: dict[str, float]):
        self.channels = channels
        self.weights = weights
        self._log_weights = {k: math.log(w) for k, w in weights.items() if w > 0}
        merged: dict[str, Counter] = defaultdict(Counter)
        for channel in self._weighted():
            for noisy, cleans in channel.token_table.items():
                merged[noisy].update(cleans)
        self.token_table = {k: dict(v) for k, v in merged.items()}

    def _weighted(self) -> list[ChannelModel]:
        return [c for name, c in self.channels.items() if name in self._log_weights]

    def capitals_weights(self) -> dict[str, float]:
        """These weights with CAPITALS_SHARE of each moved to the channel fitted on text printed
        in capitals ("eng_caps" for "eng"), where there is one: a word in capitals was read by
        either. The rest keeps what only the ordinary channel knows (real scans' Đ -> P)."""
        weights: dict[str, float] = {}
        for name, weight in self.weights.items():
            if f"{name}_caps" in self.channels:
                weights[f"{name}_caps"] = CAPITALS_SHARE * weight
                weight *= 1 - CAPITALS_SHARE
            weights[name] = weight
        return weights

    def logprob(self, noisy: str, clean: str) -> float:
        events = blocks(clean, noisy)
        terms = [
            self._log_weights[name] + channel.blocks_logprob(events)
            for name, channel in self.channels.items()
            if name in self._log_weights
        ]
        if "strip" in self._log_weights and noisy == base_form(clean):
            terms.append(self._log_weights["strip"])
        top = max(terms)
        return top + math.log(sum(math.exp(t - top) for t in terms))

    def rewrites(self) -> dict[str, set[str]]:
        rules: dict[str, set[str]] = defaultdict(set)
        for channel in self._weighted():
            for src, dsts in channel.rewrites().items():
                rules[src] |= dsts
        return dict(rules)

    def save(self, path: Path = CHANNEL_PATH) -> None:
        data = {"weights": self.weights,
                "channels": {k: c.to_dict() for k, c in self.channels.items()}}  # fmt: skip
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path = CHANNEL_PATH) -> MixtureChannel:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        channels = {k: ChannelModel.from_dict(v) for k, v in data["channels"].items()}
        return cls(channels, data["weights"])


DEFAULT_WEIGHTS = {"eng": 0.55, "vie": 0.35, "strip": 0.1}
CAPITALS_SHARE = 0.8  # of a channel's weight, for words in capitals, on its capitals channel
