"""Candidate syllables for a noisy OCR chunk, each with its channel score.

Candidates come from the channel's token table, from inventory entries whose mark-stripped form
equals the noisy token after zero, one or two learned rewrites, and from a fuzzy search over
those stripped forms.
"""

from __future__ import annotations

import math
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from vanban.restore.decoder.channel import ChannelModel, MixtureChannel
from vanban.restore.decoder.lexicon import LEXICON_DIR, base_form, load_inventory
from vanban.restore.profile import Profile

from vanban.core.text import normalize, strip_marks

_strip = lru_cache(maxsize=1_000_000)(strip_marks)


def clear_caches() -> None:
    """Forget the module's cached mark-stripped forms (restore.api.release_memory)."""
    _strip.cache_clear()


class CandidateGenerator:
    """Lowercase inventory entries for a noisy chunk core, with log P(noisy | candidate)."""

    def __init__(self, inventory: dict[str, int], channel: MixtureChannel | ChannelModel,
                 prior_weight: float = 0.6,
                 fuzzy_distance: int = 2, min_found: int = 24, max_scored: int = 48):  # fmt: skip
        self.inventory = inventory
        self.channel = channel
        self.prior_weight = prior_weight
        self.fuzzy_distance = fuzzy_distance
        self.min_found = min_found
        self.max_scored = max_scored
        total = sum(inventory.values()) + len(inventory)
        self.log_prior = {t: math.log((n + 1) / total) for t, n in inventory.items()}
        self.by_base: dict[str, list[str]] = defaultdict(list)
        for token in inventory:
            self.by_base[base_form(token)].append(token)
        self.bases = list(self.by_base)
        self.rules = channel.rewrites()
        self.stripped_rules = {k: {_strip(d) for d in v} for k, v in self.rules.items()}
        self.max_rule = max((len(k) for k in self.rules), default=1)
        self._rewrite_cache: dict[str, frozenset[str]] = {}
        self.candidates = lru_cache(maxsize=200_000)(self._candidates)

    def for_profile(self, profile: Profile) -> CandidateGenerator:
        """A generator sharing this one's tables, with the channel weights of `profile`."""
        if not isinstance(self.channel, MixtureChannel):
            return self
        return self._sibling(profile.name, dict(profile.channel_weights))

    def for_capitals(self) -> CandidateGenerator:
        """A generator for words printed in capitals: OCR misreads their marks more often
        (the marks are squeezed above the letter), and in other ways."""
        if not isinstance(self.channel, MixtureChannel):
            return self
        return self._sibling("capitals", self.channel.capitals_weights())

    def _sibling(self, key: str, weights: dict[str, float]) -> CandidateGenerator:
        siblings = self.__dict__.setdefault("_siblings", {})
        if key not in siblings:
            if weights == self.channel.weights:
                siblings[key] = self
            else:
                mixture = MixtureChannel(self.channel.channels, weights)
                siblings[key] = CandidateGenerator(
                    self.inventory, mixture, self.prior_weight, self.fuzzy_distance,
                    self.min_found, self.max_scored,
                )  # fmt: skip
        return siblings[key]

    @classmethod
    def load(cls, lexicon_dir: Path = LEXICON_DIR, **kw) -> CandidateGenerator:
        return cls(load_inventory(lexicon_dir / "syllables.tsv"),
                   MixtureChannel.load(lexicon_dir / "channel.json"), **kw)  # fmt: skip

    def _variants(self, noisy: str) -> set[str]:
        """Mark-stripped forms reachable from `noisy` with up to two learned rewrites."""
        first = {_strip(noisy)} | self._rewrite_once(noisy)
        second: set[str] = set()
        for v in list(first):
            second |= self._rewrite_once(v)
        return first | {_strip(v) for v in second}

    def _rewrite_once(self, text: str) -> frozenset[str]:
        cache = self._rewrite_cache
        if text not in cache:
            if len(cache) > 500_000:
                cache.clear()
            cache[text] = self._rewrite_once_uncached(text)
        return cache[text]

    def _rewrite_once_uncached(self, text: str) -> frozenset[str]:
        """Mark-stripped forms of `text` with one learned rewrite. Stripping works letter by
        letter, so the stripped text around a rewrite is computed once per position."""
        out = set()
        n = len(text)
        heads = [_strip(text[:i]) for i in range(n + 1)]
        tails = [_strip(text[i:]) for i in range(n + 1)]
        for i in range(n):
            for end in range(i + 1, min(i + self.max_rule, n) + 1):
                for dst in self.stripped_rules.get(text[i:end], ()):
                    out.add(heads[i] + dst + tails[end])
        return frozenset(out)

    def _gather(self, noisy: str) -> tuple[set[str], set[str]]:
        """(sure, other): token-table entries and same-base entries are always scored; the
        others (rewrites, fuzzy matches) only the `max_scored` nearest and most frequent."""
        stripped = _strip(noisy)
        sure = {c for c in self.channel.token_table.get(noisy, ()) if c in self.inventory}
        if noisy in self.inventory:
            sure.add(noisy)
        sure.update(self.by_base.get(stripped, ()))
        other: set[str] = set()
        for base in self._variants(noisy):
            other.update(self.by_base.get(base, ()))
        for limit in range(1, self.fuzzy_distance + 1):
            if limit > 1 and (len(sure) + len(other) >= self.min_found or len(noisy) < 4):
                break
            near = process.extract(
                stripped, self.bases, scorer=Levenshtein.distance, score_cutoff=limit, limit=None
            )
            for base, _, _ in near:
                other.update(self.by_base[base])
        return sure, other - sure

    def _candidates(self, noisy_core: str, k: int = 24) -> list[tuple[str, float]]:
        noisy = normalize(noisy_core).lower()
        if not noisy:
            return []
        sure, other = self._gather(noisy)
        if len(other) > self.max_scored:
            stripped = _strip(noisy)
            distance = {b: Levenshtein.distance(stripped, b) for b in {_strip(c) for c in other}}
            prior = self.log_prior
            cheap = sorted(
                other, key=lambda c: 2.0 * distance[_strip(c)] - self.prior_weight * prior[c]
            )
            other = set(cheap[: self.max_scored])
        scored = []
        for cand in sure | other:
            channel = self.channel.logprob(noisy, cand)
            scored.append((channel + self.prior_weight * self.log_prior[cand], cand, channel))
        scored.sort(reverse=True)
        return [(cand, channel) for _, cand, channel in scored[:k]]
