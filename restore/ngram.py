"""The n-gram decoder: syllable LM + learned channel + beam search over per-chunk candidates.

The LM counts lowercase chunk cores (numbers and codes share one class token) of clean text. As
the non-neural baseline it is a trigram with stupid backoff (`$VANBAN_DATA/ngram/`, not shipped);
inside the shipped restorer (`restore.hybrid`) it is the 4-gram of `models/restorer/lm.npz`
with interpolated absolute discounting. Decoding runs over the whole input as one stream (context
crosses line breaks; an empty line resets it), then puts each choice back on its own line: one
output line per input line, pass-through chunks unchanged.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import numpy as np
import regex
from vanban.restore.candidates import CandidateGenerator, channel_profile
from vanban.restore.code_repair import FLAGGED, repair_ocr_code
from vanban.restore.codes import repair_code
from vanban.restore.digit_words import DigitWords, running_digit
from vanban.restore.digits import NUMBER, in_word_context
from vanban.restore.features import apply_case, is_passthrough
from vanban.restore.lexicon import load_inventory
from vanban.restore.numerals import CERTAINTY, read_document

from vanban.core.files import data_dir
from vanban.core.records import RestoredLine, RestoredToken
from vanban.core.text import (
    PUNCTUATION,
    Chunk,
    is_valid_syllable,
    normalize,
    split_chunks,
    strip_tone,
)

NGRAM_DIR = data_dir() / "ngram"
SPECIALS = ["<s>", "<unk>", "<num>"]
BOS, UNK, NUM = 0, 1, 2
BACKOFF = math.log(0.4)
SENTENCE_END = set(".:!?")
STRAY_MARKS = set("ˆ˜`´¨˚˙ˇ˘")
HORN_MARKS = ("?", "’", "'")  # what eng OCR prints for the horn of ư/ơ at a word's end
LIST_MARKER_MISREADS = {"¢": "c", "©": "c"}  # "¢) Xây dựng" is item c), not "để)"
# Letters that are not Vietnamese, as the letters OCR misread: the Icelandic eth for the look-alike
# Đ, and Tesseract vie's "ø" for g (every one of its "ø" in the true vie training pairs is a g).
_LOOKALIKES = str.maketrans("Ððø", "Đđg")
VIE_KEEP_BONUS = 5.0  # fresh vie OCR: a word outside the inventory is more often a real name
_STRIP = "".join(PUNCTUATION)
# Marks that separate words run together; not ' ’ ? ! *, which eng OCR prints for ư/ơ horns
# and letters ("nu’éc" is "nước", "chi?c" is "chức").
WORD_SEPARATORS = set('.,;:()[]/-–…"“”')
_PIECE_RE = regex.compile(r"\p{L}+|[^\p{L}]+")
_WEB_RE = regex.compile(  # URLs, e-mail addresses, file names
    r"(?i)https?:|www|@|\.(?:vn|com|org|net|gov|edu|info|int|docx?|pdf|xlsx?|pptx?|txt|rtf|odt"
    r"|jpe?g|png|zip|rar|xml|html?)$"
)


def joined_pieces(core: str) -> list[str] | None:
    """Words run together around punctuation, split into letter runs and separators:
    'luat.Dieu' -> ['luat', '.', 'Dieu'], 'Quan/Huyen' -> ['Quan', '/', 'Huyen']. None when the
    core is one word, or has digits, noise symbols or the look of a URL (those pass unchanged)."""
    if any(ch.isdigit() for ch in core) or _WEB_RE.search(core):
        return None
    pieces = _PIECE_RE.findall(core)
    if len(pieces) < 3 or not pieces[0][0].isalpha() or not pieces[-1][0].isalpha():
        return None
    if any(ch not in WORD_SEPARATORS for sep in pieces[1::2] for ch in sep):
        return None
    return pieces if any(restorable_piece(w) for w in pieces[::2]) else None


def restorable_piece(word: str) -> bool:
    """A letter run of a joined chunk that may change: two letters or more, not all capitals
    (capital runs there are codes: V.TO, CCCD/CC)."""
    return len(word) > 1 and not word.isupper()


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
        return _token_id(self.index, core)

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
                    tid = cache[word] = _token_id(index, word.strip(_STRIP))
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
            # float32 tables built in place: these arrays have millions of rows, and fresh
            # float64 temporaries made loading slow
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


def is_heading(line: str) -> bool:
    """A line whose words are mostly in capitals (document headers, section titles)."""
    words = [w for w in regex.findall(r"\p{L}{2,}", line)]
    return bool(words) and sum(w.isupper() for w in words) * 2 > len(words)


def misread_capital(noisy: str, word: str) -> bool:
    """Eng OCR reads a lowercase ư as U and l as I: 'Ung' for 'ứng', 'Iuc' for 'lực'."""
    if len(noisy) < 2 or not noisy[1:].islower():
        return False
    first = strip_tone(word[:1])
    return (noisy[0] == "U" and first == "ư") or (noisy[0] == "I" and first == "l")


def is_fixed(core: str) -> bool:
    """Pass-through cores, except short runs of OCR noise symbols ('&' is often 'ở', '¢' 'để')."""
    if not is_passthrough(core):
        return False
    return any(ch.isalnum() for ch in core) or len(core) > 2


def as_read(line: str) -> str:
    """The line with letters that are not Vietnamese (Ð, ð, ø) as the letters OCR misread."""
    return line.translate(_LOOKALIKES)


def list_label(read: str, previous: str, following: str = "") -> str:
    """The item label of a line read as `read` after the label `previous` ("" when none in this
    list) and before an item read as `following` ("" when none): OCR confuses d) and đ), so the
    alphabetical order a) b) c) d) đ) e) decides. An đ) after c) is a d) only when another đ)
    follows: a list can skip d) (a repealed point), and in the true vie training pages c) đ) e)
    was right 2 times of 2, c) đ) đ) a misread d) 6 of 6, and c) đ) at a list's end 2 of 6."""
    label = LIST_MARKER_MISREADS.get(read, read)
    if label == "d" and previous == "d":  # eng OCR drops the bar
        return "đ"
    if label == "đ" and previous == "c" and following == "đ":  # vie OCR adds one
        return "d"
    return label


def following_labels(lines: list[str], chunked: list[list[Chunk]]) -> dict[int, str]:
    """Line of each item label -> the next item label of its list as read ("" when none)."""
    following: dict[int, str] = {}
    upcoming = ""
    for i in range(len(lines) - 1, -1, -1):
        chunks = chunked[i]
        if chunks and is_list_marker(chunks[0]):
            following[i] = upcoming
            upcoming = LIST_MARKER_MISREADS.get(chunks[0].core, chunks[0].core)
        if ends_list(lines[i]):
            upcoming = ""
    return following


_HIGHER_LABEL = regex.compile(
    r"\s*(?:\d+(?:\.\d+)*[.)]\s|[IVXLC]+[.)]\s|(?i:điều|chương|mục)\s+(?:\d+|[IVXLC]+)\b)"
)


def ends_list(line: str) -> bool:
    """A line that opens a higher-level part (1., II., Điều 5, Chương I): any a) b) list
    before it is over."""
    return bool(_HIGHER_LABEL.match(line))


def is_list_marker(chunk: Chunk) -> bool:
    """A one-character item label at the start of a line: 'a)', 'đ)', '¢)' (OCR for 'c)')."""
    return len(chunk.core) == 1 and not chunk.prefix and chunk.suffix.startswith(")")


_NUMBERED_POINT = regex.compile(r"\d{1,3}[a-zđ]")


def is_numbered_point(chunk: Chunk) -> bool:
    """A numbered point inserted by an amendment at the start of a line: '1a.', '2b)'. It is a
    label, never a word ("1a" is "là" only inside a sentence)."""
    return (
        not chunk.prefix
        and chunk.suffix[:1] in (".", ")")
        and bool(_NUMBERED_POINT.fullmatch(chunk.core))
    )


def caps_runs(chunks: list[Chunk]) -> list[bool]:
    """For each chunk: is it an all-capitals word next to another one ('THANH PHO HAI PHONG')?
    Eng OCR capitalizes lone words ('BO Tai chinh'), not whole runs of them."""
    caps = [
        len(c.core) > 1 and c.core.isupper() and is_valid_syllable(c.core.lower()) for c in chunks
    ]  # codes (UBND, GDĐT) do not make a run
    return [
        caps[k] and ((k > 0 and caps[k - 1]) or (k + 1 < len(caps) and caps[k + 1]))
        for k in range(len(caps))
    ]


def _is_horn(mark: str, word: str, after: list[Chunk]) -> bool:
    """Is the ? ’ or ' printed right after `word` (as restored) the horn of its ư/ơ rather than
    punctuation? Yes when the word has a horn; a ? or ’ followed by a lowercase word is never
    punctuation either. In the aligned eng training pairs (scripts/measure_horns.py): 646 of 650
    such marks that were part of the letter are dropped, 1 of 17 that were punctuation."""
    if any(ch in "ươ" for ch in strip_tone(word.lower())):
        return True
    following = after[0] if after else None
    return (
        mark in "?’"
        and following is not None
        and not following.prefix
        and following.core[:1].islower()
    )


def is_stray_mark(chunk: Chunk) -> bool:
    """A word made only of spacing accent marks (ˆ ˜ `): OCR's reading of a speck or of a mark
    that slipped off its letter. 55 in the true vie pairs, none in 1.5 M lines of clean text."""
    return (
        bool(chunk.core)
        and not chunk.prefix
        and not chunk.suffix
        and set(chunk.core) <= STRAY_MARKS
    )


def _token_id(index: dict[str, int], core: str) -> int:
    if not core:
        return UNK
    low = normalize(core).lower()
    tid = index.get(low)
    if tid is not None:
        return tid
    return NUM if is_passthrough(core) else UNK


@dataclass
class _Slot:
    """One chunk of the stream: its line, position, and the options the decoder may choose."""

    line: int
    chunk: Chunk
    words: list[str]  # lowercase outputs (the original core for keep / pass-through)
    ids: np.ndarray  # LM token ids
    channel: np.ndarray  # log P(noisy | option)
    fixed: bool  # pass-through: a single option that is the input itself
    sentence_start: bool = True  # first chunk, or after . : ! ? (capitals are expected there)
    position: int = 0  # the chunk's index in split_chunks(its line)
    piece: int = -1  # for a joined chunk ('luat.Dieu'): which of its letter runs
    numeral: str = ""  # a number printed with letters (restore.numerals): the kind of repair
    horn_mark: bool = False  # eng OCR: the suffix starts with a ? ’ or ' that may be a horn
    flagged: bool = False  # a digit read as a word, a repaired code: confidence <= FLAGGED


class NgramRestorer:
    """Viterbi-style beam search of LM score x channel over per-chunk candidates."""

    def __init__(self, lm: NgramLM, generator: CandidateGenerator, lm_weight: float = 0.9,
                 candidates: int = 24, beam: int = 16, keep_penalty: float = -15.0,
                 vie_change_penalty: float = -4.0,
                 digit_misreads: dict[str, list[tuple[str, float]]] | None = None,
                 code_segments: dict[str, str] | None = None):  # fmt: skip
        self.lm = lm
        self.base_generator = generator
        self.lm_weight = lm_weight
        self.k = candidates
        self.beam = beam
        self.keep_penalty = keep_penalty
        self.vie_change_penalty = vie_change_penalty
        self.inventory = generator.inventory
        self.digit_misreads = digit_misreads or {}  # restore.digits.load_table(); off if empty
        self.code_segments = code_segments or {}  # restore.codes.load_table(); off if empty
        self.digit_words: DigitWords | None = None  # built on first use (eng OCR only)

    @classmethod
    def load(cls, directory: Path = NGRAM_DIR, **kw) -> NgramRestorer:
        if not (directory / "lm.npz").exists():
            raise FileNotFoundError(f"{directory}: no LM (scripts/eval_restore.py --train-ngram)")
        return cls(NgramLM.load(directory), CandidateGenerator.load(), **kw)

    # -- public
    def restore_lines(self, lines: list[str]) -> list[RestoredLine]:
        """Restore a batch (one document, ideally): its channel profile is detected once."""
        slots, breaks = self.stream(lines)
        choice, confidence = self._decode(slots, breaks)
        return self.render_lines(lines, slots, choice, confidence)

    def stream(self, lines: list[str], profile: str | None = None) -> tuple[list[_Slot], set[int]]:
        """The slots (chunks with their options and channel scores) of a batch, and the slot
        indices where a blank line resets the LM context. `profile`: the batch's
        `channel_profile`, when the caller has it already. Fresh vie OCR prints numbers as
        numbers (every digit token of the true vie pairs is a number), so there the digit
        misreads of eng OCR ("1" for "là") are off."""
        profile = profile or channel_profile(lines)
        generator = self.base_generator.for_profile(profile)
        keep = self.keep_penalty + (VIE_KEEP_BONUS if profile == "vie" else 0.0)
        change = self.vie_change_penalty if profile == "vie" else 0.0
        misreads = {} if profile == "vie" else self.digit_misreads
        return self._slots(lines, generator, keep, change, misreads, profile == "default")

    def render_lines(
        self, lines: list[str], slots: list[_Slot], choice: list[int], confidence: list[float]
    ) -> list[RestoredLine]:
        """Put each slot's chosen option back on its line: one output line per input line."""
        per_line: list[list[tuple[_Slot, int, float]]] = [[] for _ in lines]
        for slot, c, p in zip(slots, choice, confidence, strict=True):
            per_line[slot.line].append((slot, c, p))
        return [self._render(line, items) for line, items in zip(lines, per_line, strict=True)]

    # -- building the stream
    def _options(
        self, core: str, generator: CandidateGenerator, keep_penalty: float,
        change_penalty: float, heading: bool = False,
    ) -> tuple[list[str], list[int], list[float], bool]:  # fmt: skip
        """Options for one chunk; `change_penalty` (fresh vie OCR, mostly right) is added to every
        option that replaces a word already in the inventory. That OCR keeps marks, so there a
        capital word without any is an acronym (MAC, IP) and stays, unless it is one of the
        words of a `heading` in capitals. Words in capitals have their own channel, calibrated
        on capitals, and no `change_penalty`."""
        capitals = len(core) > 1 and core.isupper()
        acronym = bool(change_penalty) and capitals and core.isascii() and not heading
        if is_fixed(core) or acronym:
            return [core], [NUM if any(ch.isdigit() for ch in core) else UNK], [0.0], True
        if capitals:  # OCR misreads marks on capitals more often: no extra cost to change them
            generator, change_penalty = generator.for_capitals(), 0.0
        low = normalize(core).lower()
        found = generator.candidates(low, self.k)  # one cache entry for Các, các and CÁC
        words = [w for w, _ in found]
        ids = [self.lm.index.get(w, UNK) for w in words]
        scores = [s for _, s in found]
        if change_penalty and low in self.inventory:
            scores = [
                s + (change_penalty if w != low else 0.0)
                for w, s in zip(words, scores, strict=True)
            ]
        if low not in self.inventory:
            words.append(core)
            ids.append(UNK)
            scores.append(keep_penalty)
        return words, ids, scores, False

    def _slots(
        self, lines: list[str], generator: CandidateGenerator, keep: float, change: float,
        misreads: dict[str, list[tuple[str, float]]], horn_marks: bool = False,
    ) -> tuple[list[_Slot], set[int]]:  # fmt: skip
        """`misreads`: digit tokens that may be words (`restore.digits`); `horn_marks`: eng OCR,
        where a ? ’ or ' right after a word is often the horn of its ư/ơ ("xt? lý" is "xử lý",
        "co’ so" is "cơ sở")."""
        slots, breaks = [], set()
        starts = True
        last_marker = ""
        chunked = [split_chunks(as_read(line)) if line.strip() else [] for line in lines]
        numbers = read_document(chunked)
        next_labels = following_labels(lines, chunked)
        chunked.append([])
        for i, line in enumerate(lines):
            if ends_list(line):
                last_marker = ""
            if not line.strip():
                breaks.add(len(slots))
                starts = True
                continue
            chunks, following = chunked[i], chunked[i + 1]
            cored = [k for k, c in enumerate(chunks) if c.core]
            heading = dict(zip(cored, caps_runs([chunks[k] for k in cored]), strict=True))
            for k, chunk in enumerate(chunks):
                if is_stray_mark(chunk):
                    continue  # dropped when the line is rendered
                misread = misreads.get(chunk.core)
                if (i, k) in numbers:
                    digits, kind = numbers[i, k]
                    slots.append(_Slot(i, chunk, [digits], np.array([NUM]), np.zeros(1), False,
                                       starts, k, numeral=kind))  # fmt: skip
                elif self.code_segments and (code := repair_ocr_code(chunk.core)) != chunk.core:
                    slots.append(_Slot(i, chunk, [code], np.array([NUM]), np.zeros(1), False,
                                       starts, k, numeral="code", flagged=True))  # fmt: skip
                elif misread and in_word_context(chunks, k, following[0] if following else None):
                    words = [chunk.core] + [w for w, _ in misread if w != NUMBER]
                    ids = [NUM] + [self.lm.index.get(w, UNK) for w in words[1:]]
                    scores = [dict(misread)[NUMBER]] + [lp for w, lp in misread if w != NUMBER]
                    slots.append(_Slot(i, chunk, words, np.array(ids), np.array(scores), False,
                                       starts, k, flagged=True))  # fmt: skip
                elif k == 0 and is_numbered_point(chunk):
                    slots.append(_Slot(i, chunk, [chunk.core], np.array([NUM]), np.zeros(1), True,
                                       starts, k))  # fmt: skip
                elif k == 0 and is_list_marker(chunk):
                    word = last_marker = list_label(chunk.core, last_marker, next_labels[i])
                    ids = np.array([self.lm.index.get(word, UNK)])
                    slots.append(_Slot(i, chunk, [word], ids, np.zeros(1), word == chunk.core,
                                       starts, k))  # fmt: skip
                elif misreads and (found := self._digit_word(chunks, k, following, generator)):
                    words, ids, scores = found
                    slots.append(_Slot(i, chunk, words, np.array(ids), np.array(scores), False,
                                       starts, k, flagged=True))  # fmt: skip
                elif pieces := joined_pieces(chunk.core):
                    slots.extend(self._piece_slots(i, k, chunk, pieces, starts, generator, keep,
                                                   change))  # fmt: skip
                elif chunk.core:
                    words, ids, scores, fixed = self._options(
                        chunk.core, generator, keep, change, heading[k]
                    )
                    slots.append(_Slot(i, chunk, words, np.asarray(ids, dtype=np.int64),
                                       np.asarray(scores), fixed, starts, k))  # fmt: skip
                    slots[-1].horn_mark = horn_marks and chunk.suffix[:1] in HORN_MARKS
                ends = (chunk.prefix if not chunk.core else "") + chunk.suffix
                starts = any(c in SENTENCE_END for c in ends) or (not chunk.core and starts)
        return slots, breaks

    def _digit_word(self, chunks: list[Chunk], k: int, following: list[Chunk], generator):
        """Options of a digit token in running text that may be a word (restore.digit_words)."""
        before = chunks[k - 1] if k else None
        after = chunks[k + 1] if k + 1 < len(chunks) else (following[0] if following else None)
        if not running_digit(chunks[k], before, after):
            return None
        if self.digit_words is None:
            self.digit_words = DigitWords(self.lm)
        return self.digit_words.options(chunks[k], before, after, generator)

    def _piece_slots(
        self, line: int, position: int, chunk: Chunk, pieces: list[str], starts: bool,
        generator: CandidateGenerator, keep: float, change: float,
    ) -> list[_Slot]:  # fmt: skip
        """One slot per letter run of a joined chunk; capital runs and single letters are kept."""
        out = []
        for n, word in enumerate(pieces[::2]):
            if n:
                starts = any(c in SENTENCE_END for c in pieces[2 * n - 1])
            if restorable_piece(word):
                words, ids, scores, fixed = self._options(word, generator, keep, change)
            else:
                words, ids, scores, fixed = [word], [UNK], [0.0], True
            out.append(_Slot(line, chunk, words, np.asarray(ids, dtype=np.int64),
                             np.asarray(scores), fixed, starts, position, n))  # fmt: skip
        return out

    # -- decoding
    def _decode(
        self, slots: list[_Slot], breaks: set[int], beam: int | None = None, confidence: bool = True
    ) -> tuple[list[int], list[float]]:
        """Beam search; states are the last (order - 1) LM ids, recombined per state."""
        beam = beam or self.beam
        size = self.lm.size
        t3 = np.array([BOS])
        u = np.array([BOS])
        v = np.array([BOS])
        score = np.array([0.0])
        history: list[tuple[np.ndarray, np.ndarray]] = []
        for t, slot in enumerate(slots):
            if t in breaks:
                t3, u, v = (np.full_like(x, BOS) for x in (t3, u, v))
            n_opt = len(slot.ids)
            lm = self.lm.logscore_grid(t3, u, v, slot.ids)
            total = (score[:, None] + slot.channel[None, :] + self.lm_weight * lm).ravel()
            uu, vv = np.repeat(u, n_opt), np.repeat(v, n_opt)
            ww = np.tile(slot.ids, len(u))
            order = np.argsort(-total, kind="stable")
            state = vv * size + ww
            if self.lm.order == 4:
                state = uu * size * size + state
            _, first = np.unique(state[order], return_index=True)
            best = order[np.sort(first)][:beam]
            best = best[np.argsort(-total[best], kind="stable")]
            history.append((best // n_opt, best % n_opt))
            t3, u, v, score = uu[best], vv[best], ww[best], total[best]
        choice = [0] * len(slots)
        hyp = 0
        for t in range(len(slots) - 1, -1, -1):
            parent, option = history[t]
            choice[t] = int(option[hyp])
            hyp = int(parent[hyp])
        if not confidence:
            return choice, []
        return choice, self._confidence(slots, choice, breaks)

    def _confidence(self, slots: list[_Slot], choice: list[int], breaks: set[int]) -> list[float]:
        """Posterior of each chosen option with its neighbours on the best path held fixed:
        its channel score plus every n-gram that contains it, all slots at once."""
        n = len(slots)
        ids = np.array([s.ids[c] for s, c in zip(slots, choice, strict=True)], dtype=np.int64)
        bounds = sorted(breaks | {0, n})
        seg = np.searchsorted(bounds, np.arange(n), side="right") - 1
        seg_start = np.array(bounds)[seg]
        seg_end = np.array(bounds)[seg + 1]
        multi = [t for t, slot in enumerate(slots) if len(slot.ids) > 1]
        out = np.ones(n)
        if not multi:
            return out.tolist()
        sizes = np.array([len(slots[t].ids) for t in multi])
        slot_of = np.repeat(np.array(multi), sizes)  # one row per (slot, option)
        option = np.concatenate([slots[t].ids for t in multi])
        total = np.concatenate([slots[t].channel for t in multi]).astype(np.float64)
        start, end = seg_start[slot_of], seg_end[slot_of]
        for d in range(self.lm.order):  # the n-gram whose last word is d slots after this one
            last = slot_of + d
            words = []
            for k in (last - 3, last - 2, last - 1, last):
                word = np.where(k < start, BOS, ids[np.clip(k, 0, n - 1)])
                words.append(np.where(k == slot_of, option, word))
            score = self.lm.logscore4(*words)
            total += np.where(last < end, self.lm_weight * score, 0.0)
        first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        top = np.maximum.reduceat(total, first)
        weight = np.exp(total - np.repeat(top, sizes))
        norm = np.add.reduceat(weight, first)
        chosen = weight[first + np.array([choice[t] for t in multi])]
        out[multi] = chosen / norm
        return out.tolist()

    # -- output
    @staticmethod
    def _cased(noisy: str, word: str, sentence_start: bool, heading: bool) -> str:
        """The OCR chunk's capitalization, except where eng OCR is known to invent capitals:
        a lone capitalized syllable in running text ('BO Tai chinh' is 'Bộ Tài chính'), and
        ư/l read as U/I mid-sentence."""
        if not sentence_start and misread_capital(noisy, word):
            return word
        cased = apply_case(noisy, word)
        if cased.isupper() and len(word) > 1 and not heading and is_valid_syllable(word):
            return word[:1].upper() + word[1:]
        return cased

    def _render(self, line: str, items: list[tuple[_Slot, int, float]]) -> RestoredLine:
        """Rebuild the line chunk by chunk; chunks without a core (lone punctuation) stay."""
        if not line.strip():
            return RestoredLine(text=line, source=line)
        by_chunk: dict[int, list[tuple[_Slot, int, float]]] = {}
        for item in items:
            by_chunk.setdefault(item[0].position, []).append(item)
        parts, tokens = [], []
        heading = is_heading(as_read(line))
        chunks = split_chunks(as_read(line))
        in_caps_run = iter(caps_runs([c for c in chunks if c.core]))
        lead = None  # the indentation of a stray mark that opened the line
        for k, chunk in enumerate(chunks):
            space = chunk.space_before if lead is None or parts else lead
            if not chunk.core:
                parts.append(space + chunk.text)
                continue
            caps = next(in_caps_run) or heading
            if is_stray_mark(chunk):
                tokens.append(RestoredToken(chunk.core, "", 1.0))
                if lead is None and not parts:
                    lead = chunk.space_before
                continue
            pieces = [chunk.core]
            chosen = by_chunk[k]
            if chosen[0][0].piece >= 0:
                pieces = _PIECE_RE.findall(chunk.core)
            for n, (slot, c, p) in enumerate(chosen):
                if slot.numeral:
                    p = min(p, CERTAINTY.get(slot.numeral, 1.0))
                printed = pieces[2 * n]
                pieces[2 * n] = self._restored_word(printed, slot, c, caps)
                if (slot.flagged or slot.fixed) and pieces[2 * n] != printed:
                    p = min(p, FLAGGED)  # every repair of a number or code is flagged
                tokens.append(RestoredToken(printed, pieces[2 * n], round(p, 4)))
            suffix = chunk.suffix
            if chosen[-1][0].horn_mark and _is_horn(suffix[0], pieces[-1], chunks[k + 1 :]):
                suffix = suffix[1:]
            parts.append(space + chunk.prefix + "".join(pieces) + suffix)
        trailing = line[len(line.rstrip()) :]
        return RestoredLine(text="".join(parts) + trailing, source=line, tokens=tokens)

    def _restored_word(self, printed: str, slot: _Slot, c: int, caps: bool) -> str:
        """The chosen option of a slot, cased like the printed word it replaces."""
        if slot.fixed:
            return repair_code(printed, self.code_segments) if slot.piece < 0 else printed
        if slot.numeral:
            return repair_code(slot.words[c], self.code_segments)
        if slot.words[c] == normalize(printed).lower():
            return normalize(printed)
        return self._cased(printed, slot.words[c], slot.sentence_start, caps)


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
