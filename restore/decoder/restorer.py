"""The n-gram decoder: a batch of lines as one stream of slots, decoded and put back on its lines.

Each chunk becomes a slot with its options (candidates from the channel, the kept word, a number,
a list label...) and their channel scores; `restore.decoder.beam.beam_search` picks one option per
slot over the whole stream (context crosses line breaks; an empty line resets it), and each
choice goes back on its own line: one output line per input line, pass-through chunks unchanged.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from vanban.restore.config import DecodingConfig
from vanban.restore.decoder.beam import Slot, beam_search
from vanban.restore.decoder.candidates import CandidateGenerator
from vanban.restore.decoder.lines import (
    HORN_MARKS,
    SENTENCE_END,
    as_read,
    caps_runs,
    ends_list,
    following_labels,
    is_fixed,
    is_heading,
    is_horn,
    is_list_marker,
    is_numbered_point,
    is_stray_mark,
    joined_pieces,
    list_label,
    misread_capital,
    restorable_piece,
    split_pieces,
)
from vanban.restore.decoder.lm import NGRAM_DIR, NUM, UNK, NgramLM
from vanban.restore.network.features import apply_case
from vanban.restore.profile import Profile, choose_profile
from vanban.restore.rules.code_repair import FLAGGED, repair_ocr_code
from vanban.restore.rules.codes import repair_code
from vanban.restore.rules.digit_words import DigitWords, running_digit
from vanban.restore.rules.digits import NUMBER, in_word_context
from vanban.restore.rules.foreign import foreign_chunks
from vanban.restore.rules.numerals import CERTAINTY, read_document

from vanban.core.records import RestoredLine, RestoredToken
from vanban.core.text import Chunk, is_valid_syllable, normalize, split_chunks


class NgramRestorer:
    """The n-gram decoder: lines to slots, `beam_search` over them, the choices back to lines."""

    def __init__(
        self, lm: NgramLM, generator: CandidateGenerator, config: DecodingConfig | None = None,
        digit_misreads: dict[str, list[tuple[str, float]]] | None = None,
        code_segments: dict[str, str] | None = None,
    ):  # fmt: skip
        self.lm = lm
        self.base_generator = generator
        self.config = config or DecodingConfig.ngram_baseline()
        self.inventory = generator.inventory
        self.digit_misreads = digit_misreads or {}  # rules.digits.load_table(); off if empty
        self.code_segments = code_segments or {}  # rules.codes.load_table(); off if empty
        self.digit_words: DigitWords | None = None  # built on first use (eng OCR only)

    @classmethod
    def load(cls, directory: Path = NGRAM_DIR, **kw) -> NgramRestorer:
        """The non-neural baseline: the LM of `directory` (`$VANBAN_DATA/ngram`)."""
        if not (directory / "lm.npz").exists():
            raise FileNotFoundError(f"{directory}: no LM (scripts/eval_restore.py --train-ngram)")
        return cls(NgramLM.load(directory), CandidateGenerator.load(), **kw)

    # -- public
    def restore_lines(self, lines: list[str]) -> list[RestoredLine]:
        """Restore a batch (one document, ideally): its profile is chosen once."""
        slots, breaks = self.stream(lines)
        choice, confidence = self.decode(slots, breaks)
        return self.render_lines(lines, slots, choice, confidence)

    def stream(
        self, lines: list[str], profile: Profile | None = None
    ) -> tuple[list[Slot], set[int]]:
        """The slots (chunks with their options and channel scores) of a batch, and the slot
        indices where a blank line resets the LM context. `profile`: the batch's, when the
        caller has chosen it already."""
        profile = profile or choose_profile(lines, self.config)
        generator = self.base_generator.for_profile(profile)
        keep = self.config.keep_penalty + profile.keep_bonus
        misreads = self.digit_misreads if profile.digit_misreads else {}
        return self._slots(lines, generator, keep, profile, misreads)

    def decode(
        self, slots: list[Slot], breaks: set[int], beam: int | None = None, confidence: bool = True
    ) -> tuple[list[int], list[float]]:
        """`beam_search` with this decoder's LM, LM weight and (unless given) beam width."""
        return beam_search(
            self.lm, slots, breaks, self.config.lm_weight, beam or self.config.beam, confidence
        )

    def render_lines(
        self, lines: list[str], slots: list[Slot], choice: list[int], confidence: list[float]
    ) -> list[RestoredLine]:
        """Put each slot's chosen option back on its line: one output line per input line."""
        per_line: list[list[tuple[Slot, int, float]]] = [[] for _ in lines]
        for slot, c, p in zip(slots, choice, confidence, strict=True):
            per_line[slot.line].append((slot, c, p))
        return [self._render(line, items) for line, items in zip(lines, per_line, strict=True)]

    # -- building the stream
    def _options(
        self, core: str, generator: CandidateGenerator, keep_penalty: float,
        profile: Profile, heading: bool = False,
    ) -> tuple[list[str], list[int], list[float], bool]:  # fmt: skip
        """Options for one chunk; the profile's `change_penalty` is added to every option that
        replaces a word already in the inventory. With `keep_acronyms`, a capital word without
        marks is an acronym (MAC, IP) and stays, unless it is one of the words of a `heading` in
        capitals. Words in capitals have their own channel, calibrated on capitals, and no
        `change_penalty`."""
        change_penalty = profile.change_penalty
        capitals = len(core) > 1 and core.isupper()
        acronym = profile.keep_acronyms and capitals and core.isascii() and not heading
        if is_fixed(core) or acronym:
            return [core], [NUM if any(ch.isdigit() for ch in core) else UNK], [0.0], True
        if capitals:  # OCR misreads marks on capitals more often: no extra cost to change them
            generator, change_penalty = generator.for_capitals(), 0.0
        low = normalize(core).lower()
        # one cache entry for Các, các and CÁC
        found = generator.candidates(low, self.config.candidates)
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
        self, lines: list[str], generator: CandidateGenerator, keep: float, profile: Profile,
        misreads: dict[str, list[tuple[str, float]]],
    ) -> tuple[list[Slot], set[int]]:  # fmt: skip
        """`misreads`: digit tokens that may be words (`restore.rules.digits`)."""
        slots, breaks = [], set()
        starts = True
        last_marker = ""
        chunked = [split_chunks(as_read(line)) if line.strip() else [] for line in lines]
        numbers = read_document(chunked)
        next_labels = following_labels(lines, chunked)
        foreign = (
            foreign_chunks(chunked) if self.config.keep_foreign
            else [[False] * len(chunks) for chunks in chunked]
        )  # fmt: skip
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
                if foreign[i][k]:
                    if chunk.core:  # not Vietnamese: left as printed
                        slots.append(Slot(i, chunk, [chunk.core], np.array([UNK]), np.zeros(1),
                                          True, starts, k, foreign=True))  # fmt: skip
                    continue
                if is_stray_mark(chunk):
                    continue  # dropped when the line is rendered
                misread = misreads.get(chunk.core)
                if (i, k) in numbers:
                    digits, kind = numbers[i, k]
                    slots.append(Slot(i, chunk, [digits], np.array([NUM]), np.zeros(1), False,
                                       starts, k, numeral=kind))  # fmt: skip
                elif self.code_segments and (code := repair_ocr_code(chunk.core)) != chunk.core:
                    slots.append(Slot(i, chunk, [code], np.array([NUM]), np.zeros(1), False,
                                      starts, k, numeral="code", flagged=True))  # fmt: skip
                elif misread and in_word_context(chunks, k, following[0] if following else None):
                    words = [chunk.core] + [w for w, _ in misread if w != NUMBER]
                    ids = [NUM] + [self.lm.index.get(w, UNK) for w in words[1:]]
                    scores = [dict(misread)[NUMBER]] + [lp for w, lp in misread if w != NUMBER]
                    slots.append(Slot(i, chunk, words, np.array(ids), np.array(scores), False,
                                      starts, k, flagged=True))  # fmt: skip
                elif k == 0 and is_numbered_point(chunk):
                    slots.append(Slot(i, chunk, [chunk.core], np.array([NUM]), np.zeros(1), True,
                                       starts, k))  # fmt: skip
                elif k == 0 and is_list_marker(chunk):
                    word = last_marker = list_label(chunk.core, last_marker, next_labels[i])
                    ids = np.array([self.lm.index.get(word, UNK)])
                    slots.append(Slot(i, chunk, [word], ids, np.zeros(1), word == chunk.core,
                                       starts, k))  # fmt: skip
                elif misreads and (found := self._digit_word(chunks, k, following, generator)):
                    words, ids, scores = found
                    slots.append(Slot(i, chunk, words, np.array(ids), np.array(scores), False,
                                      starts, k, flagged=True))  # fmt: skip
                elif pieces := joined_pieces(chunk.core):
                    slots.extend(self._piece_slots(i, k, chunk, pieces, starts, generator, keep,
                                                   profile))  # fmt: skip
                elif chunk.core:
                    words, ids, scores, fixed = self._options(
                        chunk.core, generator, keep, profile, heading[k]
                    )
                    slots.append(Slot(i, chunk, words, np.asarray(ids, dtype=np.int64),
                                       np.asarray(scores), fixed, starts, k))  # fmt: skip
                    slots[-1].horn_mark = profile.horn_marks and chunk.suffix[:1] in HORN_MARKS
                ends = (chunk.prefix if not chunk.core else "") + chunk.suffix
                starts = any(c in SENTENCE_END for c in ends) or (not chunk.core and starts)
        return slots, breaks

    def _digit_word(self, chunks: list[Chunk], k: int, following: list[Chunk], generator):
        """Options of a digit token in running text that may be a word (rules.digit_words)."""
        before = chunks[k - 1] if k else None
        after = chunks[k + 1] if k + 1 < len(chunks) else (following[0] if following else None)
        if not running_digit(chunks[k], before, after):
            return None
        if self.digit_words is None:
            self.digit_words = DigitWords(self.lm)
        return self.digit_words.options(chunks[k], before, after, generator)

    def _piece_slots(
        self, line: int, position: int, chunk: Chunk, pieces: list[str], starts: bool,
        generator: CandidateGenerator, keep: float, profile: Profile,
    ) -> list[Slot]:  # fmt: skip
        """One slot per letter run of a joined chunk; capital runs and single letters are kept."""
        out = []
        for n, word in enumerate(pieces[::2]):
            if n:
                starts = any(c in SENTENCE_END for c in pieces[2 * n - 1])
            if restorable_piece(word):
                words, ids, scores, fixed = self._options(word, generator, keep, profile)
            else:
                words, ids, scores, fixed = [word], [UNK], [0.0], True
            out.append(Slot(line, chunk, words, np.asarray(ids, dtype=np.int64),
                             np.asarray(scores), fixed, starts, position, n))  # fmt: skip
        return out

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

    def _render(self, line: str, items: list[tuple[Slot, int, float]]) -> RestoredLine:
        """Rebuild the line chunk by chunk; chunks without a core (lone punctuation) stay."""
        if not line.strip():
            return RestoredLine(text=line, source=line)
        by_chunk: dict[int, list[tuple[Slot, int, float]]] = {}
        for item in items:
            by_chunk.setdefault(item[0].position, []).append(item)
        parts, tokens = [], []
        heading = is_heading(as_read(line))
        chunks = split_chunks(as_read(line))
        as_printed = split_chunks(line)  # the same chunks: as_read maps letters one to one
        in_caps_run = iter(caps_runs([c for c in chunks if c.core]))
        lead = None  # the indentation of a stray mark that opened the line
        for k, chunk in enumerate(chunks):
            space = chunk.space_before if lead is None or parts else lead
            if not chunk.core:
                parts.append(space + chunk.text)
                continue
            caps = next(in_caps_run) or heading
            if is_stray_mark(chunk) and k not in by_chunk:
                tokens.append(RestoredToken(chunk.core, "", 1.0))
                if lead is None and not parts:
                    lead = chunk.space_before
                continue
            chosen = by_chunk[k]
            if chosen[0][0].foreign:  # not Vietnamese: as printed, look-alikes (ø, ð) too
                kept = as_printed[k]
                tokens.append(RestoredToken(kept.core, kept.core, 1.0))
                parts.append(space + kept.text)
                continue
            pieces = [chunk.core]
            if chosen[0][0].piece >= 0:
                pieces = split_pieces(chunk.core)
            for n, (slot, c, p) in enumerate(chosen):
                if slot.numeral:
                    p = min(p, CERTAINTY.get(slot.numeral, 1.0))
                printed = pieces[2 * n]
                pieces[2 * n] = self._restored_word(printed, slot, c, caps)
                if (slot.flagged or slot.fixed) and pieces[2 * n] != printed:
                    p = min(p, FLAGGED)  # every repair of a number or code is flagged
                tokens.append(RestoredToken(printed, pieces[2 * n], round(p, 4)))
            suffix = chunk.suffix
            if chosen[-1][0].horn_mark and is_horn(suffix[0], pieces[-1], chunks[k + 1 :]):
                suffix = suffix[1:]
            parts.append(space + chunk.prefix + "".join(pieces) + suffix)
        trailing = line[len(line.rstrip()) :]
        return RestoredLine(text="".join(parts) + trailing, source=line, tokens=tokens)

    def _restored_word(self, printed: str, slot: Slot, c: int, caps: bool) -> str:
        """The chosen option of a slot, cased like the printed word it replaces."""
        if slot.fixed:
            return repair_code(printed, self.code_segments) if slot.piece < 0 else printed
        if slot.numeral:
            return repair_code(slot.words[c], self.code_segments)
        if slot.words[c] == normalize(printed).lower():
            return normalize(printed)
        return self._cased(printed, slot.words[c], slot.sentence_start, caps)
