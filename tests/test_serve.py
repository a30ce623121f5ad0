"""`vanban serve` over HTTP: what a researcher and a reviewer see and what their requests change."""

from __future__ import annotations

import csv
import html as html_lib
import io
import json
import re
import shutil
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")
from PIL import Image, ImageDraw  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from vanban.core.files import sha256_file  # noqa: E402
from vanban.corrections import CORRECTIONS_NAME, apply_corrections, make_record  # noqa: E402
from vanban.export import export_rows  # noqa: E402
from vanban.index import index_outdir, rebuild_index  # noqa: E402
from vanban.search import Filters, search  # noqa: E402
from vanban.web.app import Site, create_app  # noqa: E402

FIXTURE = Path(__file__).parent / "fixtures" / "outdir"
BASE = "http://127.0.0.1:8000"
HOSTILE = "<script>alert('pwned')</script>"
TOKENS = {  # line of kh-haiphong -> tokens the restorer changed or doubted
    12: [
        {"source": "phap", "text": "pháp", "confidence": 0.31},
        {"source": "tung", "text": "từng", "confidence": 0.12},
    ],
    15: [{"source": "chu", "text": "chủ", "confidence": 0.45}],
}


def draw_scan(path: Path, tree: dict) -> None:
    """A page image with a dark bar in each line's box (so a crop shows ink where the box is)."""
    pages = {}
    for item in tree["lines"]:
        image = pages.setdefault(item["page"], Image.new("L", (2200, 1400), 255))
        left, top, width, height = item["bbox"]
        ImageDraw.Draw(image).rectangle((left, top, left + width // 2, top + height), fill=0)
    frames = [pages[k] for k in sorted(pages)]
    frames[0].save(path, save_all=True, append_images=frames[1:], compression="tiff_deflate")


@pytest.fixture
def outdir(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(FIXTURE, out)
    tree = json.loads((out / "kh-haiphong.json").read_text("utf-8"))
    for item in tree["lines"]:
        item["tokens"] = TOKENS.get(item["line"], [])
    scan = tmp_path / "scans" / "kh-haiphong.tif"
    scan.parent.mkdir()
    draw_scan(scan, tree)
    tree["source"] = str(scan)
    (out / "kh-haiphong.json").write_text(json.dumps(tree, ensure_ascii=False), "utf-8")
    nghean = json.loads((out / "qd-nghean.json").read_text("utf-8"))
    nghean["document"]["date"] = None  # an illegible date
    nghean["document"]["title"] = "Quy chế " + HOSTILE
    nghean["lines"][13]["text"] = (
        "2. Sở Tài chính bố trí kinh phí; Công an chủ trì kiểm tra " + HOSTILE
    )
    (out / "qd-nghean.json").write_text(json.dumps(nghean, ensure_ascii=False), "utf-8")
    return out


@pytest.fixture
def db(outdir: Path, tmp_path: Path) -> Path:
    path = tmp_path / "corpus.sqlite"
    assert index_outdir(outdir, path).added == 3
    return path


def client_for(outdir: Path, db: Path, review: bool) -> TestClient:
    site = Site(outdir, db, review=review, reviewer="tester", cache_dir=outdir.parent / "cache")
    return TestClient(create_app(site), base_url=BASE, follow_redirects=False)


@pytest.fixture
def reader(outdir, db) -> TestClient:
    return client_for(outdir, db, review=False)


@pytest.fixture
def reviewer(outdir, db) -> TestClient:
    return client_for(outdir, db, review=True)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def text_of(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


# ---------------------------------------------------------------- search page


def test_search_without_marks_highlights_and_links(reader):
    response = reader.get("/", params={"q": "cong an chu tri"})
    assert response.status_code == 200
    html = response.text
    assert "<mark>Công</mark>" in html and "<mark>trì</mark>" in html
    assert 'href="/doc?path=kh-haiphong.json' in html
    assert "/agency?id=thanh-pho-hai-phong%2Fcong-an" in html
    timing = response.headers["server-timing"]
    assert timing.startswith("app;dur=")


def test_adjacent_words_rank_first(reader):
    html = reader.get("/", params={"q": "cong an chu tri"}).text
    snippets = [text_of(s) for s in re.findall(r'<p class="snippet">(.*?)</p>', html, re.S)]
    assert len(snippets) >= 3
    adjacent = ["Công an chủ trì" in s for s in snippets]
    assert adjacent[0] and not all(adjacent)
    assert adjacent == sorted(adjacent, reverse=True)  # every adjacent hit before the others


def test_marks_typed_match_exactly(reader):
    assert "<mark>" in reader.get("/", params={"q": "chuyển đổi số"}).text
    assert "No results." in reader.get("/", params={"q": "chuyển đổi sợ"}).text


def test_document_number_finds_its_document_first(reader):
    html = reader.get("/", params={"q": "167/KH-UBND"}).text
    first = re.search(r'<li class="hit (\w+)">.*?<b>(.*?)</b>', html, re.S)
    assert first.groups() == ("document", "167/KH-UBND")


def test_facets_count_documents_and_no_date(reader):
    html = reader.get("/", params={"q": "cong an"}).text
    facets = text_of(html.split('<aside class="facets">')[1].split("</aside>")[0])
    assert re.search(r"Kế hoạch\s*2", facets) and re.search(r"Quyết định\s*1", facets)
    assert re.search(r"no date\s*1", facets) and re.search(r"2025\s*2", facets)
    assert re.search(r"chủ trì|lead\s*\d", facets)
    no_date = reader.get("/", params={"q": "cong an", "year": "none"}).text
    numbers = set(re.findall(r"<b>(.*?)</b>", no_date))
    assert numbers == {"2381/QĐ-UBND"}
    dated = reader.get("/", params={"q": "cong an", "year": "2025"}).text
    assert "1 matching documents have no date and are not shown" in dated
    assert "2381/QĐ-UBND" not in set(re.findall(r"<b>(.*?)</b>", dated))


def test_facets_of_a_year_count_that_year_and_list_every_year(reader):
    html = reader.get("/", params={"q": "cong an", "year": "2025"}).text
    facets = text_of(html.split('<aside class="facets">')[1].split("</aside>")[0])
    assert re.search(r"Kế hoạch\s*2", facets) and "Quyết định" not in facets  # the QĐ has no date
    assert re.search(r"no date\s*1", facets) and re.search(r"2025\s*2", facets)


def test_pages_follow_an_index_updated_or_rebuilt_while_serving(reader, outdir, db):
    assert "No results." in reader.get("/", params={"q": "hang rao dien tu"}).text
    tree = json.loads((outdir / "kh-haiphong.json").read_text("utf-8"))
    tree["lines"][20]["text"] = "Lắp đặt hàng rào điện tử"
    (outdir / "kh-haiphong.json").write_text(json.dumps(tree, ensure_ascii=False), "utf-8")
    index_outdir(outdir, db)  # in place, as the server does after a review
    assert "<mark>hàng</mark>" in reader.get("/", params={"q": "hang rao dien tu"}).text
    (outdir / "qd-nghean.json").unlink()
    rebuild_index(outdir, db)  # a new file swapped in, as `vanban index --rebuild` does
    assert "<mark>hàng</mark>" in reader.get("/", params={"q": "hang rao dien tu"}).text
    assert "2381/QĐ-UBND" not in reader.get("/", params={"q": "cong an"}).text
    assert reader.get("/doc", params={"path": "qd-nghean.json"}).status_code == 404


def test_facet_link_filters_and_url_is_shareable(reader):
    html = reader.get("/", params={"q": "cong an"}).text
    link = re.search(r'href="(/\?q=cong\+an&amp;doc_type=[^"]+)"', html).group(1)
    filtered = reader.get(link.replace("&amp;", "&")).text
    assert set(re.findall(r"<b>(.*?)</b>", filtered)) <= {"167/KH-UBND", "88/KH-UBND"}
    assert "doc_type: Kế hoạch" in filtered


def test_snippets_drop_markdown(reader, outdir, db):
    tree = json.loads((outdir / "kh-haiphong.json").read_text("utf-8"))
    tree["lines"][20]["text"] = "## **Phối hợp** với | Công an | thành phố ngoại khóa"
    (outdir / "kh-haiphong.json").write_text(json.dumps(tree, ensure_ascii=False), "utf-8")
    index_outdir(outdir, db)
    html = reader.get("/", params={"q": '"ngoai khoa"', "kind": "text"}).text
    snippet = text_of(re.search(r'<p class="snippet">(.*?)</p>', html, re.S).group(1))
    assert "Phối hợp với Công an thành phố ngoại khóa" in snippet
    assert "#" not in snippet and "*" not in snippet and "|" not in snippet


def test_paging(reader):
    first = reader.get("/", params={"q": "a OR cong OR so OR thanh"}).text
    assert 'page=2">next' in first
    second = reader.get("/", params={"q": "a OR cong OR so OR thanh", "page": "2"}).text
    assert '<ol start="21">' in second and "previous" in second


def test_export_of_results_reuses_vanban_export(reader):
    response = reader.get(
        "/export",
        params={
            "q": "cong an",
            "agency": "thanh-pho-hai-phong/cong-an",
            "what": "assignments",
            "format": "csv",
        },
    )
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows and {r["agency_id"] for r in rows} == {"thanh-pho-hai-phong/cong-an"}
    assert {"task_id", "deadline", "json_file"} <= set(rows[0])
    jsonl = reader.get("/export", params={"q": "cong an", "what": "documents", "format": "jsonl"})
    numbers = {json.loads(line)["number"] for line in jsonl.text.splitlines()}
    assert numbers == {"167/KH-UBND", "88/KH-UBND", "2381/QĐ-UBND"}
    assert (
        reader.get("/export", params={"q": "x", "what": "secrets", "format": "csv"}).status_code
        == 400
    )


# ---------------------------------------------------------------- document page


def test_document_page_shows_metadata_sections_assignments_and_marked_words(reader):
    html = reader.get("/doc", params={"path": "kh-haiphong.json"}).text
    assert "167/KH-UBND" in html and "Ủy ban nhân dân thành phố Hải Phòng" in html
    assert '<a href="#l8">I</a>' in html and 'class="depth2"' in html  # the section tree
    assert html.count('<tr id="a') == 7
    assert re.search(r'<span class="doubtful changed" title="OCR: tung[^"]*">từng</span>', html)
    assert 'id="l31"' in html and "/review/" not in html  # read-only: no review forms


def test_assignment_filters(reader):
    html = reader.get(
        "/doc", params={"path": "kh-haiphong.json", "agency": "thanh-pho-hai-phong/so-tai-chinh"}
    ).text
    rows = re.findall(r'<tr id="a(\d+)">', html)
    assert rows and len(rows) < 7 and all("Sở Tài chính" in html for _ in rows)
    with_deadline = re.findall(
        r'<tr id="a(\d+)">',
        reader.get("/doc", params={"path": "kh-haiphong.json", "deadline": "with"}).text,
    )
    without = re.findall(
        r'<tr id="a(\d+)">',
        reader.get("/doc", params={"path": "kh-haiphong.json", "deadline": "without"}).text,
    )
    assert with_deadline and without and len(with_deadline) + len(without) == 7


def test_selected_line_shows_its_scan_crop_and_ocr(reader):
    html = reader.get("/doc", params={"path": "kh-haiphong.json", "line": "15"}).text
    assert '<img class="crop" src="/crop?path=kh-haiphong.json&amp;line=15"' in html
    assert "Giao Sở Tài chính chủ trì" in html
    crop = reader.get("/crop", params={"path": "kh-haiphong.json", "line": "15"})
    assert crop.status_code == 200 and crop.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(crop.content))
    assert image.size == (1400, round((36 + 32) * 1400 / (1900 + 32)))  # box + padding, scaled
    left_half = image.crop((40, 30, 600, 40)).getextrema()
    assert left_half[0] == 0  # the ink drawn in the line's box
    page2 = reader.get("/crop", params={"path": "kh-haiphong.json", "line": "16"})
    assert page2.status_code == 200  # second frame of the scan


def test_crop_of_text_document_is_404(reader):
    assert reader.get("/crop", params={"path": "kh-quangninh.json", "line": "3"}).status_code == 404


def test_agency_page_lists_its_assignments_across_documents(reader):
    html = reader.get("/agency", params={"id": "thanh-pho-hai-phong/cong-an"}).text
    assert "<h1>Công an thành phố Hải Phòng</h1>" in html
    rows = re.findall(r"<tr>\s*<td>(.*?)</td>", html, re.S)
    assert len(rows) >= 3 and all("167/KH-UBND" in r for r in rows)
    assert "hoàn thành trong quý II/2025" in html
    other = reader.get("/agency", params={"id": "tinh-nghe-an/cong-an"}).text
    table = other.split('<table class="tasks">')[1]
    assert "2381/QĐ-UBND" in table and "167/KH-UBND" not in table


# ---------------------------------------------------------------- safety


def test_ocr_text_is_escaped_everywhere(reader):
    pages = [
        reader.get("/doc", params={"path": "qd-nghean.json", "line": "14"}).text,
        reader.get("/", params={"q": "kiem tra alert"}).text,
        reader.get("/", params={"q": "2381/QĐ-UBND"}).text,
    ]
    for html in pages:
        assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in pages[0]
    assert "script-src 'none'" in reader.get("/").headers["content-security-policy"]


@pytest.mark.parametrize(
    "path",
    [
        "../../../etc/passwd",
        "/etc/passwd",
        "../out/kh-haiphong.json",
        "./kh-haiphong.json",
        "sub/../kh-haiphong.json",
        "kh-haiphong.txt",
        "secret.json",
        "link.json",
        "%2e%2e/x.json",
        "kh-haiphong.json\x00.png",
        "",
    ],
)
def test_no_path_outside_the_indexed_documents(reader, outdir, path):
    (outdir / "secret.json").write_text('{"document": {}, "sections": []}', "utf-8")  # not indexed
    outside = outdir.parent / "outside.json"
    outside.write_text((outdir / "kh-haiphong.json").read_text("utf-8"), "utf-8")
    (outdir / "link.json").symlink_to(outside)
    for route in ("/doc", "/crop"):
        assert reader.get(route, params={"path": path, "line": "1"}).status_code == 404
    assert reader.get("/static/../app.py").status_code == 404
    assert reader.get("/static/%2e%2e/app.py").status_code == 404


def test_only_local_host_names_are_answered(reader):
    assert reader.get("/", headers={"host": "attacker.example"}).status_code == 400


def test_read_only_server_refuses_reviews(reader, outdir):
    html = reader.get("/doc", params={"path": "kh-haiphong.json", "line": "12"}).text
    assert "/review/word" not in html
    response = reader.post("/review/word", data={"path": "kh-haiphong.json", "line": "12"})
    assert response.status_code == 403
    assert reader.get("/review").status_code == 404
    assert not (outdir / CORRECTIONS_NAME).exists()


def word_form(client, line: int, word: str) -> dict:
    html = client.get("/doc", params={"path": "kh-haiphong.json", "line": str(line)}).text
    forms = re.findall(r'<form method="post" action="/review/word".*?</form>', html, re.S)
    form = next(f for f in forms if f'name="before" value="{word}"' in f)
    return dict(re.findall(r'<input type="(?:hidden|text)" name="(\w+)" value="([^"]*)"', form))


def test_posts_need_the_csrf_token(reviewer, outdir):
    data = word_form(reviewer, 12, "từng")
    for token in (None, "", "x" * 43):
        fields = {**data, "after": "tầng", "action": "correct"}
        if token is None:
            fields.pop("csrf")
        else:
            fields["csrf"] = token
        assert reviewer.post("/review/word", data=fields).status_code == 403
    assert not (outdir / CORRECTIONS_NAME).exists()


# ---------------------------------------------------------------- review


def test_word_correction_goes_to_the_sidecar_and_shows(reviewer, outdir, db):
    before_sha = sha256_file(outdir / "kh-haiphong.json")
    data = word_form(reviewer, 12, "từng")
    response = reviewer.post("/review/word", data={**data, "after": "tầng", "action": "correct"})
    assert response.status_code == 303
    assert response.headers["location"] == "/doc?path=kh-haiphong.json&line=12#l12"
    (record,) = [json.loads(x) for x in (outdir / CORRECTIONS_NAME).read_text("utf-8").splitlines()]
    assert record["who"] == "tester" and record["kind"] == "word" and record["action"] == "correct"
    assert (record["before"], record["after"], record["line"]) == ("từng", "tầng", 12)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record["at"])
    assert sha256_file(outdir / "kh-haiphong.json") == before_sha  # outputs never rewritten
    html = reviewer.get("/doc", params={"path": "kh-haiphong.json", "line": "12"}).text
    assert re.search(r'<span class="corrected changed"[^>]*>tầng</span> hộ gia đình', html)
    assert "“từng” → “tầng”" in html
    # the index follows in the background; export and a fresh index apply it as well
    reviewer.app.state.site.wait_for_index()
    assert search(db, "den tang ho gia dinh", Filters(kind="text")).hits
    tasks = [
        r["task"]
        for r in export_rows(outdir, "assignments", [])
        if r["line_start"] == 12 and r["json_file"] == "kh-haiphong.json"
    ]
    assert tasks and all("đến tầng hộ gia đình" in t for t in tasks)


def test_accepting_a_word_takes_it_off_the_queue(reviewer, outdir):
    queue = reviewer.get("/review").text
    confidences = [float(x) for x in re.findall(r"<tr><td>(0\.\d+)</td>", queue)]
    assert confidences == sorted(confidences) == [0.12, 0.31, 0.45]
    first = reviewer.get("/review/next")
    assert first.headers["location"].endswith("line=12&queue=1#l12")
    from_queue = reviewer.get(first.headers["location"].split("#")[0]).text
    assert '<input type="hidden" name="next" value="queue">' in from_queue
    data = word_form(reviewer, 12, "từng")
    response = reviewer.post("/review/word", data={**data, "action": "accept", "next": "queue"})
    assert response.headers["location"] == "/review/next"
    assert reviewer.get("/review/next").headers["location"].endswith("line=12&queue=1#l12")
    queue = reviewer.get("/review").text
    assert [float(x) for x in re.findall(r"<tr><td>(0\.\d+)</td>", queue)] == [0.31, 0.45]
    html = reviewer.get("/doc", params={"path": "kh-haiphong.json", "line": "12"}).text
    assert not re.search(r'class="doubtful[^"]*"[^>]*>từng<', html)


def test_line_correction_and_stale_form(reviewer, outdir):
    html = reviewer.get("/doc", params={"path": "kh-haiphong.json", "line": "14"}).text
    fields = dict(
        re.findall(
            r'<input type="hidden" name="(\w+)" value="([^"]*)"',
            html.split('action="/review/line"')[1].split("</form>")[0],
        )
    )
    after = "3. Đầu tư trang bị phương tiện chữa cháy, cứu nạn và cứu hộ"
    assert (
        reviewer.post(
            "/review/line", data={**fields, "after": after, "action": "correct"}
        ).status_code
        == 303
    )
    again = reviewer.post("/review/line", data={**fields, "after": "x", "action": "correct"})
    assert again.status_code == 409  # the form showed the old line
    html = reviewer.get("/doc", params={"path": "kh-haiphong.json"}).text
    assert 'class=" corrected-line"' in html and after in html


def test_assignment_fix(reviewer, outdir):
    html = reviewer.get("/doc", params={"path": "kh-haiphong.json", "edit": "2"}).text
    form = html.split('action="/review/assignment"')[1].split("</form>")[0]
    fields = dict(re.findall(r'<input type="(?:hidden|text)" name="(\w+)" value="([^"]*)"', form))
    areas = {
        k: html_lib.unescape(v)
        for k, v in re.findall(r'<textarea name="(\w+)"[^>]*>(.*?)</textarea>', form, re.S)
    }
    executors = (
        areas["executors"] + "\nSở Xây dựng thành phố Hải Phòng | thanh-pho-hai-phong/so-xay-dung"
    )
    data = {
        **fields,
        "task": areas["task"],
        "lead": areas["lead"],
        "support": areas["support"],
        "executors": executors,
        "deadline": "trước ngày 30/6/2025",
    }
    bad = reviewer.post("/review/assignment", data={**data, "executors": "Sở Mới"})
    assert bad.status_code == 400
    response = reviewer.post("/review/assignment", data=data)
    assert response.status_code == 303 and response.headers["location"].endswith("#a2")
    rows = [
        r
        for r in export_rows(outdir, "assignments", [])
        if r["assignment_index"] == 2 and r["json_file"] == "kh-haiphong.json"
    ]
    assert {r["agency_id"] for r in rows} >= {
        "thanh-pho-hai-phong/so-xay-dung",
        "thanh-pho-hai-phong/so-cong-thuong",
    }
    assert {r["deadline"] for r in rows} == {"trước ngày 30/6/2025"}
    printed = {r["agency_id"]: r["agency_printed"] for r in rows}
    assert printed["thanh-pho-hai-phong/cong-an"] == "Công an thành phố"  # kept as printed


# ---------------------------------------------------------------- corrections, unit level


def test_stale_corrections_are_skipped():
    tree = {
        "lines": [
            {
                "line": 1,
                "text": "a bc d",
                "tokens": [{"source": "bo", "text": "bc", "confidence": 0.2}],
            }
        ],
        "sections": [{"title": "a bc d", "text": "", "line_start": 1, "line_end": 1}],
        "assignments": [],
    }
    good = make_record(
        who="x",
        document="d.json",
        kind="word",
        action="correct",
        line=1,
        start=2,
        end=4,
        token=0,
        before="bc",
        after="bố",
    )
    stale = make_record(
        who="x",
        document="d.json",
        kind="line",
        action="correct",
        line=1,
        before="not this line",
        after="zzz",
    )
    fixed, applied = apply_corrections(tree, [good, stale])
    assert applied == [good]
    assert fixed["lines"][0]["text"] == "a bố d" and fixed["sections"][0]["title"] == "a bố d"
    assert fixed["lines"][0]["tokens"][0] == {"source": "bo", "text": "bố", "confidence": 1.0}
    assert tree["lines"][0]["text"] == "a bc d"  # the input tree is not touched


def test_index_rereads_documents_with_new_corrections(outdir, db):
    from vanban.corrections import append_correction

    record = make_record(
        who="x",
        document="qd-nghean.json",
        kind="word",
        action="correct",
        line=15,
        start=3,
        end=7,
        before="Công",
        after="Cong",
    )
    append_correction(outdir, record)
    report = index_outdir(outdir, db)
    assert (report.updated, report.unchanged) == (1, 2)
    assert index_outdir(outdir, db).unchanged == 3
    hits = search(db, '"Cong an tỉnh chủ trì bảo đảm"').hits
    assert hits and hits[0].json_file.endswith("qd-nghean.json")
    (outdir / CORRECTIONS_NAME).write_text("", "utf-8")  # a sidecar replaced: everything re-read
    assert index_outdir(outdir, db).updated == 3
    assert not search(db, '"Cong an tỉnh chủ trì bảo đảm"').hits


# ---------------------------------------------------------------- the CLI


def test_cli_serve_defaults_and_bad_outdir(tmp_path, capsys):
    from vanban.cli import build_parser, main

    args = build_parser().parse_args(["serve", "out"])
    assert (args.host, args.port, args.review, args.db) == (
        "127.0.0.1",
        8000,
        False,
        "corpus.sqlite",
    )
    assert main(["serve", str(tmp_path / "missing"), "--db", str(tmp_path / "c.sqlite")]) == 1
    assert "missing: not a directory" in capsys.readouterr().err
