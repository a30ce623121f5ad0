"""Agency assignments: who leads, supports or carries out each task, and by when."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz
from vanban.segment.agencies import (
    AgencyParser,
    Registry,
    expand_members,
    load_registry,
    parse_heading_agencies,
)
from vanban.segment.lexicon import (
    Token,
    clean_spaces,
    fold,
    match_any,
    match_phrase,
    match_phrase_near,
    phrase_folds,
    tokenize,
)

_PART_TITLES = (
    "to chuc thuc hien",
    "phan cong nhiem vu",
    "trach nhiem thuc hien",
    "trach nhiem cua cac",
    "phan cong trach nhiem",
)
_DIRECTIVES = ("Giao cho", "Giao", "Yêu cầu", "Đề nghị")
_DEADLINE_LABEL_RE = re.compile(
    r"(?:thời gian|thời hạn|tiến độ)\s*(?:hoàn thành|thực hiện)?\s*:\s*"
    r"([^;\n]{2,80}?)(?:[.;]\s|[.;]?$)",
    re.IGNORECASE,
)
_DETAIL_RE = re.compile(
    r"^(co quan|don vi)\s+(chu tri|phoi hop)[^:]{0,20}:|^(thoi gian|thoi han|tien do)[^:]{0,20}:"
)
_LABELS = {
    "lead": ("Cơ quan chủ trì", "Đơn vị chủ trì"),
    "support": ("Cơ quan phối hợp", "Đơn vị phối hợp"),
}
_EXECUTE_TAILS = (
    "chịu trách nhiệm thi hành",
    "căn cứ Quyết định thi hành",
    "căn cứ Quyết định này thi hành",
    "thi hành Quyết định này",
    "có trách nhiệm thi hành",
)
_LEAD_PREFIXES = ("có trách nhiệm", "được giao", "sẽ", "tiếp tục", "là cơ quan", "làm cơ quan")
_SUPPORT_SKIP = ("chặt chẽ với", "chặt chẽ", "với", ", hướng dẫn", ", chỉ đạo", "cùng với", "cùng")
_SUBJECT_SUPPORT = (
    "chủ động tham gia",
    "tích cực tham gia",
    "tham gia",
    "phối hợp",
    "chủ động phối hợp",
)
_DEADLINE_RE = re.compile(
    r"(?:(?:hoàn thành|xong|thực hiện|triển khai)\s+)?"
    r"(?:trước|trong|chậm nhất(?:\s+(?:trước|vào|là))?|hạn chót)\s+"
    r"(?:ngày\s+\d{1,2}\s*/\s*\d{1,2}(?:\s*/\s*\d{4})?|"
    r"quý\s+[IV]{1,3}(?:\s*/\s*|\s+năm\s+)\d{4}|"
    r"tháng\s+\d{1,2}(?:\s*/\s*|\s+năm\s+)\d{4}|năm\s+\d{4}|\d{1,2}\s*/\s*\d{1,2}\s*/\s*\d{4})",
    re.IGNORECASE,
)


# What follows a clause's subject when the clause gives it a task (duty predicates): each seen
# at least twice after a paragraph-initial agency list in vn-admin-congbao (12,634 such
# paragraphs; counts in docs/BENCHMARKS.md), or named by the annotation conventions.
_LEAD_PREDICATES = (
    "là cơ quan thường trực",
    "là cơ quan đầu mối",
    "là cơ quan chủ trì",
    "là đầu mối",
)
_DUTY_PREDICATES = (
    "có trách nhiệm",
    "chịu trách nhiệm",
    "có nhiệm vụ",
    "thực hiện",
    "tổ chức",
    "phối hợp",
    "chủ động",
    "tham mưu",
    "xây dựng",
    "báo cáo",
    "hướng dẫn",
    "theo dõi",
    "giám sát",
    "đánh giá",
    "triển khai",
    "tiếp nhận",
    "rà soát",
    "kiểm tra",
    "tổng hợp",
    "tăng cường",
    "khẩn trương",
    "tiếp tục",
    "căn cứ",
    "được giao",
)
_NOT_PREDICATES = {"cua", "ve", "va", "trong", "tai", "thuoc", "duoc", "la", "voi", "o", "cho"}
_ISSUER_DIRECTIVES = ("yêu cầu", "đề nghị", "giao")
_NOT_A_DUTY = ("trước pháp luật", "trước", "về")  # 'chịu trách nhiệm trước ...': accountability


_RECURRENCE = (
    r"(?:[Đđ]ịnh kỳ\s+)?[Hh][ằà]ng\s+(?:năm|quý|tháng|tuần)(?:\s*\(trước ngày [^)]{1,20}\))?"
)
_RECURRING_RE = re.compile(  # opening a clause ('Hằng năm, ...') or closing the task
    rf"(?:^|[.;:]\s+)(?P<lead>{_RECURRENCE}|Thường xuyên)(?=[,\s])"
    rf"|\s(?P<tail>{_RECURRENCE})(?=\s*(?:theo quy định)?\s*[.;]?$)"
)


@dataclass
class Unit:
    """One task: a paragraph or bullet of a section body, with the agencies its heading names."""

    section: str
    lines: list[int]  # line indexes
    text: str
    subject: list[str] = field(default_factory=list)
    principle: bool = False  # under 'Quan điểm', 'Mục đích, yêu cầu': statements, not tasks


@dataclass
class Roles:
    lead: list[str] = field(default_factory=list)
    support: list[str] = field(default_factory=list)
    executors: list[str] = field(default_factory=list)
    explicit: bool = False  # the unit names its own subject (Giao X, X chủ trì, (X thực hiện))

    def add(self, role: str, names: list[str]) -> None:
        target = getattr(self, role)
        for name in names:
            if name and name not in target:
                target.append(name)


_PRINCIPLE_TITLES = ("quan diem", "muc dich", "yeu cau", "muc tieu", "nguyen tac")


def is_principle_part(title: str) -> bool:
    """'QUAN ĐIỂM', 'MỤC ĐÍCH, YÊU CẦU', 'Mục tiêu cụ thể': statements of aims and principles."""
    key = fold(title)
    return len(key.split()) <= 8 and any(key.startswith(p) for p in _PRINCIPLE_TITLES)


def is_assignment_part(title: str) -> bool:
    """'Tổ chức thực hiện', 'Phân công nhiệm vụ và tổ chức thực hiện' (OCR-tolerant)."""
    key = fold(title)
    if any(p in key for p in _PART_TITLES):
        return True
    return len(key.split()) <= 10 and any(fuzz.partial_ratio(p, key) >= 88 for p in _PART_TITLES)


def heading_agencies(title: str, registry: Registry) -> list[str]:
    return parse_heading_agencies(title, registry)


def find_deadline(text: str) -> str | None:
    """'hoàn thành trước năm 2030', 'trong quý I/2026', 'Thời gian hoàn thành: ...', or a
    recurrence opening a clause or closing the task ('Hằng năm, ...', '... hằng năm.')."""
    m = _DEADLINE_RE.search(text)
    if m:
        return clean_spaces(m.group(0))
    m = _DEADLINE_LABEL_RE.search(text)
    if m and re.search(r"\d", m.group(1)):
        return clean_spaces(m.group(1)).rstrip(" .;")
    m = _RECURRING_RE.search(text)
    if m:
        return clean_spaces(m.group("lead") or m.group("tail"))
    return None


def is_task_detail(text: str) -> bool:
    """'Cơ quan chủ trì: ...', 'Thời gian hoàn thành: ...': a line completing the task above."""
    return _DETAIL_RE.match(fold(text)) is not None


class RoleFinder:
    """Applies the assignment patterns of one unit's text."""

    def __init__(self, text: str, registry: Registry):
        self.text = text
        self.tokens: list[Token] = tokenize(text)
        self.parser = AgencyParser(self.tokens, registry)
        self.roles = Roles()
        self.claimed: set[int] = set()  # token indexes of 'chủ trì' already explained
        self.chu_tri = self._positions("chủ trì")
        self.phoi_hop = self._positions("phối hợp")
        self.folded = " ".join(t.fold for t in self.tokens)
        self.accountable_only = False

    def _positions(self, phrase: str) -> list[int]:
        """Token indexes where `phrase` starts (one OCR edit per word tolerated, but one word
        must be exact: 'Chỉ thị', 'chế tài' are not 'chủ trì')."""
        words = phrase_folds(phrase)
        first = words[0][:1]
        return [
            i
            for i, token in enumerate(self.tokens)
            if token.fold[:1] == first
            and match_phrase_near(self.tokens, i, phrase)
            and any(self.tokens[i + n].fold == w for n, w in enumerate(words))
        ]

    def names(self, spans) -> list[str]:
        registry = self.parser.registry
        return [
            name
            for s in spans
            for name in expand_members(self.parser.text_of(self.text, s), registry)
        ]

    def at_clause_start(self, i: int) -> bool:
        return i == 0 or self.tokens[i - 1].text in {".", ";", ":", "(", "-", "+", ","}

    def parentheticals(self) -> None:
        """'(Công an thành phố chủ trì, phối hợp các sở ... thực hiện)', '(X thực hiện)'."""
        depth_start = None
        for i, t in enumerate(self.tokens):
            if t.text == "(":
                depth_start = i + 1
            elif t.text == ")" and depth_start is not None:
                self._parenthetical(depth_start, i)
                depth_start = None

    def _parenthetical(self, start: int, end: int) -> None:
        spans = self.parser.agency_list(start, bare=True)
        if not spans or spans[-1][1] >= end:
            return
        after = spans[-1][1]
        tail = fold(" ".join(t.text for t in self.tokens[after:end]))
        if tail.startswith("chu tri"):
            self.roles.add("lead", self.names(spans))
            self.claimed.add(after)
            k = self._skip_to_support(after + 2)
            if k is not None:
                self.roles.add("support", self.names(self.parser.agency_list(k, bare=True)))
        elif tail.endswith("thuc hien") and len(tail.split()) <= 4:
            self.roles.add("executors", self.names(spans))
        elif tail.startswith("phoi hop") and "thuc hien" in tail:
            self.roles.add("executors", self.names(spans))  # '(X phối hợp với Y thực hiện)'
            self.claimed.add(after)
        else:
            return
        self.roles.explicit = True

    def _skip_to_support(self, k: int) -> int | None:
        if self.tokens[k].text == "," if k < len(self.tokens) else False:
            k += 1
        end = match_phrase_near(self.tokens, k, "phối hợp")
        if end is None:
            return None
        skip = match_any(self.tokens, end, ("với", "chặt chẽ với"))
        return skip if skip is not None else end

    def directives(self, has_subject: bool = False) -> None:
        """'Giao X chủ trì, ...' -> X leads; 'Yêu cầu X ...', 'Đề nghị X ...' -> X carries out.
        Under an agency heading, a task opening 'Yêu cầu X ...' is that agency's own task."""
        for i, t in enumerate(self.tokens):
            if not t.is_capitalized or not self.at_clause_start(i):
                continue
            end = match_any(self.tokens, i, _DIRECTIVES)
            if end is None or (has_subject and i == 0 and t.fold == "yeu"):
                continue
            spans = self.parser.agency_list(end, semicolons=True)
            if not spans:
                continue
            after = spans[-1][1]
            k = match_any(self.tokens, after, (",",)) or after
            if match_phrase(self.tokens, k, "chủ trì") is not None:
                self.roles.add("lead", self.names(spans))
                self.claimed.add(k)
            else:
                self.roles.add("executors", self.names(spans))
            self.roles.explicit = True

    def subject_leads(self) -> None:
        """'lực lượng Công an có trách nhiệm chủ trì ...; các lực lượng khác chủ động tham gia'."""
        for c in self.chu_tri:
            if c in self.claimed:
                continue
            stop = c
            for prefix in _LEAD_PREFIXES:
                n = len(tokenize(prefix))
                if c - n >= 0 and match_phrase(self.tokens, c - n, prefix) == c:
                    stop = c - n
                    break
            for s in range(max(0, stop - 25), stop):
                spans = self.parser.agency_list(s)
                if (
                    spans
                    and spans[-1][1] == stop
                    and self.at_clause_start(s)
                    or (
                        spans
                        and spans[-1][1] == stop
                        and self.tokens[s - 1].fold in {"do", "thi", "de"}
                    )
                ):
                    self.roles.add("lead", self.names(spans))
                    self.roles.explicit = True
                    self.claimed.add(c)
                    self._subject_supports(c)
                    break

    def _subject_supports(self, after: int) -> None:
        for s in range(after, len(self.tokens)):
            if not self.at_clause_start(s):
                continue
            spans = self.parser.agency_list(s)
            if spans and match_any(self.tokens, spans[-1][1], _SUBJECT_SUPPORT) is not None:
                self.roles.add("support", self.names(spans))

    def labelled(self) -> None:
        """'Cơ quan chủ trì: Sở Tư pháp. Cơ quan phối hợp: các sở, ngành liên quan.'"""
        if "chu tri" not in self.folded and "phoi hop" not in self.folded:
            return
        for i in range(len(self.tokens)):
            if self.tokens[i].fold not in {"co", "don"}:
                continue
            for role, labels in _LABELS.items():
                end = match_any(self.tokens, i, labels)
                if end is None:
                    continue
                k = end
                while k < len(self.tokens) and self.tokens[k].text != ":" and k - end < 3:
                    k += 1
                if k < len(self.tokens) and self.tokens[k].text == ":":
                    spans = self.parser.agency_list(k + 1, bare=True, semicolons=True)
                    self.roles.add(role, self.names(spans))
                    self.roles.explicit = self.roles.explicit or (role == "lead" and bool(spans))
                    self.claimed.update(range(i, k))

    def executing_subjects(self) -> None:
        """Decisions: "Chánh Văn phòng ...; Giám đốc các sở ... chịu trách nhiệm thi hành ..."."""
        if "thi hanh" not in self.folded:
            return
        for s in range(len(self.tokens)):
            if not self.at_clause_start(s):
                continue
            spans = self.parser.agency_list(s, semicolons=True)
            if spans and match_any(self.tokens, spans[-1][1], _EXECUTE_TAILS) is not None:
                self.roles.add("executors", self.names(spans))
                self.roles.explicit = True
                return

    def supports(self) -> None:
        """Every 'phối hợp (với) Y' names Y as support."""
        for i in self.phoi_hop:
            k = i + 2
            for skip in _SUPPORT_SKIP:
                nxt = match_phrase(self.tokens, k, skip)
                if nxt is not None:
                    k = nxt
                    break
            spans = self.parser.agency_list(k, bare=True)
            self.roles.add("support", self.names(spans))

    def _starts_predicate(self, k: int) -> bool:
        t = self.tokens[k] if k < len(self.tokens) else None
        return bool(t and t.is_word and not t.is_capitalized and t.fold not in _NOT_PREDICATES)

    def clause_subject(self, issuer_words: set[str], own_subject: bool = False) -> None:
        """'X có trách nhiệm / tham mưu / phối hợp ... + task' -> X executor; 'X là cơ quan
        thường trực' -> X lead; 'UBND tỉnh yêu cầu X ...' (the issuer speaking) -> X executor."""
        spans = self.parser.agency_list(0, semicolons=True)
        if not spans or not self._opens_exactly(0):
            return
        after = spans[-1][1]
        if self._is_issuer(spans, issuer_words):
            end = match_any(self.tokens, after, _ISSUER_DIRECTIVES)
            objects = self.parser.agency_list(end, semicolons=True) if end else []
            if objects:
                self.roles.add("executors", self.names(objects))
                self.roles.explicit = True
            return
        if match_any(self.tokens, after, _LEAD_PREDICATES) is not None:
            self.roles.add("lead", self.names(spans))
            self.roles.explicit = True
            return
        end = match_any(self.tokens, after, _DUTY_PREDICATES)
        if end is None and own_subject and self._starts_predicate(after):
            end = after + 1  # under an agency heading, a bullet naming its own subject
        if end is None:
            return
        if match_any(self.tokens, end, _NOT_A_DUTY) is not None:
            self.accountable_only = True  # 'X chịu trách nhiệm trước pháp luật ...'
            return
        self.roles.add("executors", self.names(spans))
        self.roles.explicit = True

    def _opens_exactly(self, i: int) -> bool:
        """The subject opens with a printed head, title or 'các' (no OCR-tolerant guess)."""
        reg = self.parser.registry
        return any(
            match_any(self.tokens, i, phrases) is not None
            for phrases in (reg.heads, reg.aliases, reg.person_heads, reg.collective_openers)
        )

    def _is_issuer(self, spans, issuer_words: set[str]) -> bool:
        if len(spans) != 1 or not issuer_words:
            return False
        words = {t.fold for t in self.tokens[spans[0][0] : spans[0][1]] if t.is_word}
        return words <= issuer_words or words <= issuer_words | {"ubnd"}

    def colon_subject(self) -> list[str]:
        """'Sở Tài chính: bố trí kinh phí ...': agencies named before a colon own the task."""
        spans = self.parser.agency_list(0, semicolons=True)
        if spans and spans[-1][1] < len(self.tokens) and self.tokens[spans[-1][1]].text == ":":
            return self.names(spans)
        return []

    def opens_with_chu_tri(self) -> bool:
        return bool(self.chu_tri) and self.chu_tri[0] == 0 and 0 not in self.claimed

    def heading_subject_leads(self) -> bool:
        """True when the task opens with 'Chủ trì' ('Chủ trì, phối hợp với Z ...', 'Tiếp tục
        chủ trì ...'): the heading's agency leads it."""
        return any(
            i not in self.claimed
            and (self.at_clause_start(i) or (i >= 1 and self.tokens[i - 1].fold == "tuc"))
            for i in self.chu_tri
        )


def find_roles(
    text: str,
    subject: list[str],
    registry: Registry | None = None,
    issuer_words: frozenset[str] = frozenset(),
    issuer: str | None = None,
    principle: bool = False,
) -> Roles | None:
    """Roles of one unit; None when it assigns nothing. `subject`: the agencies of the heading
    the unit is under; `issuer_words`: folded words of the issuer's name (its own voice);
    `issuer`: who leads a task that opens with 'Chủ trì' and names no subject at all;
    `principle`: the unit states an aim or principle ('Các sở, ngành phối hợp chặt chẽ ...'),
    so a subject and its verb alone give no task."""
    finder = RoleFinder(text, registry or load_registry())
    finder.labelled()
    if text.startswith("(") and text.rstrip(" .;").endswith(")"):
        return None  # a note in brackets ('(Nhiệm vụ cụ thể tại Phụ lục kèm theo)')
    finder.parentheticals()
    finder.directives(has_subject=bool(subject))
    finder.subject_leads()
    if not finder.roles.explicit:
        finder.executing_subjects()
    if not finder.roles.explicit and not principle:
        finder.clause_subject(set(issuer_words), own_subject=bool(subject))
    roles = finder.roles
    if finder.accountable_only:
        return None
    subject = finder.colon_subject() or subject
    if not subject and not roles.explicit and issuer and finder.opens_with_chu_tri():
        subject = [issuer]  # '1. Chủ trì, phối hợp với các Bộ ...': the issuer's own duty
    if subject and not roles.explicit:
        lead = finder.heading_subject_leads() or match_any(finder.tokens, 0, _LEAD_PREDICATES)
        roles.add("lead" if lead else "executors", subject)
    if not roles.lead and not roles.executors:
        return None
    finder.supports()
    roles.support = [s for s in roles.support if s not in roles.lead and s not in roles.executors]
    return roles
