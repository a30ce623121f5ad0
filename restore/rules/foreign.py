"""Text that is not Vietnamese, left as printed: English runs, URLs, e-mails, code, fences.

Each word gets the log-odds that it is foreign (> 0) rather than Vietnamese (< 0), by its kind:

- `marked`: a letter beyond ASCII (đ, ư, ộ, and eng OCR's é, ó...);
- `english`: one of `ENGLISH_WORDS` (of, and, is, with...) that is not a Vietnamese syllable;
- `listed-syllable`: one of `ENGLISH_WORDS` that is a syllable too once marks are folded (the, to);
- `syllable`: another valid Vietnamese syllable; `other`: any other word (names, eng OCR damage).

The foreign runs of a paragraph are the best two-state path over its words (`_decide`): a run is
kept when its evidence sums to more than the cost of switching in and out (`2 * SWITCH`), so a run
of English words is kept, while eng OCR's damaged syllables ("ctia", "dugc") are too few between
valid syllables, and a lone English word in a Vietnamese sentence is decided by that sentence.
Some shapes are foreign wherever they are: URLs, e-mail addresses, file and domain names, paths,
code identifiers, command-line options, markdown fences. `WEIGHTS` are the log-odds measured on
English text against eng-OCR Vietnamese (`scripts/eval_foreign.py --weights`), shrunk toward 0;
docs/BENCHMARKS.md gives the counts.
"""

from __future__ import annotations

import regex

from vanban.core.text import Chunk, is_valid_syllable

# Common English function words and verbs (a run's strongest evidence).
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
    please here
    """.split()
)
# Measured (add-one log-odds): english +8.1, marked -9.2, listed-syllable +2.4, syllable -1.0,
# other +1.4.
WEIGHTS = {"english": 5.0, "marked": -4.0, "listed-syllable": 1.0, "syllable": -1.0, "other": 1.0}
SWITCH = 4.0  # cost of a switch between Vietnamese and foreign text
_FENCE = regex.compile(r"^(?:`{3,}|~{3,})\S*$")
_SHAPE = regex.compile(
    r"""(?x)^(?:
        (?i:https?|ftp)://\S+ | (?i:www)\.\S+             # URLs
      | [\w.+-]+@[\w-]+(?:\.[\w-]+)+                     # e-mail addresses
      | \S*\.(?i:com|org|net|gov|edu|int|vn|txt|pdf|docx?|xlsx?|pptx?|csv|json|xml|html?|exe
              |zip|jpe?g|png)                            # domains and file names
      | (?:~|\.{1,2})?/[\w.-]+/\S* | [A-Za-z]:\\\S*        # paths: /usr/bin, ./out/, C:\x
      | \S*[A-Za-z\d]_[A-Za-z\d]\S*                      # snake_case, VANBAN_DATA
      | \S*(?:::|->|=>|==|!=|\w\(\))\S*                  # operators, calls
      | -{1,2}[a-z][\w-]*                                # command-line options: -o --lang
    )$"""
)
_WORD = regex.compile(r"^[\p{L}'’]+$")


def foreign_shape(text: str) -> bool:
    """A chunk (with or without its punctuation) that is a URL, e-mail, file name, path, code or
    a markdown fence: never restored, whatever the text around it."""
    return bool(_FENCE.match(text) or _SHAPE.match(text))


def word_kind(core: str) -> str | None:
    """The kind of one word (a chunk's core), a key of `WEIGHTS`; None for a core that is not a
    word (numbers, codes, punctuation): those take no part in the decision."""
    if not _WORD.match(core):
        return None
    if not core.isascii():
        return "marked"
    low = core.lower().replace("’", "'")
    listed = low in ENGLISH_WORDS and not (len(core) > 1 and core.isupper())  # WHO, IT: acronyms
    if is_valid_syllable(low):
        return "listed-syllable" if listed else "syllable"
    return "english" if listed else "other"


def word_evidence(core: str) -> float | None:
    """The log-odds that one word is foreign (`WEIGHTS` of its kind); None for a non-word."""
    kind = word_kind(core)
    return None if kind is None else WEIGHTS[kind]


def foreign_chunks(lines: list[list[Chunk]]) -> list[list[bool]]:
    """For each chunk of each line of a batch (`split_chunks` of each line; an empty list for a
    blank line), whether to leave it as printed. Runs are found per paragraph (lines up to a
    blank line): a run may cross a line break."""
    keep = [[foreign_shape(c.text) or foreign_shape(c.core) for c in line] for line in lines]
    words: list[tuple[int, int, float]] = []  # (line, chunk, evidence) of the current paragraph
    for i, line in enumerate([*lines, []]):
        if not line:
            _decide(words, keep)
            words = []
        for k, chunk in enumerate(line):
            if (evidence := word_evidence(chunk.core)) is not None:
                words.append((i, k, evidence))
    return keep


def _decide(words: list[tuple[int, int, float]], keep: list[list[bool]]) -> None:
    """Mark the foreign runs of one paragraph: the two-state (Vietnamese, foreign) path with the
    highest total, a foreign word scoring its evidence, a Vietnamese word 0, and each switch
    between the two (the paragraph starts and ends Vietnamese) costing `SWITCH`. A run is
    foreign when its evidence sums to more than `2 * SWITCH`."""
    if not words:
        return
    vie, far = 0.0, -SWITCH  # best totals ending in each state
    back: list[tuple[bool, bool]] = []  # per word: did the best path into (vie, far) come from far
    for _, _, evidence in words:
        from_far_to_vie = far - SWITCH > vie
        from_far_to_far = far >= vie - SWITCH
        vie, far = (
            max(vie, far - SWITCH),
            max(far, vie - SWITCH) + evidence,
        )
        back.append((from_far_to_vie, from_far_to_far))
    state = far - SWITCH > vie
    for n in range(len(words) - 1, -1, -1):
        i, k, _ = words[n]
        if state:
            keep[i][k] = True
        state = back[n][1] if state else back[n][0]
