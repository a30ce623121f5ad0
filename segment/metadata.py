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
        if _NUMBER_RE.search(text) or _DATE_RE.search(text):
            break
        text = clean_spaces(text)
        if text and sum(c.isupper() for c in text) >= 0.7 * sum(c.isalpha() for c in text) > 0:
            parts.append(text)
    if not parts:
        return None
    body = _subordinate_body(parts)
    return body if body else proper_case(" ".join(parts))


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


def find_number(header_text: str) -> str | None:
    m = _NUMBER_RE.search(header_text)
    if not m:
        return None
    code = re.sub(r"\s+", "", m.group(2))
    code = "-".join(_CODE_FIX.get(p.upper(), p) for p in code.split("-"))
    return f"{m.group(1)}/{code}"


def find_place_and_date(lines: list[str]) -> tuple[str | None, str | None]:
    for line in lines[:40]:
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
        if text and not fold(text).startswith("luu"):
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
    doc_type, type_index = find_doc_type(lines)
    header = _header_lines(lines, type_index)
    header_text = "\n".join(lines[: (type_index or 0) + 6])
    number = find_number(header_text)
    place, when = find_place_and_date(lines)
    issuer = find_issuer(header) if type_index is not None else None
    full_text = "\n".join(lines)
    if not issuer:
        issuer = infer_issuer(clean_spaces(full_text), number, place)
    if doc_type is None and number:
        code = number.split("/", 1)[1].split("-")[0]
        doc_type = _CODE_TYPES.get(code)
    capacity, signer = find_signing(lines)
    return {
        "issuer": issuer,
        "doc_type": doc_type,
        "number": number,
        "date": when,
        "place": place,
        "title": find_title(lines, type_index, gaps),
        "signer": signer,
        "signing_capacity": capacity,
        "recipients": find_recipients(lines),
        "references": find_references(full_text),
    }
