"""Document fields from the header and signature block: issuer, type, number, date, signer..."""

from __future__ import annotations

import re
from datetime import date

from rapidfuzz import fuzz, process
from vanban.segment.agencies import load_registry
from vanban.segment.lexicon import clean_spaces, fold, match_any, tokenize

DOC_TYPES = {
    "ke hoach": "Kế hoạch",
    "quyet dinh": "Quyết định",
    "de an": "Đề án",
    "chi thi": "Chỉ thị",
    "thong bao": "Thông báo",
    "bao cao": "Báo cáo",
    "nghi quyet": "Nghị quyết",
    "to trinh": "Tờ trình",
    "huong dan": "Hướng dẫn",
    "chuong trinh": "Chương trình",
    "quy che": "Quy chế",
    "quy dinh": "Quy định",
    "cong van": "Công văn",
    "ket luan": "Kết luận",
    "phuong an": "Phương án",
    "giay phep": "Giấy phép",
    "cong dien": "Công điện",
    "giay moi": "Giấy mời",
}
_CODE_TYPES = {
    "KH": "Kế hoạch",
    "QĐ": "Quyết định",
    "QD": "Quyết định",
    "ĐA": "Đề án",
    "CT": "Chỉ thị",
    "TB": "Thông báo",
    "BC": "Báo cáo",
    "NQ": "Nghị quyết",
    "TTr": "Tờ trình",
    "HD": "Hướng dẫn",
    "GP": "Giấy phép",
    "CTr": "Chương trình",
    "QC": "Quy chế",
    "CĐ": "Công điện",
}
_CODE_FIX = {"QD": "QĐ", "ND": "NĐ", "DA": "ĐA", "HDND": "HĐND", "DU": "ĐU"}
_ISSUER_TYPES = {
    "uy ban nhan dan": "Ủy ban nhân dân",
    "hoi dong nhan dan": "Hội đồng nhân dân",
    "ubnd": "Ủy ban nhân dân",
    "van phong": "Văn phòng",
    "cong an": "Công an",
    "so": "Sở",
    "bo": "Bộ",
    "ban": "Ban",
    "tinh uy": "Tỉnh ủy",
    "thanh uy": "Thành ủy",
    "chinh phu": "Chính phủ",
    "thu tuong chinh phu": "Thủ tướng Chính phủ",
}
_LOCALITY = {
    "tinh": "tỉnh",
    "thanh pho": "thành phố",
    "huyen": "huyện",
    "quan": "quận",
    "thi xa": "thị xã",
    "xa": "xã",
    "phuong": "phường",
    "thi tran": "thị trấn",
    "dac khu": "đặc khu",
}
_MOTTO = re.compile(
    r"(C[ỘO]NG\s+H[ÒO]A.*?VI[ỆE]T\s+NAM|[ĐDPB][ỘOQ]C\s+L[ẬA]P.*?H[ẠA]NH\s+PH[ÚU]C|"
    r"\S{2,5}\s+\S?[l1I]\S*p\s*[-–—]\s*T\S*\s+do\s*[-–—]\s*H\S*\s+ph\S*c)",
    re.IGNORECASE,
)
_NUMBER_RE = re.compile(
    r"\bS\S{0,2}\s*:\s*(\d{1,5})\s*/\s*((?:\d{4}/)?[A-ZĐa-zđ0-9]+(?:\s*-\s*[A-ZĐa-zđ0-9]+)*)"
)
_DATE_RE = re.compile(
    r"ng\S{1,3}\s+(\d{1,2})\s+th\S{1,4}\s+(\d{1,2})\s+n\S{1,3}\s+(\d{4})", re.IGNORECASE
)
_NUMBER_LINE_RE = re.compile(r"\bS[ốôo]\s*:\s*(?P<rest>\S*)", re.IGNORECASE)
_PLACE_DATE_RE = re.compile(  # 'Lào Cai, ngày   tháng   năm 2026': day or month may be blank
    r"(?P<place>[A-ZĐÀ-Ỹ][^\W\d_]*(?:\s+[A-ZĐÀ-Ỹ][^\W\d_]*){0,3})\s*,\s*ng\S{1,3}\s+"
    r"(?P<day>\S{0,3}?)\s*th\S{1,4}\s+(?P<month>\S{0,3}?)\s*n\S{1,3}\s+(?P<year>\S{2,4})"
)
_VV_RE = re.compile(r"^\s*V/v\.?\s*:?\s*(.+)$", re.IGNORECASE)
_TITLE_STOP_RE = re.compile(
    r"^\W*(Căn cứ|Thực hiện|Theo đề nghị|Theo|Để|Nhằm|Kính gửi|Xét|Trên cơ sở|Qua)\b"
)
_SHORT_DATE_RE = re.compile(r"(\d{1,2})\s*/\s*(\d{1,2})\s*/\s*(\d{4})")
_REFERENCE_RE = re.compile(
    r"\b(Nghị quyết|Quyết định|Kế hoạch|Chỉ thị|Nghị định|Thông tư|Kết luận|Hướng dẫn|Công văn|"
    r"Thông báo|Tờ trình|Luật|Đề án|Chiến lược)\s+(?:số\s+)"
    r"(\d{1,5}(?:/\d{4})?\s*[/-]\s*[A-ZĐ][A-ZĐa-z0-9]*(?:\s*-\s*[A-ZĐ0-9][A-ZĐa-z0-9]*)*)"
    r"(?:\s+ngày\s+(\d{1,2}\s*/\s*\d{1,2}\s*/\s*\d{4}))?"
)
_CAPACITY_RE = re.compile(r"\b(TM|KT|Q|TL|TUQ|TQ)\s*\.\s*(.+)$")
_NOT_NAMES = {
    "so",
    "ban",
    "bo",
    "ubnd",
    "uy",
    "phong",
    "cong",
    "van",
    "hoi",
    "bao",
    "dai",
    "luu",
    "noi",
    "tm",
    "kt",
}
_POSITIONS = (
    "PHÓ CHỦ TỊCH",
    "CHỦ TỊCH",
    "PHÓ GIÁM ĐỐC",
    "GIÁM ĐỐC",
    "CHÁNH VĂN PHÒNG",
    "PHÓ CHÁNH VĂN PHÒNG",
    "BỘ TRƯỞNG",
    "THỨ TRƯỞNG",
    "TRƯỞNG BAN",
    "PHÓ TRƯỞNG BAN",
    "BÍ THƯ",
    "PHÓ BÍ THƯ",
    "THỦ TRƯỞNG",
)


def _iso(day: str, month: str, year: str) -> str | None:
    try:
        return date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return None


def proper_case(text: str) -> str:
    """'ỦY BAN NHÂN DÂN THÀNH PHỐ HẢI PHÒNG' -> 'Ủy ban nhân dân thành phố Hải Phòng'."""
    words = clean_spaces(text).split()
    out: list[str] = []
    k = 0
    while k < len(words):
        for size in (4, 3, 2, 1):
            phrase = fold(" ".join(words[k : k + size]))
            if phrase in _ISSUER_TYPES and not out:
                out.append(_ISSUER_TYPES[phrase])
                k += size
                break
            if (
                phrase in _LOCALITY
                and size <= 2
                and (not out or out[-1][0].isupper() or len(out) >= 1)
            ):
                out.append(_LOCALITY[phrase])
                k += size
                break
        else:
            out.append(words[k][:1].upper() + words[k][1:].lower())
            k += 1
    return " ".join(out)


def _header_lines(lines: list[str], doc_type_index: int | None) -> list[str]:
    end = doc_type_index if doc_type_index is not None else min(len(lines), 6)
    return lines[:end]


def find_doc_type(lines: list[str]) -> tuple[str | None, int | None]:
    """The first all-capitals line naming a document type (OCR-tolerant)."""
    for k, line in enumerate(lines[:60]):
        text = clean_spaces(line).strip(" :*#")
        if not text or text.upper() != text or len(text) > 20:
            continue
        key = fold(text)
        best = process.extractOne(key, list(DOC_TYPES), scorer=fuzz.ratio, score_cutoff=80)
        if best:
            return DOC_TYPES[best[0]], k
    return None, None


def find_issuer(header: list[str]) -> str | None:
    """Left column of the header: capitals that are not the motto, number or date line."""
    parts = []
    for line in header:
        text = _MOTTO.sub(" ", line)
        if _NUMBER_RE.search(text) or _NUMBER_LINE_RE.search(text) or _DATE_RE.search(text):
            text = _NUMBER_LINE_RE.split(text)[0] if _NUMBER_LINE_RE.search(text) else ""
            text = clean_spaces(text)
            if text and sum(c.isupper() for c in text) >= 0.7 * sum(c.isalpha() for c in text):
                parts.append(text)  # 'SỞ Y TẾ Số: 12/SYT' printed on one line
            break
        text = clean_spaces(text)
        if text and sum(c.isupper() for c in text) >= 0.7 * sum(c.isalpha() for c in text) > 0:
            parts.append(text)
    if not parts:
        return None
    body = _subordinate_body(parts)
    return body if body else registry_case(proper_case(" ".join(parts)))


def registry_case(name: str) -> str:
    """'Bộ Nông Nghiệp Và Môi Trường' -> 'Bộ Nông nghiệp và Môi trường' (a registry name)."""
    agency_type = load_registry().type_of(name)
    return agency_type.name if agency_type is not None else name


def _subordinate_body(parts: list[str]) -> str | None:
    """'UBND TỈNH NGHỆ AN' over 'SỞ Y TẾ' -> 'Sở Y tế tỉnh Nghệ An' (the lower line issues)."""
    if len(parts) < 2:
        return None
    registry = load_registry()
    for k in range(1, len(parts)):
        tokens = tokenize(" ".join(parts[k:]))
        end = match_any(tokens, 0, registry.aliases)
        agency_type = registry.type_of(" ".join(t.text for t in tokens[:end])) if end else None
        if agency_type is None or agency_type.key == "ubnd":
            continue
        parent = proper_case(" ".join(parts[:k]))
        m = re.search(r"\b(tỉnh|thành phố|huyện|quận|thị xã|xã|phường)\s+(.+)$", parent)
        rest = proper_case(" ".join(t.text for t in tokens[end:]))
        if m and fold(rest) == fold(m.group(1)):
            rest = ""  # 'CÔNG AN THÀNH PHỐ' under 'UBND THÀNH PHỐ HẢI PHÒNG'
        name = f"{agency_type.name} {rest}".strip()
        return f"{name} {m.group(1)} {m.group(2)}" if m else name
    return None


def _place_words(text: str) -> str | None:
    """The trailing title-case words ('/KH-UBND Hải Phòng' -> 'Hải Phòng')."""
    words: list[str] = []
    for word in reversed(text.split()):
        if not (word[:1].isupper() and (len(word) == 1 or word[1:].islower())):
            break
        words.insert(0, word)
    return " ".join(words) or None


def find_number(header_text: str, review: list[str] | None = None) -> str | None:
    m = _NUMBER_RE.search(header_text)
    if not m:
        blank = _NUMBER_LINE_RE.search(header_text)
        if blank and review is not None:
            review.append("number: blank or unreadable after 'Số:'")
        return None
    code = re.sub(r"\s+", "", m.group(2))
    code = "-".join(_CODE_FIX.get(p.upper(), p) for p in code.split("-"))
    return f"{m.group(1)}/{code}"


def find_place_and_date(
    lines: list[str], review: list[str] | None = None
) -> tuple[str | None, str | None]:
    """'Hà Nội, ngày 10 tháng 6 năm 2026' in the header (never a 'Căn cứ ...' line); a blank or
    unreadable day or month gives date None and a note in `review`."""
    for line in lines[:40]:
        if _TITLE_STOP_RE.match(line):
            break  # the body has begun: dates there belong to cited documents
        m = _PLACE_DATE_RE.search(line)
        if m and not _DATE_RE.search(line[m.start() :]):
            if review is not None:
                review.append("date: day or month blank or unreadable in the header")
            return _place_words(m.group("place")), None
        m = _DATE_RE.search(line)
        if m:
            before = line[: m.start()]
            before = _MOTTO.sub(" ", before)
            before = (
                re.sub(r".*?/\s*[A-ZĐa-zđ0-9-]+\s", "", before)
                if _NUMBER_RE.search(before)
                else before
            )
            place = clean_spaces(before).strip(" ,")
            return (place or None), _iso(*m.groups())
    return None, None


def find_title(
    lines: list[str], doc_type_index: int | None, gaps: frozenset[int] = frozenset()
) -> str | None:
    """The trích yếu: the lines under the document type, up to the first blank line after them
    (or the first line printed after a blank gap, `gaps`: OCR often drops that blank line)."""
    if doc_type_index is None:
        return None
    parts: list[str] = []
    for k in range(doc_type_index + 1, min(doc_type_index + 12, len(lines))):
        text = clean_spaces(lines[k]).strip("#* ")
        if parts and k in gaps:
            break
        if not text:
            if parts:
                break
            continue
        if _MOTTO.search(text) or (text.upper() == text and parts):
            break
        if parts and (_TITLE_STOP_RE.match(text) or len(text) > 250):
            break  # the body's first paragraph ('Thực hiện ...', 'Căn cứ ...')
        parts.append(text)
    title = clean_spaces(" ".join(parts))
    return title or None


def _signature_lines(lines: list[str]) -> list[str]:
    """From the first 'Nơi nhận' to a few lines after its 'Lưu:' line (else the end)."""
    for k, line in enumerate(lines):
        if re.match(r"^\W*n\S{1,2}i\s+nh\S{1,2}n", line.strip(), re.IGNORECASE):
            for j in range(k + 1, len(lines)):
                if fold(lines[j].strip(" -+•")).startswith("luu"):
                    return lines[k : j + 12]
            return lines[k:]
    return lines[-25:]


def find_signing(lines: list[str]) -> tuple[str | None, str | None]:
    """Signing capacity ('TM. ỦY BAN NHÂN DÂN / KT. CHỦ TỊCH / PHÓ CHỦ TỊCH') and signer."""
    block = _signature_lines(lines)
    capacity: list[str] = []
    for line in block:
        m = _CAPACITY_RE.search(line)
        if m:
            capacity.append(clean_spaces(f"{m.group(1)}. {m.group(2)}"))
            continue
        upper = line.upper()
        for position in _POSITIONS:
            if position in upper and upper.strip().endswith(position) and capacity:
                capacity.append(position)
                break
    signer = None
    for line in reversed(block):
        text = line.strip()
        m = re.search(r"(^|,\s*|\s{2,})((?:[A-ZĐ][^\W\d_]*\s+){1,4}[A-ZĐ][^\W\d_]*)$", text)
        if not m or (text.startswith(("-", "+")) and not m.group(1)):
            continue
        name = m.group(2)
        words = name.split()
        if all(w[1:].islower() or len(w) == 1 for w in words) and fold(words[0]) not in _NOT_NAMES:
            signer = name
            break
    return (" / ".join(capacity) or None), signer


def find_recipients(lines: list[str]) -> list[str]:
    block = _signature_lines(lines)
    out = []
    for line in block[1:] if block else []:
        text = clean_spaces(line)
        if not text.startswith(("-", "+", "•")):
            continue
        text = text.lstrip("-+• ").strip()
        text = re.sub(r"\s+(TM|KT|Q|TL)\s*\..*$", "", text)
        for position in _POSITIONS:
            if text.upper().endswith(" " + position):
                text = text[: -len(position)].strip()
        text = text.rstrip(" ;,.:")
        if fold(text).startswith("luu"):
            break  # the archive line closes the list
        if text:
            out.append(text)
    return out


def find_references(text: str) -> list[dict]:
    """Documents cited in the text, first mention of each number."""
    seen: set[str] = set()
    refs = []
    for m in _REFERENCE_RE.finditer(clean_spaces(text)):
        number = re.sub(r"\s+", "", m.group(2))
        if number in seen:
            continue
        seen.add(number)
        when = _iso(*re.split(r"\s*/\s*", m.group(3))) if m.group(3) else None
        refs.append(
            {"text": clean_spaces(m.group(0)), "type": m.group(1), "number": number, "date": when}
        )
    return refs


def infer_issuer(text: str, number: str | None, place: str | None) -> str | None:
    """When the header lost the issuer: 'UBND tỉnh Nghệ An ban hành ...', or number + place."""
    pattern = (
        r"(Ủy ban nhân dân|UBND|Uy ban nhan dan)\s+"
        r"(tỉnh|thành phố|huyện|quận|thị xã|xã|phường|thị trấn)\s+"
        r"([A-ZĐÀ-Ỹ][\wÀ-ỹ]*(?:\s+[A-ZĐÀ-Ỹ][\wÀ-ỹ]*){0,3})"
    )
    issuing = re.findall(pattern + r"\s+(?:xây dựng|ban hành|xay dung|ban hanh)", text)
    if issuing and not number:
        _, kind, name = issuing[0]
        return f"Ủy ban nhân dân {kind} {name}"
    candidates = re.findall(pattern, text)
    if place:
        candidates = [c for c in candidates if fold(c[2]) == fold(place)] or candidates
    if candidates and number and number.endswith("UBND"):
        _, kind, name = candidates[0]
        return f"Ủy ban nhân dân {kind} {name}"
    if candidates and not number:
        _, kind, name = candidates[-1]
        return f"Ủy ban nhân dân {kind} {name}"
    return None


def extract_metadata(lines: list[str], gaps: frozenset[int] = frozenset()) -> dict:
    """The `document` object of the output (fields null when not found). `gaps`: indices of
    lines printed after a blank gap (`segment.layout.gap_lines`), when the layout is known."""
    review: list[str] = []
    doc_type, type_index = find_doc_type(lines)
    subject_index = _official_letter_subject(lines) if type_index is None else None
    if subject_index is not None:
        doc_type = "Công văn"  # no type line, a 'V/v ...' subject under the number
    header_end = type_index if type_index is not None else subject_index
    header = _header_lines(lines, header_end)
    header_text = "\n".join(lines[: (header_end or 0) + 6])
    number = find_number(header_text, review)
    place, when = find_place_and_date(lines, review)
    issuer = find_issuer(header) if header_end is not None else None
    full_text = "\n".join(lines)
    if not issuer:
        issuer = infer_issuer(clean_spaces(full_text), number, place)
    if doc_type is None and number:
        code = number.split("/", 1)[1].split("-")[0]
        doc_type = _CODE_TYPES.get(code)
    capacity, signer = find_signing(lines)
    if subject_index is not None:
        title = _official_letter_title(lines, subject_index)
    else:
        title = find_title(lines, type_index, gaps)
    return {
        "issuer": issuer,
        "doc_type": doc_type,
        "number": number,
        "date": when,
        "place": place,
        "title": title,
        "signer": signer,
        "signing_capacity": capacity,
        "recipients": find_recipients(lines),
        "references": find_references(full_text),
        "review": review,
    }


def _official_letter_subject(lines: list[str]) -> int | None:
    """Index of the 'V/v ...' line of a Công văn's header, if any."""
    for k, line in enumerate(lines[:15]):
        if _VV_RE.match(line):
            return k
    return None


def _official_letter_title(lines: list[str], k: int) -> str:
    """The 'V/v' subject, with its continuation lines (up to 'Kính gửi' or a blank)."""
    parts = [_VV_RE.match(lines[k]).group(1)]
    for line in lines[k + 1 : k + 4]:
        text = clean_spaces(line)
        if not text or _TITLE_STOP_RE.match(text) or _DATE_RE.search(text) or _MOTTO.search(text):
            break
        if text[:1].isupper():
            break
        parts.append(text)
    return clean_spaces(" ".join(parts))
