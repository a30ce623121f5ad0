"""The syllable n-gram LM: uni- to 4-gram counts of lowercase chunk cores of clean text.

Numbers and codes share one class token (`<num>`). Scores are stupid backoff, or interpolated
absolute discounting once `use_discounting` is called; both are vectorized over arrays of ids.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterable
from itertools import islice
from pathlib import Path

import numpy as np
from vanban.restore.decoder.lexicon import load_inventory
from vanban.restore.network.features import is_passthrough

from vanban.core.files import data_dir
from vanban.core.text import PUNCTUATION, normalize

NGRAM_DIR = data_dir() / "ngram"
SPECIALS = ["<s>", "<unk>", "<num>"]
BOS, UNK, NUM = 0, 1, 2
BACKOFF = math.log(0.4)
_STRIP = "".join(PUNCTUATION)


class NgramLM:
    """Uni- to 4-gram counts in sorted int64 key arrays; stupid-backoff or discounted log
    scores, vectorized over arrays of token ids."""

    def __init__(
        self, vocab: list[str], uni: np.ndarray, bi: tuple, tri: tuple, quad: tuple | None = None
    ):
        self.vocab = vocab
        self.index = {t: i for i, t in enumerate(vocab)}
        self.size = len(vocab)
        self.uni = uni
        self.bi_keys, self.bi_counts = bi
        self.tri_keys, self.tri_counts = tri
        self.quad_keys, self.quad_counts = quad if quad is not None else (None, None)
        self.order = 4 if quad is not None else 3
        self.backoff = BACKOFF  # log of stupid backoff's factor
        self.total = float(uni.sum())
        self.discounts: tuple[float, ...] = ()  # set by use_discounting(); empty: stupid backoff
        self._levels: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # use_discounting

    # -- building
    def token_id(self, core: str) -> int:
        return core_token_id(self.index, core)

    @classmethod
    def train(
        cls, lines: Iterable[str], vocab: list[str], min_trigram: int = 2, order: int = 3,
        min_fourgram: int | None = None,
    ) -> NgramLM:  # fmt: skip
        """Count a token stream; trigrams and 4-grams seen fewer than `min_trigram` /
        `min_fourgram` (default: the same) times are pruned."""
        index = {t: i for i, t in enumerate(vocab)}
        size = len(vocab)
        cache: dict[str, int] = {}
        stream: list[int] = [BOS, BOS]
        for line in lines:
            words = line.split()
            if not words:
                stream += [BOS, BOS]
                continue
            for word in words:
                tid = cache.get(word)
                if tid is None:
                    tid = cache[word] = core_token_id(index, word.strip(_STRIP))
                stream.append(tid)
        ids = np.asarray(stream, dtype=np.int64)
        uni = np.bincount(ids, minlength=size).astype(np.int64)
        bi_keys, bi_counts = np.unique(ids[:-1] * size + ids[1:], return_counts=True)
        tri = (ids[:-2] * size + ids[1:-1]) * size + ids[2:]
        tri_keys, tri_counts = np.unique(tri, return_counts=True)
        keep = tri_counts >= min_trigram
        quad = None
        if order >= 4:
            del tri
            four = ((ids[:-3] * size + ids[1:-2]) * size + ids[2:-1]) * size + ids[3:]
            quad_keys, quad_counts = np.unique(four, return_counts=True)
            del four
            kept = quad_counts >= (min_fourgram or min_trigram)
            quad = (quad_keys[kept], quad_counts[kept])
        return cls(vocab, uni, (bi_keys, bi_counts), (tri_keys[keep], tri_counts[keep]), quad)

    def save(self, directory: Path = NGRAM_DIR) -> None:
        """Write `lm.npz` (compressed). Trigram and 4-gram keys are stored as the step to their
        context's row in the table one order down plus the last word (uint32 + uint16 instead of
        int64: about 40% smaller); `load` rebuilds the int64 keys."""
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, suffix=".npz")
        os.close(fd)
        counts = np.uint32  # counts fit in 32 bits
        arrays = {
            "vocab": np.array(self.vocab),
            "uni": self.uni.astype(counts),
            "bi_keys": self.bi_keys,
            "bi_counts": self.bi_counts.astype(counts),
        }
        lower = self.bi_keys
        for name, keys, table_counts in (("tri", self.tri_keys, self.tri_counts),
                                         ("quad", self.quad_keys, self.quad_counts)):  # fmt: skip
            if keys is None:
                continue
            arrays |= _compact_keys(name, keys, lower, self.size)
            arrays[f"{name}_counts"] = table_counts.astype(counts)
            lower = keys
        np.savez_compressed(tmp, **arrays)
        os.replace(tmp, directory / "lm.npz")

    @classmethod
    def load(cls, directory: Path = NGRAM_DIR) -> NgramLM:
        data = np.load(directory / "lm.npz")
        vocab = [str(t) for t in data["vocab"]]
        size = len(vocab)
        bigrams = (data["bi_keys"], data["bi_counts"])
        tri_keys = _expand_keys(data, "tri", data["bi_keys"], size)
        quad = None
        if "quad_counts" in data:
            quad = (_expand_keys(data, "quad", tri_keys, size), data["quad_counts"])
        return cls(vocab, data["uni"], bigrams, (tri_keys, data["tri_counts"]), quad)

    # -- scoring
    @staticmethod
    def _lookup(keys: np.ndarray, counts: np.ndarray, query: np.ndarray) -> np.ndarray:
        pos = _search(keys, query)
        return np.where(keys[pos] == query, counts[pos], 0).astype(np.float64)

    def logscore(self, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Stupid-backoff log S(w | u v) for arrays of ids."""
        size = self.size
        uni = np.log((self.uni[w] + 1.0) / (self.total + size))
        c_vw = self._lookup(self.bi_keys, self.bi_counts, v * size + w)
        c_v = self.uni[v].astype(np.float64)
        back = self.backoff
        bi = np.where(c_vw > 0, np.log(np.maximum(c_vw, 1) / np.maximum(c_v, 1)), back + uni)
        c_uvw = self._lookup(self.tri_keys, self.tri_counts, (u * size + v) * size + w)
        c_uv = self._lookup(self.bi_keys, self.bi_counts, u * size + v)
        return np.where(c_uvw > 0, np.log(np.maximum(c_uvw, 1) / np.maximum(c_uv, 1)), back + bi)

    def use_discounting(self, discounts: tuple[float, ...] = (0.75, 0.8, 0.9)) -> None:
        """Score with interpolated absolute discounting (one discount per order from bigrams
        up) instead of stupid backoff: a normalized distribution, where each context keeps for
        the lower order the mass of its pruned continuations plus D x its distinct ones.
        Precomputes, per order, max(c - D, 0) of each n-gram and, per context, 1 / c and the
        weight of the lower order."""
        self.discounts = tuple(discounts)
        grams = [(self.bi_keys, self.bi_counts), (self.tri_keys, self.tri_counts),
                 (self.quad_keys, self.quad_counts)][: self.order - 1]  # fmt: skip
        contexts = [(np.arange(self.size), self.uni), (self.bi_keys, self.bi_counts),
                    (self.tri_keys, self.tri_counts)]  # fmt: skip
        self._levels = []
        for (keys, counts), (context_keys, context_counts), d in zip(
            grams, contexts, self.discounts, strict=False
        ):
            distinct, kept = _context_stats(keys, counts, self.size, context_keys)
            # float32 tables built in place: these arrays have millions of rows
            inverse = np.maximum(context_counts, 1).astype(np.float32)
            np.reciprocal(inverse, out=inverse)
            lower = np.asarray(distinct, dtype=np.float32) * np.float32(d)
            lower += context_counts
            lower -= kept
            lower *= inverse
            lower[context_counts == 0] = 1.0
            discounted = counts.astype(np.float32)
            discounted -= d
            np.maximum(discounted, 0.0, out=discounted)
            self._levels.append((discounted, inverse, lower))

    def _discounted(self, t, u, v, w) -> np.ndarray:
        """Interpolated absolute discounting, all queries of a table in one searchsorted."""
        size, n = self.size, len(w)
        p = (self.uni[w] + 1.0) / (self.total + size)
        uv = u * size + v
        tuv = t * (size * size) + uv
        tables = [
            (self.bi_keys, [v * size + w, uv]),
            (self.tri_keys, [uv * size + w, tuv]),
            (self.quad_keys, [tuv * size + w]),
        ][: self.order - 1]
        found = []
        for keys, queries in tables:
            query = np.concatenate(queries)
            pos = _search(keys, query)
            found.append((pos, keys[pos] == query))
        contexts = [(v, None)] + [(pos[n:], hit[n:]) for pos, hit in found[:-1]]
        for (discounted, inverse, lower), (gram_pos, gram_hit), (pos, hit) in zip(
            self._levels, found, contexts, strict=False
        ):
            gram = np.where(gram_hit[:n], discounted[gram_pos[:n]], 0.0)
            if hit is None:  # unigram contexts: the vocabulary index itself
                p = gram * inverse[pos] + lower[pos] * p
            else:  # an unseen context has no n-gram either: the lower order alone
                p = np.where(hit, gram * inverse[pos] + lower[pos] * p, p)
        return np.log(np.maximum(p, 1e-30))

    def logscore_grid(
        self, t: np.ndarray, u: np.ndarray, v: np.ndarray, w: np.ndarray
    ) -> np.ndarray:
        """log P(w_j | t_i u_i v_i) for every context i and word j: [len(t), len(w)]. With
        discounting, each context is looked up once rather than once per word."""
        if not self.discounts:
            n = len(w)
            tiled = np.tile(w, len(t))
            scores = self.logscore4(np.repeat(t, n), np.repeat(u, n), np.repeat(v, n), tiled)
            return scores.reshape(len(t), n)
        size = self.size
        p = np.broadcast_to((self.uni[w] + 1.0) / (self.total + size), (len(t), len(w)))
        uv = u * size + v
        tuv = t * (size * size) + uv
        # each table: the n-grams ending in w, and the contexts of the next order up
        tables = [(self.bi_keys, v, uv), (self.tri_keys, uv, tuv), (self.quad_keys, tuv, None)]
        context: tuple[np.ndarray, np.ndarray] | None = None  # unigram contexts: v itself
        for (keys, head, above), (discounted, inverse, lower) in zip(
            tables, self._levels, strict=False
        ):
            grams = (head[:, None] * size + w[None, :]).ravel()
            query = grams if above is None else np.concatenate([grams, above])
            pos = _search(keys, query)
            hit = keys[pos] == query
            n = len(grams)
            gram = np.where(hit[:n], discounted[pos[:n]], 0.0).reshape(p.shape)
            if context is None:
                at = v[:, None]
                p = gram * inverse[at] + lower[at] * p
            else:  # an unseen context has no n-gram either: the lower order alone
                at, seen = context
                p = np.where(seen, gram * inverse[at] + lower[at] * p, p)
            context = (pos[n:, None], hit[n:, None])
        return np.log(np.maximum(p, 1e-30))

    def logscore4(self, t: np.ndarray, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
        """log P(w | t u v) by discounting when set, else stupid-backoff log S(w | t u v);
        the trigram score when the LM has no 4-grams."""
        if self.discounts:
            return self._discounted(t, u, v, w)
        tri = self.logscore(u, v, w)
        if self.quad_keys is None:
            return tri
        size = self.size
        tuv = (t * size + u) * size + v
        c_tuvw = self._lookup(self.quad_keys, self.quad_counts, tuv * size + w)
        c_tuv = self._lookup(self.tri_keys, self.tri_counts, tuv)
        found = np.log(np.maximum(c_tuvw, 1) / np.maximum(c_tuv, 1))
        return np.where((c_tuvw > 0) & (c_tuv > 0), found, self.backoff + tri)


SORTED_SEARCH_FROM = 2048  # queries; below it, sorting costs more than it saves


def _search(keys: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Where each query is or would be in the sorted `keys` (clipped to the last row). Many
    queries (the confidence pass) are searched in sorted order: neighbouring searches then share
    their path through the table's memory, several times faster on tables of millions of rows."""
    if len(query) < SORTED_SEARCH_FROM:
        return np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    order = np.argsort(query, kind="stable")
    pos = np.empty(len(query), dtype=np.int64)
    pos[order] = np.searchsorted(keys, query[order])
    return np.minimum(pos, len(keys) - 1)


def _compact_keys(name: str, keys: np.ndarray, lower: np.ndarray, size: int) -> dict:
    """n-gram keys as (step to the context's row in `lower`, last word), or as they are when
    some context is missing from `lower` (pruned harder than this order) or ids need > 16 bits."""
    context = keys // size
    rows = np.searchsorted(lower, context)
    found = (rows < len(lower)).all() and (lower[np.minimum(rows, len(lower) - 1)] == context).all()
    if not found or size > 2**16:
        return {f"{name}_keys": keys}
    return {
        f"{name}_context_step": np.diff(rows, prepend=0).astype(np.uint32),
        f"{name}_word": (keys % size).astype(np.uint16),
    }


def _expand_keys(data, name: str, lower: np.ndarray, size: int) -> np.ndarray:
    """The int64 keys `_compact_keys` stored (older files hold them as they are)."""
    if f"{name}_keys" in data:
        return data[f"{name}_keys"]
    rows = np.cumsum(data[f"{name}_context_step"], dtype=np.int64)
    return lower[rows] * size + data[f"{name}_word"].astype(np.int64)


def _context_stats(
    keys: np.ndarray, counts: np.ndarray, size: int, context_keys: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each row of `context_keys` (the sorted table one order down): how many distinct
    continuations it has among the n-grams `keys` (sorted, so each context's n-grams form one
    run) and their summed counts. Contexts missing from the table (pruned harder) are skipped."""
    distinct, kept = np.zeros(len(context_keys)), np.zeros(len(context_keys))
    if not len(keys):
        return distinct, kept
    context = keys // size
    starts = np.flatnonzero(np.diff(context, prepend=-1))
    contexts = context[starts]
    rows = np.minimum(np.searchsorted(context_keys, contexts), len(context_keys) - 1)
    found = context_keys[rows] == contexts
    distinct[rows[found]] = np.diff(starts, append=len(context))[found]
    kept[rows[found]] = np.add.reduceat(counts, starts)[found]
    return distinct, kept


def core_token_id(index: dict[str, int], core: str) -> int:
    """LM id of a chunk core: its lowercase form, `<num>` for pass-through cores, else `<unk>`."""
    if not core:
        return UNK
    low = normalize(core).lower()
    tid = index.get(low)
    if tid is not None:
        return tid
    return NUM if is_passthrough(core) else UNK


def train_lm(
    clean_path: Path, max_lines: int, directory: Path = NGRAM_DIR, order: int = 3,
    min_trigram: int = 2, min_fourgram: int = 2,
) -> NgramLM:  # fmt: skip
    """Train the n-gram LM on the first `max_lines` lines of a clean text file and save it."""
    vocab = SPECIALS + sorted(load_inventory())
    with clean_path.open(encoding="utf-8") as f:
        lm = NgramLM.train(islice(f, max_lines), vocab, min_trigram, order, min_fourgram)
    lm.save(directory)
    return lm
