"""segment/: numbering schemes, assignment patterns, metadata, malformed input, schema validity."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
from vanban.segment import load_schema, segment_document, segment_text
from vanban.segment.agencies import parse_heading_agencies

from vanban.core.records import Provenance, TextLine

FIXTURES = Path(__file__).parent / "fixtures" / "segment"
SHARED = Path(__file__).resolve().parents[2] / "shared"


def run(name: str) -> dict:
    result = segment_text((FIXTURES / name).read_text(encoding="utf-8"), source=name)
    jsonschema.validate(result, load_schema())
    return result


def ids(result: dict) -> list[str]:
    return [s["id"] for s in result["sections"]]


def roles(result: dict, section: str) -> list[tuple[list[str], list[str], list[str]]]:
    return [
        (
            [a["name"] for a in x["lead"]],
            [a["name"] for a in x["support"]],
            [a["name"] for a in x["executors"]],
        )
        for x in result["assignments"]
        if x["section"] == section
    ]


@pytest.fixture(scope="module")
def plan() -> dict:
    return run("plan.txt")


# ---------------------------------------------------------------- numbering schemes


def test_roman_arabic_decimal_and_letters_nest_into_dotted_ids(plan):
    assert ids(plan)[:11] == [
        "I",
        "I.1",
        "I.2",
        "II",
        "II.1",
        "II.1.1",
        "II.1.1.a",
        "II.1.1.b",
        "II.1.1.c",
        "II.1.1.d",
        "II.1.1.đ",
    ]
    levels = {s["id"]: s["level"] for s in plan["sections"]}
    assert levels["II"] == 1 and levels["II.1.1"] == 3 and levels["II.1.1.a"] == 4


def test_ocr_labels_are_repaired_from_the_sequence(plan):
    # 'Il.' is II, '¢)' is c), and a second 'd)' after 'd)' is 'đ)'
    numbers = [s["number"] for s in plan["sections"]]
    assert "II" in numbers and "c" in ids(plan)[8] and ids(plan)[10].endswith(".đ")


def test_multi_line_heading_keeps_its_whole_title(plan):
    section = next(s for s in plan["sections"] if s["id"] == "II.1")
    assert section["title"].endswith("trên địa bàn thành phố")


def test_bullets_and_page_numbers_are_not_sections(plan):
    assert not any(s["title"].startswith(("Các nội dung", "Dấu cộng")) for s in plan["sections"])
    two = next(s for s in plan["sections"] if s["id"] == "II.2")
    assert two["title"] == "Xây dựng lực lượng"
    assert (
        ids(plan)[ids(plan).index("II.2") + 1] == "III"
    )  # the footnote '3' did not break the tree


def test_decision_parts_chapters_articles():
    result = run("decision.txt")
    assert ids(result)[:3] == ["Điều 1", "Điều 2", "Điều 3"]
    assert "Phần 1.Chương I.Điều 1.2" in ids(result)
    assert "Phần 2.1" in ids(result)
    assert roles(result, "Phần 2.1") == [(["Công an tỉnh"], [], [])]


def test_khoan_clauses():
    result = segment_text("Điều 1. Phạm vi\nKhoản 1. Quy định chung.\nKhoản 2. Quy định riêng.\n")
    assert ids(result) == ["Điều 1", "Điều 1.Khoản 1", "Điều 1.Khoản 2"]


def test_markdown_input():
    result = run("plan.md")
    assert ids(result) == ["I", "I.1", "I.2", "I.2.1", "II", "II.1", "II.2"]
    assert result["document"]["doc_type"] == "Kế hoạch"
    assert result["document"]["issuer"] == "Ủy ban nhân dân tỉnh Nghệ An"


# ---------------------------------------------------------------- assignment patterns


def test_parenthetical_executors(plan):
    assert roles(plan, "II.1.1.a") == [([], [], ["Sở Tư pháp", "Công an thành phố"])]


def test_parenthetical_lead_and_support_with_deadline(plan):
    assert roles(plan, "II.1.1.b") == [
        (["Công an thành phố"], ["các sở, ban, ngành, địa phương"], [])
    ]
    task = next(a for a in plan["assignments"] if a["section"] == "II.1.1.b")
    assert task["deadline"] == "hoàn thành trong quý I/2026"


def test_subject_with_chu_tri_and_participants(plan):
    assert roles(plan, "II.2") == [(["Lực lượng Công an thành phố"], ["các lực lượng khác"], [])]


def test_heading_agency_leads_its_chu_tri_tasks(plan):
    lead, support, executors = roles(plan, "III.1.a")[0]
    assert lead == ["Sở Văn hóa, Thể thao và Du lịch"]  # a name with a comma and 'và' stays whole
    assert support == ["Sở Giáo dục và Đào tạo", "các sở, ban, ngành, địa phương"]
    deadline = next(a for a in plan["assignments"] if a["section"] == "III.1.a")["deadline"]
    assert deadline == "hoàn thành trước năm 2027"


def test_heading_agency_carries_out_other_tasks(plan):
    assert roles(plan, "III.1.b") == [
        ([], ["Công an thành phố"], ["Sở Văn hóa, Thể thao và Du lịch"])
    ]
    assert roles(plan, "III.2") == [([], [], ["Sở Tài chính"])]


def test_de_nghi_heading_and_bare_collective(plan):
    assert roles(plan, "III.3") == [
        ([], ["cơ quan, tổ chức liên quan"], ["Ủy ban Mặt trận Tổ quốc Việt Nam thành phố"])
    ]


def test_giao_sentence_after_the_last_heading_belongs_to_the_part(plan):
    assert roles(plan, "III") == [(["Công an thành phố"], [], [])]


def test_agency_lists_split_on_commas_and_va_but_keep_names_whole():
    assert parse_heading_agencies(
        "Bộ Chỉ huy Quân sự thành phố, Ban Chỉ huy Bộ đội Biên phòng thành phố"
    ) == ["Bộ Chỉ huy Quân sự thành phố", "Ban Chỉ huy Bộ đội Biên phòng thành phố"]
    assert parse_heading_agencies("Đề nghị Ủy ban MTTQ và các tổ chức chính trị - xã hội tỉnh") == [
        "Ủy ban MTTQ",
        "các tổ chức chính trị - xã hội tỉnh",
    ]
    assert parse_heading_agencies("Các sở, ban, ngành khác ở cấp tỉnh") == [
        "Các sở, ban, ngành khác ở cấp tỉnh"
    ]
    assert parse_heading_agencies("Sở Giáo dục và Đào tạo") == ["Sở Giáo dục và Đào tạo"]
    assert parse_heading_agencies("Mục tiêu cụ thể") == []


def test_guided_or_demonstrative_agencies_get_no_role():
    text = "III. TỔ CHỨC THỰC HIỆN\n1. Sở Tài chính\n"
    text += "Chủ trì, hướng dẫn các sở, ngành, địa phương lập dự toán.\n"
    assert roles(segment_text(text), "III.1") == [(["Sở Tài chính"], [], [])]
    text = "I. QUAN ĐIỂM\nViệc này do sở, ngành, địa phương đó chủ trì ứng phó.\n"
    assert segment_text(text)["assignments"] == []


def test_a_minister_or_governor_heading_gives_its_items_a_subject():
    text = "Điều 5. Tổ chức thi hành\n1. Bộ trưởng Bộ Khoa học và Công nghệ có trách nhiệm:\n"
    text += "a) Tổ chức thi hành Nghị quyết này;\n"
    text += "b) Chủ trì, phối hợp với các bộ rà soát văn bản.\n"
    text += "2. Thống đốc Ngân hàng Nhà nước Việt Nam hướng dẫn việc cho vay.\n"
    result = segment_text(text)
    minister = "Bộ trưởng Bộ Khoa học và Công nghệ"
    assert roles(result, "Điều 5.1.a") == [([], [], [minister])]
    assert roles(result, "Điều 5.1.b") == [([minister], ["các bộ"], [])]
    assert roles(result, "Điều 5.2") == [([], [], ["Thống đốc Ngân hàng Nhà nước Việt Nam"])]


def test_agencies_resolve_against_the_issuers_locality(plan):
    lead = next(a for a in plan["assignments"] if a["section"] == "II.1.1.b")["lead"][0]
    assert lead["canonical"] == "Công an thành phố Hải Phòng"
    assert lead["id"] == "thanh-pho-hai-pho-ng/cong-an" or lead["id"].endswith("/cong-an")
    other = next(a for a in plan["assignments"] if a["section"] == "III.1.a")["lead"][0]
    assert other["id"].endswith("/so-van-hoa-the-thao-du-lich")
    assert other["canonical"] == "Sở Văn hóa, Thể thao và Du lịch thành phố Hải Phòng"


# ---------------------------------------------------------------- metadata


def test_document_fields(plan):
    doc = plan["document"]
    assert doc["issuer"] == "Ủy ban nhân dân thành phố Hải Phòng"
    assert (doc["doc_type"], doc["number"], doc["date"], doc["place"]) == (
        "Kế hoạch",
        "12/KH-UBND",
        "2026-02-03",
        "Hải Phòng",
    )
    assert doc["title"].startswith("Triển khai Quyết định số 45/QĐ-TTg") and doc["title"].endswith(
        "thiên tai"
    )
    assert doc["signer"] == "Nguyễn Văn Minh"
    assert doc["signing_capacity"] == "TM. ỦY BAN NHÂN DÂN / CHỦ TỊCH"
    assert doc["recipients"] == ["Thủ tướng Chính phủ (để báo cáo)", "Các sở, ban, ngành thành phố"]
    assert doc["references"][0] == {
        "text": "Quyết định số 45/QĐ-TTg ngày 10/1/2026",
        "type": "Quyết định",
        "number": "45/QĐ-TTg",
        "date": "2026-01-10",
    }


# ---------------------------------------------------------------- malformed input


def test_empty_file():
    result = segment_text("")
    jsonschema.validate(result, load_schema())
    assert result["sections"] == [] and result["assignments"] == []
    assert result["document"]["issuer"] is None


def test_no_headings_at_all():
    result = segment_text("Một đoạn văn không có đề mục.\nDòng thứ hai của đoạn văn.\n")
    jsonschema.validate(result, load_schema())
    assert result["sections"] == []


def test_a_caps_title_over_a_restarting_list_is_the_roman_heading_whose_label_was_lost():
    text = "I. MỤC ĐÍCH, YÊU CẦU\n1. Phòng ngừa rủi ro.\n2. Quán triệt chủ trương.\n"
    text += "MỤC TIÊU\n1. Mục tiêu tổng quát\nBảo đảm an ninh.\n2. Mục tiêu cụ thể\n"
    sections = segment_text(text)["sections"]
    assert ids({"sections": sections}) == ["I", "I.1", "I.2", "II", "II.1", "II.2"]
    lost = next(s for s in sections if s["id"] == "II")
    assert lost["title"] == "MỤC TIÊU" and lost["label_repaired_from"] == "(missing)"


def test_a_caps_line_is_not_a_lost_heading_when_its_label_comes_later_or_nothing_restarts():
    later = "I. MỤC ĐÍCH\n1. Một.\n2. Hai.\nGHI CHÚ\n1. Ba.\nII. NHIỆM VỤ\n1. Bốn.\n"
    assert ids(segment_text(later)) == ["I", "I.1", "I.2", "II", "II.1"]
    no_restart = "I. MỤC ĐÍCH\n1. Một.\nGHI CHÚ QUAN TRỌNG\n2. Hai.\n"
    assert ids(segment_text(no_restart)) == ["I", "I.1", "I.2"]


def test_heading_number_that_jumps():
    text = "I. MỤC TIÊU\n1. Một\n2. Hai\n4. Bốn\n5. Năm\nII. NHIỆM VỤ\n1. Một\n"
    assert ids(segment_text(text)) == ["I", "I.1", "I.2", "I.4", "I.5", "II", "II.1"]


def test_far_jump_mid_sentence_is_not_a_heading():
    text = "I. MỤC TIÊU\n1. Một nội dung kéo dài sang dòng sau, theo\n25. điểm của văn bản khác.\n"
    assert ids(segment_text(text)) == ["I", "I.1"]


def test_provenance_uses_input_line_numbers_and_pages():
    lines = [
        TextLine(t, Provenance("x.pdf", line=k + 10, page=2))
        for k, t in enumerate(["I. MỤC TIÊU", "1. Nội dung."])
    ]
    result = segment_document(lines, source="x.pdf")
    jsonschema.validate(result, load_schema())
    assert [(s["line_start"], s["page"]) for s in result["sections"]] == [(10, 2), (11, 2)]


# ---------------------------------------------------------------- the shared seeds


@pytest.mark.shared
@pytest.mark.skipif(not (SHARED / "seeds").exists(), reason="../shared not present")
@pytest.mark.parametrize("prefix", ["000", "001", "002", "004"])
def test_every_seed_gives_valid_json(prefix):
    path = next((SHARED / "seeds").glob(f"{prefix}_*.txt"))
    result = segment_text(path.read_text(encoding="utf-8"), source=str(path))
    jsonschema.validate(result, load_schema())
    assert len(result["sections"]) > 20


def test_schema_accepts_the_pipeline_additions(plan):
    line = {
        "line": 1,
        "page": 1,
        "page_line": 1,
        "bbox": [10, 20, 300, 18],
        "ocr_text": "Ke hoach",
        "text": "Kế hoạch",
        "ocr_confidence": 91.5,
        "tokens": [{"source": "Ke", "text": "Kế", "confidence": 0.97}],
    }
    full = {**plan, "source": "scan.pdf", "pages": 3, "lines": [line]}
    jsonschema.validate(full, load_schema())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**full, "pages": "three"}, load_schema())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**plan, "sections": [{"id": "I"}]}, load_schema())


def test_registry_abbreviations_collectives_and_party_bodies():
    from vanban.segment.agencies import AgencyResolver, Locality, load_registry

    resolver = AgencyResolver(Locality("tỉnh", "Nghệ An"), {}, load_registry())
    assert (
        resolver.resolve("CA tỉnh")["id"]
        == resolver.resolve("Công an tỉnh")["id"]
        == "tinh-nghe-an/cong-an"
    )
    assert (
        resolver.resolve("UBMTTQ tỉnh")["canonical"]
        == "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh Nghệ An"
    )
    assert resolver.resolve("Bộ Công an")["id"] == "vn/bo-cong-an"
    group = resolver.resolve("UBND các xã, phường")
    assert group["id"].startswith("tinh-nghe-an/group:")
    assert group["canonical"] == "Ủy ban nhân dân các xã, phường (tỉnh Nghệ An)"
    assert resolver.resolve("Ban Dân vận Tỉnh ủy")["canonical"] == "Ban Dân vận Tỉnh ủy Nghệ An"


def test_arabic_caps_headings_stay_arabic_without_roman_ones():
    text = "1. MỤC ĐÍCH, YÊU CẦU\na) Nội dung một.\n2. NHIỆM VỤ\na) Nội dung hai.\n"
    assert ids(segment_text(text)) == ["1", "1.a", "2", "2.a"]


def test_digits_read_for_roman_numerals_are_repaired():
    text = "I. MỤC TIÊU\n1. Nội dung.\n11. NHIỆM VỤ\n1. Nội dung.\n111. KINH PHÍ\n"
    assert ids(segment_text(text)) == ["I", "I.1", "II", "II.1", "III"]


def test_de_an_assignment_part_with_bullets_and_jumping_numbers():
    """Patterns of seed 004 (Phần 3 of a Đề án), restored by hand: bullets are the tasks."""
    result = run("de_an_part3.txt")
    assert ids(result) == ["Phần 3", "Phần 3.1", "Phần 3.4", "Phần 3.15", "Phần 3.18", "Phần 3.19"]
    assert roles(result, "Phần 3.1") == [
        (["Công an tỉnh"], ["các đơn vị có liên quan"], []),
        ([], [], ["Công an tỉnh"]),
        (["Công an tỉnh"], ["Sở Tài chính"], []),  # 'Hằng năm, chủ trì, phối hợp với ...'
    ]
    mttq = roles(result, "Phần 3.15")
    assert mttq[0] == (
        [],
        ["lực lượng Công an"],
        ["Ủy ban MTTQ", "các tổ chức chính trị - xã hội tỉnh"],
    )
    assert mttq[1] == (["Ủy ban MTTQ tỉnh"], [], [])  # the task names its own subject
    assert roles(result, "Phần 3.18")[1] == (
        ["Công an huyện, thị xã, thành phố"],
        ["các đơn vị có liên quan"],
        [],
    )
    assert roles(result, "Phần 3.19") == [
        (
            [],
            [],
            [
                "các cơ quan Trung ương",
                "các cơ quan thuộc Tỉnh ủy",
                "các ban, ngành, đoàn thể tỉnh",
            ],
        )
    ]


def test_ward_plan_patterns_of_seed_001():
    """Patterns of seed 001 (a ward plan), restored by hand: ward bodies, Latin f), issuer."""
    result = run("ward_plan.txt")
    assert result["document"]["issuer"] == "Ủy ban nhân dân phường Trần Liễu"
    assert [s["id"] for s in result["sections"] if s["id"].startswith("V.1.")] == [
        "V.1.a",
        "V.1.b",
        "V.1.e",
        "V.1.f",
        "V.1.g",
    ]  # 'f)' followed by 'g)' is kept as printed
    lead = next(a for a in result["assignments"] if a["section"] == "V.1.a")["lead"][0]
    assert (lead["canonical"], lead["id"]) == (
        "Công an phường Trần Liễu",
        "phuong-tran-lieu/cong-an",
    )
    assert roles(result, "V.3.a")[0][1] == [
        "Công an phường",
        "các ngành, phòng chuyên môn",
        "đơn vị có liên quan",
        "tổ dân phố",
    ]
    assert roles(result, "V.4") == [(["Văn phòng HĐND - UBND phường"], [], [])]
    assert roles(result, "V") == [([], [], ["Thủ trưởng các đơn vị"]), (["Công an phường"], [], [])]
    other = next(a for a in result["assignments"] if a["section"] == "V.1.e")["support"][0]
    assert other["name"] == "các Phòng nghiệp vụ Công an thành phố"


def test_list_lead_in_is_not_a_task_and_colon_headings():
    text = (
        "III. TỔ CHỨC THỰC HIỆN\n1. Công an tỉnh:\nLà cơ quan thường trực, có trách nhiệm:\n"
        "- Chủ trì theo dõi, đôn đốc thực hiện Kế hoạch.\n- Tổng hợp, báo cáo kết quả.\n"
        "2. Các sở, ngành\na) Sở Y tế: chủ trì, phối hợp với Sở Tài chính bảo đảm thuốc.\n"
    )
    result = segment_text(text)
    assert roles(result, "III.1") == [(["Công an tỉnh"], [], []), ([], [], ["Công an tỉnh"])]
    assert roles(result, "III.2.a") == [(["Sở Y tế"], ["Sở Tài chính"], [])]


def test_decision_article_naming_who_executes_it():
    text = (
        "Điều 1. Ban hành kèm theo Quyết định này Quy chế.\n"
        "Điều 2. Chánh Văn phòng UBND tỉnh; Giám đốc các sở; "
        "Thủ trưởng các cơ quan đơn vị liên quan "
        "chịu trách nhiệm thi hành Quyết định này./.\n"
    )
    assert roles(segment_text(text), "Điều 2") == [
        (
            [],
            [],
            [
                "Chánh Văn phòng UBND tỉnh",
                "Giám đốc các sở",
                "Thủ trưởng các cơ quan đơn vị liên quan",
            ],
        )
    ]


def test_labelled_task_details_join_their_task():
    text = (
        "II. NHIỆM VỤ\n1. Rà soát văn bản\n"
        "- Rà soát, đề xuất sửa đổi các văn bản về an ninh mạng.\n"
        "- Cơ quan chủ trì: Sở Tư pháp.\n"
        "- Cơ quan phối hợp: Công an tỉnh, các sở, ngành liên quan.\n"
        "- Thời gian hoàn thành: Quý II/2026.\n"
    )
    result = segment_text(text)
    assert roles(result, "II.1") == [
        (["Sở Tư pháp"], ["Công an tỉnh", "các sở, ngành liên quan"], [])
    ]
    task = result["assignments"][0]
    assert task["deadline"] == "Quý II/2026" and (task["line_start"], task["line_end"]) == (3, 6)


def test_chapters_items_articles_of_a_regulation():
    text = (
        "Chương I\nQUY ĐỊNH CHUNG\nMục 1\nPHẠM VI\nĐiều 1. Phạm vi điều chỉnh\n1. Nội dung một.\n"
        "Điều 2. Đối tượng áp dụng\nMục 2\nTRÁCH NHIỆM\nĐiều 3. Trách nhiệm\n"
        "Chương II\nĐIỀU KHOẢN THI HÀNH\n"
        "Điều 4. Hiệu lực\n"
    )
    assert ids(segment_text(text)) == [
        "Chương I",
        "Chương I.Mục 1",
        "Chương I.Mục 1.Điều 1",
        "Chương I.Mục 1.Điều 1.1",
        "Chương I.Mục 1.Điều 2",
        "Chương I.Mục 2",
        "Chương I.Mục 2.Điều 3",
        "Chương II",
        "Chương II.Điều 4",
    ]


def test_agency_before_a_colon_owns_the_task():
    text = (
        "II. NHIỆM VỤ\n1. Bảo đảm kinh phí\n- Sở Tài chính: bố trí kinh phí thực hiện Kế hoạch.\n"
        "- Công an tỉnh: chủ trì, phối hợp với các sở, ngành kiểm tra việc thực hiện.\n"
    )
    assert roles(segment_text(text), "II.1") == [
        ([], [], ["Sở Tài chính"]),
        (["Công an tỉnh"], ["các sở, ngành"], []),
    ]


def test_issuer_is_the_lower_header_line_under_its_parent():
    from vanban.segment.metadata import find_issuer

    header = [
        "UBND TỈNH NGHỆ AN CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "SỞ Y TẾ Độc lập - Tự do - Hạnh phúc",
    ]
    assert find_issuer(header) == "Sở Y tế tỉnh Nghệ An"
    assert (
        find_issuer(["UBND THÀNH PHỐ HẢI PHÒNG", "CÔNG AN THÀNH PHỐ"])
        == "Công an thành phố Hải Phòng"
    )


def _scanned(rows: list[tuple[str, int]]) -> list[TextLine]:
    """Lines of one page with the top y of each box (line pitch ~75 px)."""
    return [
        TextLine(text, Provenance("scan.pdf", k + 1, 1, k + 1, (300, y, 1800, 55)))
        for k, (text, y) in enumerate(rows)
    ]


TITLE_PAGE = [
    ("ỦY BAN NHÂN DÂN", 100), ("TỈNH NGHỆ AN", 175), ("Số: 544/KH-UBND", 250),
    ("KẾ HOẠCH", 400), ("Thực hiện Nghị quyết số 147/NQ-CP của Chính phủ về", 480),
    ("Chiến lược tổng thể quốc gia phòng ngừa an ninh phi truyền thống", 555),
    ("Những năm gần đây, các đe dọa an ninh phi truyền thống ngày càng", 690),
    ("gia tăng, tác động trên quy mô lớn.", 765), ("I. MỤC ĐÍCH, YÊU CẦU", 840),
]  # fmt: skip


def test_title_ends_where_the_scan_leaves_a_blank_gap():
    tree = segment_document(_scanned(TITLE_PAGE), source="scan.pdf")
    assert tree["document"]["title"] == (
        "Thực hiện Nghị quyết số 147/NQ-CP của Chính phủ về Chiến lược tổng thể quốc gia phòng "
        "ngừa an ninh phi truyền thống"
    )


def test_without_boxes_the_title_runs_to_the_blank_line():
    lines = [TextLine(t, Provenance("a.txt", k + 1)) for k, (t, _) in enumerate(TITLE_PAGE)]
    title = segment_document(lines, source="a.txt")["document"]["title"]
    assert title.endswith("gia tăng, tác động trên quy mô lớn.")  # no layout: nothing to go by


def test_numbering_is_repaired_from_its_sequence_in_separate_trees():
    """'l.' 'Il.' '111.' '1V.' are I-IV of the attached Đề án; the second 'd)' is 'đ)'; the
    Quyết định's Điều and the Đề án's headings are separate trees; the appendix opens none."""
    result = run("damaged_labels.txt")
    assert ids(result) == [
        "Điều 1", "Điều 2", "Điều 3",
        "I", "I.1", "I.2", "II", "II.1", "II.2",
        "III", "III.1", "III.1.a", "III.1.b", "III.1.c", "III.1.d", "III.1.đ", "III.2",
        "IV",
    ]  # fmt: skip
    repaired = {s["id"]: s["label_repaired_from"] for s in result["sections"]}
    assert repaired["III"] == "111" and repaired["II"] == "Il" and repaired["III.1.đ"] == "d"
    assert repaired["III.1.d"] is None and repaired["Điều 1"] is None


@pytest.fixture(scope="module")
def grammar():
    return run("grammar_plan.txt")


def _by_line(result: dict, line: int) -> tuple[list[str], list[str], list[str]]:
    (found,) = [a for a in result["assignments"] if a["line_start"] == line]
    return tuple([x["name"] for x in found[role]] for role in ("lead", "support", "executors"))


def test_parenthetical_over_two_lines_without_chu_tri(grammar):
    lead, support, executors = _by_line(grammar, 12)
    assert (lead, support, executors) == ([], ["Sở Xây dựng"], ["Sở Nông nghiệp và Môi trường"])
    (task,) = [a for a in grammar["assignments"] if a["line_start"] == 12]
    assert task["due"] == {
        "text": "hoàn thành trong Quý II/2026",
        "start": "2026-04-01",
        "end": "2026-06-30",
        "recurrence": None,
        "by": None,
    }


def test_agency_heading_outside_the_organization_part(grammar):
    assert _by_line(grammar, 15) == ([], [], ["Sở Xây dựng"])
    assert _by_line(grammar, 16) == (["Sở Xây dựng"], ["Sở Tài chính"], [])
    assert _by_line(grammar, 17) == ([], [], ["Công an tỉnh"])  # names its own subject


def test_collective_head_expands_to_its_members(grammar):
    assert _by_line(grammar, 18) == (
        ["Sở Nội vụ"],
        ["Sở Tài chính", "Sở Kế hoạch và Đầu tư"],
        [],
    )


def test_subject_predicates_and_negatives(grammar):
    assert _by_line(grammar, 20) == ([], [], ["Sở Tài nguyên và Môi trường"])
    assert _by_line(grammar, 21) == (["Thanh tra tỉnh"], [], [])
    lines = {a["line_start"] for a in grammar["assignments"]}
    assert not lines & {10, 22, 23, 25}  # a principle, a procedure, accountability, recipients


def test_appendix_table_with_its_own_headers(grammar):
    rows = [a for a in grammar["assignments"] if a["line_start"] >= 33]
    assert [a["section"] for a in rows] == ["", ""]
    assert _by_line(grammar, 33) == (
        ["Sở Nông nghiệp và Môi trường"],
        ["Sở Tài chính", "các xã ven sông"],
        [],
    )
    assert _by_line(grammar, 34) == (
        ["Công an tỉnh", "Bộ Chỉ huy Quân sự tỉnh"],
        ["Sở Y tế", "các địa phương liên quan"],
        [],
    )
    assert rows[0]["due"]["end"] == "2026-06-30" and rows[1]["due"]["recurrence"] == "yearly"
    assert not any(s["line_start"] >= 29 for s in grammar["sections"])


@pytest.mark.parametrize(
    ("text", "start", "end", "recurrence", "by"),
    [
        ("Quý II/2026", "2026-04-01", "2026-06-30", None, None),
        ("trước ngày 30/6/2026", None, "2026-06-30", None, None),
        ("xong trong tháng 5/2026", "2026-05-01", "2026-05-31", None, None),
        ("Hằng năm", None, None, "yearly", None),
        ("trước ngày 20 hằng tháng", None, None, "monthly", "20"),
        ("Thường xuyên", None, None, "ongoing", None),
        ("2024 - 2030", "2024-01-01", "2030-12-31", None, None),
        ("Quý III, IV/2026, 2027", "2026-07-01", "2027-12-31", None, None),
        ("trong năm 2026", "2026-01-01", "2026-12-31", None, None),
        ("định kỳ hằng năm (trước ngày 15/12)", None, None, "yearly", "12-15"),
        ("khi có yêu cầu", None, None, None, None),
    ],
)
def test_deadlines_are_structured(text, start, end, recurrence, by):
    from vanban.segment.deadlines import parse_deadline

    assert parse_deadline(text) == {
        "text": text,
        "start": start,
        "end": end,
        "recurrence": recurrence,
        "by": by,
    }


def test_official_letter_header_with_blank_number_and_day():
    """A Công văn: no type line, a 'V/v' subject; the blank number and day are null and flagged,
    never filled from the 'Căn cứ' line; the issuer is the lower header line under its parent."""
    doc = run("official_letter.txt")["document"]
    assert doc["doc_type"] == "Công văn"
    assert doc["title"] == "góp ý dự thảo quy chế quản lý nhà chung cư trên địa bàn tỉnh"
    assert doc["issuer"] == "Sở Xây dựng tỉnh Bắc Sơn"
    assert doc["number"] is None and doc["date"] is None and doc["place"] == "Bắc Sơn"
    assert len(doc["review"]) == 2
    assert doc["signer"] == "Lê Thị Hoa"
    assert doc["recipients"] == ["Như trên"]


def test_permit_is_typed_from_its_type_line():
    doc = run("permit.txt")["document"]
    found = (doc["doc_type"], doc["number"], doc["date"])
    assert found == ("Giấy phép", "58/GP-UBND", "2026-03-02")
    assert doc["title"] == "Khai thác nước mặt" and doc["review"] == []
    assert doc["signing_capacity"] == "TM. ỦY BAN NHÂN DÂN / KT. CHỦ TỊCH / PHÓ CHỦ TỊCH"


def test_agency_headings_of_a_regulation_and_a_ministry_plan():
    """'Điều 9. Trách nhiệm của Sở X' and '1. Cục Y có trách nhiệm:' make their clauses the
    agency's tasks; a ministry plan's subjectless 'Chủ trì, ...' is the issuer's own duty."""
    text = "\n".join(
        [
            "Chương III",
            "TỔ CHỨC THỰC HIỆN",
            "Điều 9. Trách nhiệm của Sở Công Thương",
            "1. Chủ trì, phối hợp với Sở Tài chính kiểm tra giá điện.",
            "2. Báo cáo kết quả hằng quý.",
            "Điều 10. Hiệu lực thi hành",
            "Quy chế này có hiệu lực từ ngày ký.",
        ]
    )
    result = segment_text(text)
    assert roles(result, "Chương III.Điều 9.1") == [(["Sở Công Thương"], ["Sở Tài chính"], [])]
    assert roles(result, "Chương III.Điều 9.2") == [([], [], ["Sở Công Thương"])]
    assert roles(result, "Chương III.Điều 10") == []
    plan = "\n".join(
        [
            "BỘ Y TẾ",
            "KẾ HOẠCH",
            "Phòng chống dịch mùa đông",
            "I. NHIỆM VỤ",
            "1. Chủ trì, phối hợp với các Bộ, ngành xây dựng kịch bản ứng phó.",
            "2. Cục Quản lý Khám chữa bệnh có trách nhiệm:",
            "a) Hướng dẫn các bệnh viện chuẩn bị giường bệnh.",
        ]
    )
    result = segment_text(plan)
    assert roles(result, "I.1") == [(["Bộ Y tế"], ["các Bộ, ngành"], [])]
    assert roles(result, "I.2.a") == [([], [], ["Cục Quản lý Khám chữa bệnh"])]


def test_one_bad_label_does_not_reparent_the_rest():
    """A jump whose skipped label comes later is a misread: it becomes text, and the real
    sequence goes on ('IV.' read inside II, then the real III and IV)."""
    text = "\n".join(
        [
            "I. MỤC ĐÍCH",
            "1. Nâng cao nhận thức.",
            "II. NHIỆM VỤ",
            "1. Rà soát văn bản.",
            "2. Kiểm tra định kỳ.",
            "IV. Số liệu năm trước được lưu lại.",
            "3. Tổng kết cuối năm.",
            "III. KINH PHÍ",
            "1. Ngân sách tỉnh.",
            "IV. TỔ CHỨC THỰC HIỆN",
            "1. Sở Tài chính bố trí kinh phí.",
        ]
    )
    assert ids(segment_text(text)) == [
        "I", "I.1", "II", "II.1", "II.2", "II.3", "III", "III.1", "IV", "IV.1",
    ]  # fmt: skip


def test_restorer_lowercased_roman_is_repaired():
    """'Il.' restored to 'Iii.' is still the III the sequence expects (flagged)."""
    text = "I. MỤC ĐÍCH\n1. Nâng cao nhận thức.\nII. NHIỆM VỤ\n1. Rà soát.\nIii. TỔ CHỨC\n"
    result = segment_text(text)
    assert ids(result) == ["I", "I.1", "II", "II.1", "III"]
    assert result["sections"][-1]["label_repaired_from"] == "Iii"


def test_lone_label_and_a_misread_jump():
    """'3.' alone on its line takes the next line as its title; 'Iii.' where II is expected,
    followed by another 'Iii.', is the II the OCR damaged (the second one is III)."""
    text = "\n".join(
        [
            "I. MỤC ĐÍCH",
            "1. Nâng cao nhận thức.",
            "2. Rà soát văn bản.",
            "3.",
            "tác quy hoạch trên địa bàn",
            "- Lập danh mục.",
            "Iii. NHIỆM VỤ",
            "1. Kiểm tra.",
            "Iii. KINH PHÍ",
            "IV. TỔ CHỨC THỰC HIỆN",
        ]
    )
    result = segment_text(text)
    assert ids(result) == ["I", "I.1", "I.2", "I.3", "II", "II.1", "III", "IV"]
    assert result["sections"][3]["title"] == "tác quy hoạch trên địa bàn"
    assert [s["label_repaired_from"] for s in result["sections"] if s["level"] == 1] == [
        None, "Iii", "Iii", None,
    ]  # fmt: skip


def test_chapter_labels_follow_their_sequence():
    """A 'Chương' whose number the OCR dropped (its caps title below) takes the number the
    sequence gives it; an OCR-shaped '1I' between I and III is II; both are flagged."""
    text = "\n".join(
        [
            "Chương",
            "QUY ĐỊNH CHUNG",
            "Điều 1. Phạm vi điều chỉnh",
            "Nghị định này quy định chi tiết một số điều.",
            "Chương 1I",
            "CẤP GIẤY PHÉP",
            "Điều 2. Hồ sơ",
            "Hồ sơ gồm các giấy tờ sau.",
            "Chương III",
            "ĐIỀU KHOẢN THI HÀNH",
            "Điều 3. Hiệu lực thi hành",
        ]
    )
    result = segment_text(text)
    assert ids(result) == [
        "Chương I", "Chương I.Điều 1", "Chương II", "Chương II.Điều 2", "Chương III",
        "Chương III.Điều 3",
    ]  # fmt: skip
    repaired = {s["id"]: s["label_repaired_from"] for s in result["sections"]}
    assert repaired["Chương I"] == "Chương" and repaired["Chương II"] == "1I"
    assert repaired["Chương III"] is None
    assert result["sections"][0]["title"] == "QUY ĐỊNH CHUNG"


def test_chapter_word_over_lowercase_and_arabic_chapters_stay_as_printed():
    """'Chương' alone over a lowercase line is a wrapped 'Chương trình', not a heading; chapters
    numbered 1, 2, 3 keep their digits (no Roman reading), and a real jump stays a jump."""
    text = "\n".join(
        [
            "Chương 1",
            "QUY ĐỊNH CHUNG",
            "Điều 1. Phạm vi điều chỉnh",
            "Ban hành kèm theo",
            "Chương",
            "trình số 12-CTr/BCĐ của Ban Chỉ đạo.",
            "Chương 2",
            "TỔ CHỨC THỰC HIỆN",
            "Chương 5",
            "ĐIỀU KHOẢN THI HÀNH",
        ]
    )
    result = segment_text(text)
    assert [s["id"] for s in result["sections"] if s["level"] == 1] == [
        "Chương 1", "Chương 2", "Chương 5",
    ]  # fmt: skip
    assert all(s["label_repaired_from"] is None for s in result["sections"])


def test_clause_one_read_as_roman_by_vie_ocr():
    """Under an article, 'I. Việc ...' followed by '2. ...' is clause 1 the OCR printed as a Roman
    I (flagged); 'I. NHÀ ĐẦU TƯ' in capitals followed by '2.' stays a Roman heading."""
    text = "\n".join(
        [
            "Điều 3. Cắt giảm thủ tục hành chính",
            "I. Việc cắt giảm thủ tục phải bảo đảm thuận lợi cho tổ chức, cá nhân.",
            "2. Phân cấp thủ tục hành chính thuộc lĩnh vực đăng ký.",
            "Điều 4. Tổ chức thi hành",
        ]
    )
    result = segment_text(text)
    assert ids(result) == ["Điều 3", "Điều 3.1", "Điều 3.2", "Điều 4"]
    assert result["sections"][1]["label_repaired_from"] == "I"
    caps = segment_text("I. NHÀ ĐẦU TƯ\n2. Thông tin về nhà đầu tư tiếp theo.\nII. CAM KẾT\n")
    assert ids(caps)[0] == "I" and "II" in ids(caps)


def test_roman_labels_as_vie_ocr_prints_them():
    """vie OCR prints II as 'HI' or 'H', I as 'Ï', and drops a heading's period ('II NHIỆM VỤ'):
    each is read in its sequence; a caps line 'VI PHẠM ...' (a word, not VI) stays text."""
    text = "\n".join(
        [
            "I. MỤC ĐÍCH, YÊU CẦU",
            "1. Nâng cao hiệu quả quản lý.",
            "II NHIỆM VỤ, GIẢI PHÁP",
            "1. Rà soát quy hoạch.",
            "VI PHẠM HÀNH CHÍNH VÀ XỬ LÝ",
            "HI. TỔ CHỨC THỰC HIỆN",
            "1. Các sở, ngành triển khai.",
        ]
    )
    result = segment_text(text)
    assert ids(result) == ["I", "I.1", "II", "II.1", "III", "III.1"]
    assert result["sections"][4]["label_repaired_from"] == "HI"
    chapters = segment_text("Chương Ï\nQUY ĐỊNH CHUNG\nĐiều 1. Phạm vi\nChương HI\nTHI HÀNH\n")
    assert [s["id"] for s in chapters["sections"] if s["level"] == 1] == ["Chương I", "Chương II"]
