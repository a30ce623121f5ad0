"""The decoder's beam search over a stream of slots (chunks with their scored options).

    score(path) = sum_t [ channel_t(option) + lm_weight * log P_LM(option | last 3 options) ]

A slot's `channel` may already hold further per-option scores (the network's, the document
cache's: `restore.hybrid`). A blank line (a `breaks` index) resets the LM context.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from vanban.restore.decoder.lm import BOS, NgramLM

from vanban.core.text import Chunk


@dataclass
class Slot:
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
    numeral: str = ""  # a number printed with letters (restore.rules.numerals): the kind of repair
    horn_mark: bool = False  # eng OCR: the suffix starts with a ? ’ or ' that may be a horn
    flagged: bool = False  # a digit read as a word, a repaired code: confidence <= FLAGGED
    foreign: bool = False  # not Vietnamese (restore.rules.foreign): left as printed


def beam_search(
    lm: NgramLM, slots: list[Slot], breaks: set[int], lm_weight: float, beam: int,
    confidence: bool = True,
) -> tuple[list[int], list[float]]:  # fmt: skip
    """The best option of each slot, and (with `confidence`) its posterior on that path.

    States are the last (order - 1) LM ids, recombined per state; `beam` states are kept."""
    size = lm.size
    t3 = np.array([BOS])
    u = np.array([BOS])
    v = np.array([BOS])
    score = np.array([0.0])
    history: list[tuple[np.ndarray, np.ndarray]] = []
    for t, slot in enumerate(slots):
        if t in breaks:
            t3, u, v = (np.full_like(x, BOS) for x in (t3, u, v))
        n_opt = len(slot.ids)
        lm_scores = lm.logscore_grid(t3, u, v, slot.ids)
        total = (score[:, None] + slot.channel[None, :] + lm_weight * lm_scores).ravel()
        uu, vv = np.repeat(u, n_opt), np.repeat(v, n_opt)
        ww = np.tile(slot.ids, len(u))
        order = np.argsort(-total, kind="stable")
        state = vv * size + ww
        if lm.order == 4:
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
    return choice, path_confidence(lm, lm_weight, slots, choice, breaks)


def path_confidence(
    lm: NgramLM, lm_weight: float, slots: list[Slot], choice: list[int], breaks: set[int]
) -> list[float]:
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
    for d in range(lm.order):  # the n-gram whose last word is d slots after this one
        last = slot_of + d
        words = []
        for k in (last - 3, last - 2, last - 1, last):
            word = np.where(k < start, BOS, ids[np.clip(k, 0, n - 1)])
            words.append(np.where(k == slot_of, option, word))
        score = lm.logscore4(*words)
        total += np.where(last < end, lm_weight * score, 0.0)
    first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    top = np.maximum.reduceat(total, first)
    weight = np.exp(total - np.repeat(top, sizes))
    norm = np.add.reduceat(weight, first)
    chosen = weight[first + np.array([choice[t] for t in multi])]
    out[multi] = chosen / norm
    return out.tolist()
