"""Line-structure rules of the decoder: how a line's layout decides what a chunk may be.

Headings and runs of capitals, list labels (a) b) c) d) đ)), numbered points, stray accent marks,
words run together around punctuation, horn marks printed as ? ’ ', letters OCR misread as
non-Vietnamese look-alikes.
"""

from __future__ import annotations

import regex
from vanban.restore.network.features import is_passthrough

from vanban.core.text import Chunk, is_valid_syllable, strip_tone

SENTENCE_END = set(".:!?")
STRAY_MARKS = set("ˆ˜`´¨˚˙ˇ˘")
HORN_MARKS = ("?", "’", "'")  # what eng OCR prints for the horn of ư/ơ at a word's end
LIST_MARKER_MISREADS = {"¢": "c", "©": "c"}  # "¢) Xây dựng" is item c), not "để)"
# Letters that are not Vietnamese, as the letters OCR misread: the Icelandic eth for the look-alike
# Đ, and Tesseract vie's "ø" for g.
_LOOKALIKES = str.maketrans("Ððø", "Đđg")
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


def split_pieces(core: str) -> list[str]:
    """A joined chunk's letter runs and the separators between them, in order."""
    return _PIECE_RE.findall(core)


def restorable_piece(word: str) -> bool:
    """A letter run of a joined chunk that may change: two letters or more, not all capitals
    (capital runs there are codes: V.TO, CCCD/CC)."""
    return len(word) > 1 and not word.isupper()


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
    follows: a list can skip d) (a repealed point)."""
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


def is_horn(mark: str, word: str, after: list[Chunk]) -> bool:
    """Is the ? ’ or ' printed right after `word` (as restored) the horn of its ư/ơ rather than
    punctuation? Yes when the word has a horn; a ? or ’ followed by a lowercase word is never
    punctuation either."""
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
    that slipped off its letter."""
    return (
        bool(chunk.core)
        and not chunk.prefix
        and not chunk.suffix
        and set(chunk.core) <= STRAY_MARKS
    )
