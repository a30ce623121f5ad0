"""Text that is not Vietnamese, left as printed: English runs, URLs, e-mails, code, fences.

Each word of a line gets an evidence score (log-odds, foreign > 0 > Vietnamese):

- a letter beyond ASCII (đ, ư, ộ, and eng OCR's é, ó...): Vietnamese;
- a common English word that is not a Vietnamese syllable once its marks are folded
  (of, and, is, with...): foreign;
- any other word: a valid Vietnamese syllable leans Vietnamese, one that is not leans foreign.

A word is foreign when the scores of the words around it on its line (`WINDOW` either side) add
up to more than `THRESHOLD`: a run of English words is kept, while eng OCR's damaged syllables
("ctia", "dugc") are outvoted by the valid syllables around them, and a lone English word inside a
Vietnamese sentence is decided by that sentence. Some shapes are foreign whatever their line:
URLs, e-mail addresses, file names and paths, code identifiers, markdown fences. The weights are
the log-odds of each kind of word in English text against eng-OCR Vietnamese
(`scripts/eval_foreign.py --weights` counts them; docs/BENCHMARKS.md gives the numbers).
"""

from __future__ import annotations

import regex

from vanban.core.text import Chunk, is_valid_syllable

# Common English function words and verbs: evidence only where they are not Vietnamese syllables.
ENGLISH_WORDS = frozenset(
    """
    of and is are was were been being has have had does did done with from for this these those
    which what when where who whom whose why how its it's their there they them's our ours your
    yours his her hers shall should would could must may might will into onto upon about above
    below after before between through during without within against among under over other
    others such only also both each every any some more most many much very than then just
    not nor or if else because while although though unless until since as at by on off out up
    down all per via isn't aren't wasn't don't doesn't didn't won't can't cannot
    we us you he she it my me him an the to in be do so no
    make makes made take takes taken give given get gets got use used using see seen
    please here there
    """.split()
)
# English words above that are also Vietnamese syllables ("to", "the", "an", "can"...) carry no
# English evidence: the structural check below leaves them out.
_FENCE = regex.compile(r"^(?:`{3,}|~{3,})\S*$")
_SHAPE = regex.compile(
    r"""(?x)^(?:
        (?i:https?|ftp)://\S+ | (?i:www)\.\S+                 # URLs
      | [\w.+-]+@[\w-]+(?:\.[\w-]+)+                     # e-mail addresses
      | \S*\.(?i:com|org|net|gov|edu|int|vn|txt|pdf|docx?|xlsx?|pptx?|csv|json|xml|html?|exe
              |zip|jpe?g|png)                            # domains and file names
      | (?:~|\.{1,2})?/[\w.-]+/\S* | [A-Za-z]:\\\S*           # paths: /usr/bin, ./out/, C:\x
      | \S*[a-z]_[a-z]\S*                                # snake_case
      | \S*(?:::|->|=>|==|!=|\w\(\))\S*                  # operators, calls
      | -{1,2}[a-z][\w-]*                                 # command-line options: -o --lang
    )$"""
)
_WORD = regex.compile(r"^[\p{L}'’]+$")
WINDOW = 5  # words either side whose evidence decides a word
SELF_WEIGHT = 2.0  # the word's own evidence counts this many times in its window
THRESHOLD = 1.0  # a window whose evidence sums above this is foreign
# Log-odds of each kind of word, English against eng-OCR Vietnamese, as counted by
# `scripts/eval_foreign.py --weights` (7.6, -9.2, -0.96, 1.25), the two extremes capped.
W_ENGLISH = 5.0  # in ENGLISH_WORDS and not a Vietnamese syllable
W_MARKED = -4.0  # a letter beyond ASCII
W_SYLLABLE = -1.0  # a valid Vietnamese syllable (ASCII)
W_OTHER = 1.0  # not a syllable, not a listed English word


def foreign_shape(text: str) -> bool:
    """A whole chunk (with its punctuation) that is a URL, e-mail, file name, path, code or a
    markdown fence: never restored, whatever the line around it."""
    return bool(_FENCE.match(text) or _SHAPE.match(text))


def word_evidence(core: str) -> float:
    """The log-odds that one word (a chunk's core) is foreign; 0 for a core that is not a word
    (numbers, codes, punctuation)."""
    if not _WORD.match(core):
        return 0.0
    if not core.isascii():
        return W_MARKED
    low = core.lower().replace("’", "'")
    if is_valid_syllable(low):
        return W_SYLLABLE
    if low in ENGLISH_WORDS and not (len(core) > 1 and core.isupper()):  # WHO, IT: acronyms
        return W_ENGLISH
    return W_OTHER


def foreign_chunks(lines: list[list[Chunk]]) -> list[list[bool]]:
    """For each chunk of each line of a batch (`split_chunks` of each line; an empty list for a
    blank line), whether to leave it as printed.

    A word's window is the `2 * WINDOW + 1` words around it, slid to stay on the word's line
    when the line is long enough, else taken across the neighbouring lines (short lines of a
    paragraph); a blank line ends the text a window may see."""
    keep = [[foreign_shape(c.text) or foreign_shape(c.core) for c in line] for line in lines]
    words: list[tuple[int, int, float]] = []  # (line, chunk, evidence) of the current paragraph
    for i, line in enumerate([*lines, []]):
        if not line:
            _decide(words, keep)
            words = []
        for k, chunk in enumerate(line):
            if (evidence := word_evidence(chunk.core)) != 0.0:
                words.append((i, k, evidence))
    return keep


def _decide(words: list[tuple[int, int, float]], keep: list[list[bool]]) -> None:
    """Mark the words of one paragraph whose window's evidence is above `THRESHOLD`."""
    size = 2 * WINDOW + 1
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for n, (i, _, _) in enumerate(words):
        first.setdefault(i, n)
        last[i] = n
    for n, (i, k, _) in enumerate(words):
        lo, hi = n - WINDOW, n + WINDOW + 1
        if last[i] - first[i] + 1 >= size:  # slide the window onto the word's own line
            lo = min(max(lo, first[i]), last[i] + 1 - size)
            hi = lo + size
        own = (SELF_WEIGHT - 1) * min(words[n][2], 0.0)
        if own + sum(e for _, _, e in words[max(lo, 0) : hi]) > THRESHOLD:
            keep[i][k] = True
