"""Agency phrases: where agency lists start and end in a sentence; resolution to the registry."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from vanban.segment.lexicon import (
    Token,
    clean_spaces,
    fold,
    match_any,
    match_any_near,
    match_phrase,
    phrase_folds,
    slug,
    tokenize,
)

REGISTRY_PATH = Path(__file__).with_name("agencies.json")
# Verbs that open a clause's predicate after its subject agency (see assignments._DUTY_PREDICATES).
CLAUSE_VERBS = (
    "chủ trì",
    "phối hợp",
    "có trách nhiệm",
    "chịu trách nhiệm",
    "thực hiện",
    "tham mưu",
    "là cơ quan",
    "chủ động",
    "tổ chức",
    "triển khai",
)
_DEMONSTRATIVES = {
    "do",
    "nay",
    "nao",
    "kia",
    "ay",
}  # đó, này, nào, kia, ấy (after marks are stripped)
_JUXTAPOSABLE = ("đơn vị", "cơ quan", "ngành", "địa phương", "đoàn thể", "doanh nghiệp")
_PARTY_KINDS = {"tinh": "tinh", "thanh": "thanh pho", "huyen": "huyen", "thi": "thi xa"}
_KIND_NAMES = {"tinh": "tỉnh", "thanh pho": "thành phố", "huyen": "huyện", "thi xa": "thị xã"}
_GENERIC_HEADS = {
    "so",
    "ban",
    "bo",
    "uy ban",
    "ub",
    "van phong",
    "dai",
    "bao",
    "ngan hang",
    "lien doan",
    "hoi",
    "doan",
    "cuc",
    "chi cuc",
    "phong",
    "trung tam",
    "truong",
    "vien",
    "cong ty",
    "tong cong ty",
    "lien minh",
    "hoc vien",
    "toa an",
    "kho bac",
    "thanh tra",
    "bo doi",
    "quan doi",
}


@dataclass(frozen=True)
class AgencyType:
    key: str
    name: str
    aliases: tuple[str, ...]
    scope: str


@dataclass(frozen=True, eq=False)
class Registry:
    types: tuple[AgencyType, ...]
    heads: tuple[str, ...]
    lowercase_heads: tuple[str, ...]
    name_words: tuple[str, ...]
    person_heads: tuple[str, ...]
    collective_openers: tuple[str, ...]
    collective_nouns: tuple[str, ...]
    collective_modifiers: tuple[str, ...]
    locality_types: tuple[str, ...]
    party_committees: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    alias_types: dict[str, AgencyType] = field(default_factory=dict)

    def type_of(self, printed_alias: str) -> AgencyType | None:
        return self.alias_types.get(" ".join(phrase_folds(printed_alias)))


@cache
def load_registry(path: Path = REGISTRY_PATH) -> Registry:
    data = json.loads(path.read_text(encoding="utf-8"))
    types = tuple(
        AgencyType(t["key"], t["name"], tuple(t["aliases"]), t["scope"]) for t in data["types"]
    )
    skip = {"types", "aliases", "alias_types"}
    fields = {k: tuple(data[k]) for k in Registry.__dataclass_fields__ if k not in skip}
    alias_types: dict[str, AgencyType] = {}
    for agency_type in types:
        for alias in agency_type.aliases:
            alias_types.setdefault(" ".join(phrase_folds(alias)), agency_type)
    aliases = tuple(a for t in types for a in t.aliases)
    return Registry(types=types, aliases=aliases, alias_types=alias_types, **fields)


_HEADING_OPENERS = (  # an agency heading may open or close with these words
    "Đề nghị",
    "Giao",
    "Yêu cầu",
    "Trách nhiệm của",
    "Nhiệm vụ của",
    "Trách nhiệm và quyền hạn của",
)
_HEADING_CLOSERS = ("có trách nhiệm", "chịu trách nhiệm", "thực hiện", "có nhiệm vụ")

# ---------------------------------------------------------------- parsing


@dataclass
class AgencyParser:
    """Recognizes agency phrases in tokens: named bodies, collective phrases, person heads."""

    tokens: list[Token]
    registry: Registry

    def tok(self, i: int) -> Token | None:
        return self.tokens[i] if 0 <= i < len(self.tokens) else None

    def fold_at(self, i: int) -> str:
        t = self.tok(i)
        return t.fold if t else ""

    # -- pieces
    def locality(self, i: int) -> int | None:
        """A locality after a name: 'thành phố (Hải Phòng)', 'Tỉnh ủy', 'các xã, phường'."""
        reg = self.registry
        end = match_any(self.tokens, i, reg.party_committees)
        if end is not None and self.tokens[i].is_capitalized:
            return end
        for fixed in ("Việt Nam", "Trung ương"):
            end = match_phrase(self.tokens, i, fixed)
            if end is not None and self.tokens[i].is_capitalized:
                return end
        j = i
        if self.fold_at(j) == "cac" or self.fold_at(j) == "cap":
            j += 1
        end = match_any_near(self.tokens, j, reg.locality_types, min_len=3)
        if end is None or (self.tokens[j].is_capitalized and not self.tokens[j].is_abbreviation):
            return None  # 'Xã hội' inside a name is no locality
        # a list of locality types: 'huyện, thị xã, thành phố'
        while self.fold_at(end) in {",", "va"}:
            nxt = match_any(self.tokens, end + 1, reg.locality_types)
            if nxt is None:
                break
            end = nxt
        if self.fold_at(end) == "." and self.tok(i).fold == "tp":
            end += 1
        return self.proper_name(end)

    def proper_name(self, i: int) -> int:
        """Extend over a place name: capitalized words that open no agency ('Hải Phòng')."""
        j = i
        while (
            j - i < 4
            and (t := self.tok(j))
            and t.is_word
            and t.is_capitalized
            and not t.text.isdigit()
        ):
            if self.head_at(j) is not None or self.party_at(j):
                break
            j += 1
        return j

    def party_at(self, i: int) -> bool:
        return match_any(self.tokens, i, self.registry.party_committees) is not None

    def head_at(self, i: int) -> int | None:
        t = self.tok(i)
        if t is None or not t.is_word:
            return None
        end = match_any(self.tokens, i, self.registry.heads)
        if end is None and t.is_capitalized and len(t.fold) >= 4:
            end = match_any_near(self.tokens, i, self.registry.heads)
        if end is not None and (t.is_capitalized or t.is_abbreviation):
            return end
        return match_any(self.tokens, i, self.registry.lowercase_heads)

    def named(self, i: int) -> int | None:
        """A named body: registry alias or head + capitalized name, then an optional locality."""
        t = self.tok(i)
        if t is None or not t.is_word or not (t.is_capitalized or t.fold in {"cong"}):
            return None
        alias_end = match_any(self.tokens, i, self.registry.aliases)
        head_end = self.head_at(i)
        if alias_end is None and head_end is None:
            return None
        end = max(e for e in (alias_end, head_end) if e is not None)
        body_end = self.name_body(end)
        is_generic = (
            alias_end is None
            or fold(" ".join(x.text for x in self.tokens[i:alias_end])) in _GENERIC_HEADS
        )
        if is_generic:
            if (
                body_end == end
                and self.locality(end) is None
                and fold(self.tokens[i].text) in _GENERIC_HEADS
            ):
                return None
            end = body_end
        loc = self.locality(end)
        if loc is not None:
            end = loc
        elif self.fold_at(end) == "cac" or (is_generic and self.fold_at(end) in {"cap"}):
            coll = self.collective(end, bare=False)
            if coll is not None and self.is_local_body(i):
                end = coll
        return end

    def is_local_body(self, i: int) -> bool:
        return self.fold_at(i) in {"ubnd", "ub", "uy", "hdnd", "hoi", "cong"}

    def name_body(self, i: int) -> int:
        """Capitalized words (each with at most one lowercase syllable), abbreviations, joiners."""
        j = i
        while (t := self.tok(j)) is not None:
            if t.is_word and (t.is_capitalized or t.is_abbreviation) and not t.text.isdigit():
                if self.locality(j) is not None and not t.is_abbreviation and j > i:
                    break
                if self.head_at(j) is not None and j > i and fold(t.text) not in {"bo", "ban"}:
                    break
                j += 1
                nxt = self.tok(j)
                if nxt and nxt.is_word and not nxt.is_capitalized and self.plain_word(j):
                    j += 1
                    j = self.lowercase_tail(j)
                continue
            name_word = match_any(self.tokens, j, self.registry.name_words)
            if name_word is not None and self.fold_at(j) != "cac":
                j = name_word
                continue
            if t.text in {"-", "và"} or t.fold == "va":
                nxt = self.tok(j + 1)
                if (
                    nxt
                    and nxt.is_word
                    and nxt.is_capitalized
                    and self.head_at(j + 1) is None
                    and match_any(self.tokens, j + 1, self.registry.person_heads) is None
                ):
                    j += 1
                    continue
            if t.text == "," and self.comma_inside_name(j):
                j += 1
                continue
            break
        return j

    def lowercase_tail(self, j: int) -> int:
        """'Cục Biến đổi khí hậu phối hợp ...': up to two more lowercase words belong to the
        name when a clause verb, ')' / ';' / the end, or ', <next agency>' follows them."""
        for size in (1, 2):
            words = self.tokens[j : j + size]
            if len(words) < size or not all(
                w.is_word and not w.is_capitalized and self.plain_word(j + n)
                for n, w in enumerate(words)
            ):
                return j
            if any(match_any(self.tokens, j + n, CLAUSE_VERBS) for n in range(size)):
                return j
            after = j + size
            t = self.tok(after)
            if t is None or t.text in {")", ";"} or match_any(self.tokens, after, CLAUSE_VERBS):
                return after
            if t.text == "," and (
                self.head_at(after + 1) is not None
                or match_any(self.tokens, after + 1, self.registry.person_heads) is not None
            ):
                return after
        return j

    def comma_inside_name(self, j: int) -> bool:
        """'Văn hóa, Thể thao và Du lịch': a comma, capitalized words, then 'và X'."""
        k = j + 1
        while k < len(self.tokens) and k - j <= 4:
            t = self.tokens[k]
            if not t.is_word or (not t.is_capitalized and t.fold != "va" and k == j + 1):
                return False
            if self.head_at(k) is not None:
                return False
            if t.fold == "va":
                nxt = self.tok(k + 1)
                return bool(
                    nxt and nxt.is_word and nxt.is_capitalized and self.head_at(k + 1) is None
                )
            k += 1
        return False

    def plain_word(self, j: int) -> bool:
        t = self.tokens[j]
        if t.fold in {
            "cac",
            "va",
            "cua",
            "voi",
            "thuoc",
            "tai",
            "tren",
            "trong",
            "o",
            "cho",
            "de",
            "la",
        }:
            return False
        return (
            self.locality(j) is None and match_any(self.tokens, j, self.registry.name_words) is None
        )

    def collective(self, i: int, *, bare: bool) -> int | None:
        """'các sở, ban, ngành, địa phương liên quan', 'cơ quan, tổ chức liên quan' (bare)."""
        reg = self.registry
        j = i
        opener = match_any(self.tokens, j, reg.collective_openers)
        if opener is not None:
            j = opener
        elif not bare:
            return None
        end = match_any(self.tokens, j, reg.collective_nouns)
        if end is None:
            return None
        modified = False
        end = self.named_members(end)
        if opener is not None and self.fold_at(end) == ":":
            members = self.member_list(end + 1)
            if members > end + 1:
                return members  # 'các Sở: Tài chính, Kế hoạch và Đầu tư'
        while True:
            sep = self.fold_at(end)
            if not modified and self.tok(end) and self.tok(end).is_word:
                juxtaposed = match_any(self.tokens, end, _JUXTAPOSABLE)
                if juxtaposed is not None and self.fold_at(end) != "cac":
                    end = juxtaposed  # 'các cơ quan đơn vị liên quan'
                    continue
            if sep in {",", "va"} and not modified:
                k = end + 1
                if sep == "va" and self.fold_at(k) == "cac":
                    if self.has_own_modifier(k):
                        break  # 'các sở và các đơn vị liên quan': the modifier makes a 2nd item
                    k += 1
                nxt = match_any(self.tokens, k, reg.collective_nouns)
                named = self.named(k) if nxt is not None and self.tokens[k].is_capitalized else None
                if match_any(self.tokens, k, reg.person_heads) is not None or (
                    named is not None and named > nxt
                ):
                    nxt = None  # 'Bộ, Cục trưởng Cục X', ', Sở Y tế': the next item is named
                if nxt is not None and (self.tok(k).fold != "cac"):
                    end = nxt
                    continue
            mod = match_any(self.tokens, end, reg.collective_modifiers)
            if mod is not None:
                end, modified = (
                    self.proper_name(mod)
                    if self.tokens[mod - 1].fold in {"tinh", "pho", "huyen", "xa", "phuong"}
                    else mod,
                    True,
                )
                continue
            if self.fold_at(end) in {"thuoc", "cua"} or (
                modified and self.tok(end) and self.tok(end).is_capitalized
            ):
                k = end + 1 if self.fold_at(end) in {"thuoc", "cua"} else end
                named = self.named(k)
                if named is not None:
                    end, modified = named, True
                    continue
            break
        if self.fold_at(end) in _DEMONSTRATIVES and self.tok(end).text.lower() in {
            "đó",
            "này",
            "nào",
            "kia",
            "ấy",
        }:
            return None
        return end

    def member_list(self, k: int) -> int:
        """End of the capitalized names listed after 'các Sở:' (k = first name)."""
        end = k
        while (t := self.tok(end)) and t.is_word and t.is_capitalized and self.head_at(end) is None:
            end = self.name_body(end)
            nxt = self.tok(end + 1)
            if self.fold_at(end) not in {",", "va"} or not (nxt and nxt.is_capitalized):
                break
            end += 1
        return end

    def has_own_modifier(self, k: int) -> bool:
        """'các cơ quan, đơn vị liên quan' at k: a collective closed by its own modifier."""
        end = self.collective(k, bare=False)
        noun_end = match_any(self.tokens, k + 1, self.registry.collective_nouns)
        return (
            end is not None
            and noun_end is not None
            and any(
                match_any(self.tokens, j, self.registry.collective_modifiers) == end
                for j in range(noun_end, end)
            )
        )

    def named_members(self, end: int) -> int:
        """'các trường Mầm non, Tiểu học, THCS': capitalized names right after a collective noun."""
        t = self.tok(end)
        if not (t and t.is_word and t.is_capitalized):
            return end
        if self.head_at(end) is not None:
            nxt = self.tok(end + 1)  # 'cơ quan Thuế,': one capitalized word names the body
            return end + 1 if nxt is None or not nxt.is_word else end
        if self.locality(end) is not None or self.party_at(end):
            return end
        end = self.name_body(end)
        while (
            self.fold_at(end) == "," and (t := self.tok(end + 1)) and t.is_word and t.is_capitalized
        ):
            if self.head_at(end + 1) is not None:
                break
            end = self.name_body(end + 1)
        return end

    def person(self, i: int) -> int | None:
        """'Thủ trưởng các đơn vị, địa phương', 'lực lượng Công an thành phố'."""
        end = match_any(self.tokens, i, self.registry.person_heads)
        if end is None:
            return None
        inner = self.named(end)
        if inner is None and fold(self.tokens[i].text) != "luc":
            inner = self.collective(end, bare=True)
        return inner

    def item(self, i: int, *, bare: bool) -> int | None:
        for parse in (self.person, self.named):
            end = parse(i)
            if end is not None:
                return end
        return self.collective(i, bare=bare)

    def agency_list(
        self, i: int, *, bare: bool = False, semicolons: bool = False
    ) -> list[tuple[int, int]]:
        """Items of an agency list starting at token i: [(first token, end token)], maybe empty."""
        items: list[tuple[int, int]] = []
        end = self.item(i, bare=bare)
        if end is None:
            return items
        items.append((i, end))
        while True:
            k = end
            seps = {",", "va"} | ({";"} if semicolons else set())
            if self.fold_at(k) not in seps:
                break
            k += 1
            if self.fold_at(k) == "va":
                k += 1
            nxt = self.item(k, bare=bare)
            if nxt is None:
                break
            items.append((k, nxt))
            end = nxt
        return items

    def text_of(self, text: str, span: tuple[int, int]) -> str:
        a, b = span
        return clean_spaces(text[self.tokens[a].start : self.tokens[b - 1].end])


_MEMBERS_RE = re.compile(r"^(?:các|tất cả các)\s+(\S+)\s*:\s*(.+)$", re.IGNORECASE)


def expand_members(printed: str, registry: Registry) -> list[str]:
    """'các Sở: Tài chính, Kế hoạch và Đầu tư' -> ['Sở Tài chính', 'Sở Kế hoạch và Đầu tư'].
    Comma and 'và' parts are joined back when the joined name is a known agency ('Sở Văn hóa,
    Thể thao và Du lịch'); other names split at commas and keep their 'và'."""
    m = _MEMBERS_RE.match(printed)
    if not m:
        return [printed]
    head = m.group(1)[:1].upper() + m.group(1)[1:]
    parts = [p.strip() for p in re.split(r",\s*|\s+và\s+", m.group(2)) if p.strip()]
    seps = re.findall(r",\s*|\s+và\s+", m.group(2))
    out: list[str] = []
    k = 0
    while k < len(parts):
        best = k
        for j in range(len(parts) - 1, k, -1):
            joined = parts[k] + "".join(seps[n] + parts[n + 1] for n in range(k, j))
            if registry.type_of(f"{head} {joined}") is not None:
                best = j
                break
        if best == k and k + 1 < len(parts) and seps[k].strip() == "và":
            if registry.type_of(f"{head} {parts[k]}") is None:
                best = k + 1  # 'Kế hoạch và Đầu tư' when neither half is known alone
        joined = parts[k] + "".join(seps[n] + parts[n + 1] for n in range(k, best))
        out.append(f"{head} {clean_spaces(joined)}")
        k = best + 1
    return out


def parse_heading_agencies(title: str, registry: Registry | None = None) -> list[str]:
    """Agencies a 'Tổ chức thực hiện' heading names, or [] when it is not only agencies."""
    registry = registry or load_registry()
    title = re.sub(r"[^\w)]+$", "", clean_spaces(title))
    tokens = tokenize(title)
    start = match_any(tokens, 0, _HEADING_OPENERS) or 0
    end = len(tokens)
    for k in range(start + 1, len(tokens)):
        if match_any(tokens, k, _HEADING_CLOSERS) == len(tokens):
            end = k
            break
    parser = AgencyParser(tokens[:end], registry)
    items = parser.agency_list(start, bare=True, semicolons=True)
    if not items or items[-1][1] != end:
        return []
    if all(
        parser.collective(a, bare=False) is None and parser.item(a, bare=False) is None
        for a, _ in items
    ):
        return []  # bare common nouns ('TỔ CHỨC THỰC HIỆN', 'Quan điểm'): no agency named
    return [parser.text_of(title, span) for span in items]


# ---------------------------------------------------------------- resolution


@dataclass(frozen=True)
class Locality:
    """A place the document belongs to: kind ('thành phố') and name ('Hải Phòng')."""

    kind: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}".strip()


@dataclass
class AgencyResolver:
    """Canonical names and stable ids, resolved against the issuer's locality and named places."""

    home: Locality | None
    places: dict[str, str]  # locality kind (folded) -> name, e.g. {'thanh pho': 'Hải Phòng'}
    registry: Registry

    def resolve(self, printed: str) -> dict:
        tokens = tokenize(printed)
        parser = AgencyParser(tokens, self.registry)
        i = 0
        person = match_any(tokens, 0, self.registry.person_heads)
        if person is not None and fold(tokens[0].text) == "luc" and parser.named(person):
            i = person
        if parser.named(i) is not None and not self._plural(tokens, i):
            return self._named(printed, tokens, i)
        return self._collective(printed)

    def _plural(self, tokens: list[Token], i: int) -> bool:
        """'UBND các xã, phường', 'UBND huyện, thị xã, thành phố': one head, many bodies."""
        rest = [t.fold for t in tokens[i + 1 :]]
        return "cac" in rest or (
            "," in rest
            and match_any(tokens, i, self.registry.aliases) is not None
            and self._type_of(tokens, i, i + 1) is not None
        )

    def _named(self, printed: str, tokens: list[Token], i: int) -> dict:
        end = match_any(tokens, i, self.registry.aliases)
        agency_type = self._type_of(tokens, i, end) if end is not None else None
        rest_start = (
            end
            if agency_type is not None and fold(agency_type.name) != fold("Báo")
            else len(tokens)
        )
        loc = self._locality(printed, tokens, rest_start)
        if agency_type is not None and agency_type.scope == "national":
            return {"name": printed, "canonical": agency_type.name, "id": f"vn/{agency_type.key}"}
        if agency_type is not None:
            extra = ""
            if rest_start < len(tokens) and loc is None:
                extra = " " + clean_spaces(printed[tokens[rest_start].start :])
            base = agency_type.name + extra
            key = agency_type.key + (("-" + slug(extra)) if extra else "")
        else:
            loc = self._locality(printed, tokens, i + 1)
            base, key = clean_spaces(self._strip_locality(printed, tokens)), None
        loc = loc or self.home
        canonical = f"{base} {loc.label}" if loc else base
        party = next((k for k in range(i + 1, len(tokens)) if self._is_party(tokens, k)), None)
        if party is not None and agency_type is not None and loc is not None:
            committee = clean_spaces(printed[tokens[party].start :])
            canonical = f"{base} {committee} {loc.name}"
        key = key or slug(self._strip_locality(printed, tokens))
        scope = (
            slug(loc.label)
            if loc and loc.name
            else "unknown" + (f"-{slug(loc.kind)}" if loc else "")
        )
        return {"name": printed, "canonical": clean_spaces(canonical), "id": f"{scope}/{key}"}

    def _is_party(self, tokens: list[Token], k: int) -> bool:
        """'Tỉnh ủy', 'Thành ủy': a party committee named after a body."""
        return (
            tokens[k].is_capitalized
            and match_any(tokens, k, self.registry.party_committees) is not None
        )

    def _is_locality(self, tokens: list[Token], k: int) -> int | None:
        if tokens[k].is_capitalized and not tokens[k].is_abbreviation:
            return None  # 'Xã hội' inside a name
        return match_any(tokens, k, self.registry.locality_types)

    def _type_of(self, tokens: list[Token], i: int, end: int) -> AgencyType | None:
        return self.registry.type_of(" ".join(t.text for t in tokens[i:end]))

    def _locality(self, printed: str, tokens: list[Token], start: int) -> Locality | None:
        for k in range(start, len(tokens)):
            end = self._is_locality(tokens, k)
            if end is None:
                continue
            kind = clean_spaces(printed[tokens[k].start : tokens[end - 1].end]).lower()
            kind = "thành phố" if fold(kind) == "tp" else kind
            name = clean_spaces(printed[tokens[end].start :]) if end < len(tokens) else ""
            if not name or not name[0].isupper():
                if self.home and fold(kind) == fold(self.home.kind):
                    name = self.home.name
                else:
                    name = self.places.get(fold(kind), "")
            return Locality(kind, name)
        for k in range(start, len(tokens)):
            if self._is_party(tokens, k):
                kind = _PARTY_KINDS.get(tokens[k].fold)
                if kind is None or (self.home and fold(self.home.kind) == kind):
                    return self.home
                name = self.places.get(kind, "")
                return Locality(_KIND_NAMES.get(kind, kind), name)
        return None

    def _strip_locality(self, printed: str, tokens: list[Token]) -> str:
        for k in range(1, len(tokens)):
            if self._is_locality(tokens, k) or self._is_party(tokens, k):
                return printed[: tokens[k].start]
        return printed

    def _collective(self, printed: str) -> dict:
        words = printed[0].lower() + printed[1:] if printed[:3].lower() == "các" else printed
        tokens = tokenize(words)
        end = match_any(tokens, 0, self.registry.aliases)
        agency_type = self._type_of(tokens, 0, end) if end is not None else None
        if agency_type is not None and end < len(tokens):
            words = f"{agency_type.name} {words[tokens[end].start :]}"
        scope = slug(self.home.label) if self.home else "unknown"
        canonical = f"{words} ({self.home.label})" if self.home else words
        return {"name": printed, "canonical": canonical, "id": f"{scope}/group:{slug(words)}"}


_PLACE_RE = re.compile(
    r"(?<!\w)(tỉnh|thành phố|TP\.?|huyện|quận|thị xã|xã|phường|thị trấn|đặc khu)\s+"
    r"((?:[^\W\d_][\w'’]*)(?:[ \t]+[^\W\d_][\w'’]*){0,2})"
)


def find_places(text: str, registry: Registry | None = None) -> dict[str, str]:
    """Place names printed after a locality kind: {'thanh pho': 'Hải Phòng', 'tinh': 'Nghệ An'}."""
    counts: dict[tuple[str, str], int] = {}
    for m in _PLACE_RE.finditer(text):
        words = []
        for word in m.group(2).split():
            if not word[0].isupper() or (len(word) > 1 and word.isupper()):
                break
            words.append(word)
        if not words:
            continue
        kind = fold(m.group(1)).rstrip(".")
        kind = "thanh pho" if kind == "tp" else kind
        counts[(kind, " ".join(words))] = counts.get((kind, " ".join(words)), 0) + 1
    places: dict[str, str] = {}
    for (kind, name), _ in sorted(counts.items(), key=lambda kv: -kv[1]):
        places.setdefault(kind, name)
    return places
