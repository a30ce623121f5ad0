"""Search over a vanban output directory: given this OUTDIR and query, the user sees these hits."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import OUTDIR_FIXTURE as FIXTURE
from vanban.core.errors import VanbanError
from vanban.index import KeptReaders, index_outdir, rebuild_index
from vanban.search import Filters, parse_query, search


@pytest.fixture
def fresh_db(outdir: Path, tmp_path: Path) -> Path:
    """An index of `outdir` that the test may change."""
    path = tmp_path / "corpus.sqlite"
    report = index_outdir(outdir, path)
    assert report.added == 3 and not report.failed
    return path


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    """A read-only index of the fixture, shared by the query tests."""
    path = tmp_path_factory.mktemp("index") / "corpus.sqlite"
    assert index_outdir(FIXTURE, path).added == 3
    return path


def hits_for(db: Path, query: str, **filters):
    limit = filters.pop("limit", 50)
    return search(db, query, Filters(**filters), limit=limit)[1]


def docs_of(hits) -> set[str]:
    return {h.document["number"] for h in hits}


# ---------------------------------------------------------------- queries


def test_query_without_marks_finds_marked_text(db):
    hits = hits_for(db, "cong an chu tri")
    assert hits
    top = hits[0]
    assert "Công" in top.snippet and "**" in top.snippet
    assert top.kind == "assignment"
    assert any("Công an" in a["canonical"] for a in top.roles["lead"])


def test_marked_and_unmarked_queries_agree_and_marks_are_exact(db):
    plain = {(h.json_file, h.line) for h in hits_for(db, "chuyen doi so")}
    marked = {(h.json_file, h.line) for h in hits_for(db, "chuyển đổi số")}
    assert plain and plain == marked
    assert hits_for(db, "chuyển đổi sợ") == []  # a wrong mark typed is not ignored


def test_d_with_stroke_matches_plain_d(db):
    hits = hits_for(db, "de nghi uy ban mat tran")
    assert any(h.document["number"] == "88/KH-UBND" for h in hits)


def test_phrase_requires_adjacent_words_in_order(db):
    assert docs_of(hits_for(db, '"cong an thanh pho"')) == {"167/KH-UBND"}
    assert hits_for(db, '"pho thanh an cong"') == []
    assert hits_for(db, "pho thanh an cong")  # the same words, any order


def test_prefix_or_and_exclusion(db):
    assert docs_of(hits_for(db, "truyen* thong", kind="text")) >= {"2381/QĐ-UBND"}
    either = docs_of(hits_for(db, 'ngoai khoa OR "an ninh mang"'))
    assert either == {"167/KH-UBND", "2381/QĐ-UBND"}
    excluded = hits_for(db, '"cong an" -"hai phong"', kind="assignment")
    assert docs_of(excluded) == {"2381/QĐ-UBND", "88/KH-UBND"}


@pytest.mark.parametrize("query", ["an ninh m*", "an ninh ma*", "an ninh man*", "an ninh mạ*"])
def test_prefixes_of_any_length_find_the_whole_word(db, query):
    """2- and 3-character prefixes read FTS5's prefix index, longer ones the terms themselves."""
    whole = {(h.json_file, h.kind, h.line) for h in hits_for(db, "an ninh mạng")}
    assert whole and whole <= {(h.json_file, h.kind, h.line) for h in hits_for(db, query)}


def test_text_hit_carries_line_and_page(db):
    (hit,) = hits_for(db, '"ngoại khóa"', kind="text")
    assert (hit.json_file.endswith("kh-haiphong.json"), hit.line, hit.page) == (True, 21, 2)
    assert hit.section_id == "III.2" and hit.section_title == "Sở Giáo dục và Đào tạo"
    assert hit.source == "kh-haiphong.pdf"


def test_text_from_sibling_txt_when_json_has_no_lines(db):
    (hit,) = hits_for(db, '"kho du lieu dung chung"', kind="text")
    assert hit.json_file.endswith("kh-quangninh.json") and hit.line == 9 and hit.page is None


def test_document_header_is_searchable_by_number(db):
    hits = hits_for(db, "2381/QĐ-UBND", kind="document")
    assert docs_of(hits) == {"2381/QĐ-UBND"}


# ---------------------------------------------------------------- filters


def test_agency_and_role_filters(db):
    lead = hits_for(db, "", agency="cong an", role="lead")
    assert len(lead) >= 3
    for hit in lead:
        assert any("Công an" in a["canonical"] for a in hit.roles["lead"])
    support = hits_for(db, "", agency="cong an", role="support")
    assert support and all(
        any("Công an" in a["canonical"] for a in h.roles["support"]) for h in support
    )
    executors = hits_for(db, "", role="executor")
    assert executors and all(h.roles.get("executor") for h in executors)
    by_id = hits_for(db, "", agency="tinh-nghe-an/cong-an")
    assert docs_of(by_id) == {"2381/QĐ-UBND"}


def test_document_filters(db):
    assert docs_of(hits_for(db, "", doc_type="quyet dinh")) == {"2381/QĐ-UBND"}
    assert docs_of(hits_for(db, "", doc_type="Kế hoạch")) == {"167/KH-UBND", "88/KH-UBND"}
    assert docs_of(hits_for(db, "cong an", issuer="Quảng Ninh")) == {"88/KH-UBND"}
    assert docs_of(hits_for(db, "", year=2024)) == {"2381/QĐ-UBND"}
    assert hits_for(db, "cong an", year=1999) == []


def test_section_filter_takes_subsections(db):
    hits = hits_for(db, "cong an", section="III")
    assert hits
    assert all(h.section_id == "III" or h.section_id.startswith("III.") for h in hits)
    assert {h.section_id for h in hits_for(db, "", section="iii.1")} <= {
        "III.1",
        "III.1.a",
        "III.1.b",
    }


def test_limit(db):
    assert len(hits_for(db, "cong an", limit=2)) == 2


def lines_of(hits, kind: str) -> set[tuple[str, int]]:
    return {(h.json_file, h.line) for h in hits if h.kind == kind}


def test_text_hit_on_an_assignment_line_is_left_out_and_limits_keep_the_order(db):
    texts = lines_of(hits_for(db, "cong an chu tri", kind="text"), "text")
    hits = hits_for(db, "cong an chu tri")
    assignments = lines_of(hits, "assignment")
    assert texts & assignments  # the same lines match as text too...
    assert not lines_of(hits, "text") & assignments  # ...but only the assignment hit shows
    for limit in (1, 2, 3, 7):
        assert hits_for(db, "cong an", limit=limit) == hits_for(db, "cong an")[:limit]


# ---------------------------------------------------------------- hostile queries


@pytest.mark.parametrize(
    "query",
    ['"', '"cong an', 'cong" an', "AND", "OR OR", "*", "NEAR(cong an)", "body:cong", "{plain}:x",
     "-", "^cong", "(((", "cong AND", "NOT", "'", "***an", "a:b:c", "cong -", '""', "%_\\",
     "chủ trì)", "OR cong OR", 'cong NEAR/2 an', "\x00"],
)  # fmt: skip
def test_fts_syntax_never_reaches_sqlite(db, query):
    try:
        hits = search(db, query, limit=5).hits
    except VanbanError as exc:
        assert "nothing to search" in exc.reason
    else:
        assert isinstance(hits, list)


def test_parse_query_quotes_every_word():
    parsed = parse_query('cong "an ninh" OR tr* -mang NOT xa')
    fts = parsed.to_fts()
    assert fts.count('"') % 2 == 0
    assert '{plain tags_plain} : "an ninh"' in fts and '"tr" *' in fts
    assert " NOT " in fts and " OR " in fts
    assert parse_query("Công an").exact and not parse_query("cong an").exact


def test_empty_query_without_filters_is_a_clear_error(db):
    with pytest.raises(VanbanError, match="nothing to search"):
        search(db, '"" * -x')


# ---------------------------------------------------------------- incremental indexing


def test_reindex_unchanged_does_nothing(outdir, fresh_db):
    report = index_outdir(outdir, fresh_db)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 0, 3)
    os.utime(outdir / "qd-nghean.json")  # touched, same bytes
    assert index_outdir(outdir, fresh_db).unchanged == 3


def test_added_changed_and_removed_documents(outdir, fresh_db):
    tree = json.loads((outdir / "qd-nghean.json").read_text(encoding="utf-8"))
    tree["document"]["number"] = "9999/QĐ-UBND"
    tree["lines"][14]["text"] = "3. Công an tỉnh chủ trì tuần tra biên giới trên biển."
    (outdir / "sub").mkdir()
    (outdir / "sub" / "qd-copy.json").write_text(json.dumps(tree, ensure_ascii=False), "utf-8")
    report = index_outdir(outdir, fresh_db)  # not in the manifest
    assert report.added == 0  # the batch manifest is the list of documents when present

    (outdir / "vanban-manifest.json").unlink()
    report = index_outdir(outdir, fresh_db)
    assert (report.added, report.unchanged) == (1, 3)
    assert docs_of(hits_for(fresh_db, '"tuan tra bien gioi"')) == {"9999/QĐ-UBND"}

    changed = json.loads((outdir / "kh-quangninh.json").read_text(encoding="utf-8"))
    changed["assignments"][0]["task"] = "Triển khai mạng 5G đến các xã đảo."
    (outdir / "kh-quangninh.json").write_text(json.dumps(changed, ensure_ascii=False), "utf-8")
    (outdir / "kh-haiphong.json").unlink()
    report = index_outdir(outdir, fresh_db)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 1, 1, 2)
    assert docs_of(hits_for(fresh_db, "mang 5G")) == {"88/KH-UBND"}
    assert hits_for(fresh_db, "nang cap mang truyen so lieu", kind="assignment") == []
    assert "167/KH-UBND" not in docs_of(hits_for(fresh_db, "cong an"))
    with sqlite3.connect(fresh_db) as conn:  # the removed document left nothing in the index
        orphans = conn.execute(
            "SELECT count(*) FROM passages_fts WHERE passages_fts MATCH 'cong OR phong'"
            " AND rowid NOT IN (SELECT id FROM passages)"
        ).fetchone()[0]
        conn.execute("INSERT INTO passages_fts (passages_fts) VALUES ('integrity-check')")
    assert orphans == 0


def test_failed_batch_leaves_previous_index(outdir, fresh_db, monkeypatch):
    import vanban.index as index_module

    for name in ("kh-haiphong.json", "qd-nghean.json"):
        tree = json.loads((outdir / name).read_text(encoding="utf-8"))
        tree["document"]["number"] = "NEW-" + tree["document"]["number"]
        (outdir / name).write_text(json.dumps(tree, ensure_ascii=False), "utf-8")
    calls = []

    def failing_insert(*args):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        return real_insert(*args)

    real_insert = index_module._insert_document
    monkeypatch.setattr(index_module, "_insert_document", failing_insert)
    with pytest.raises(RuntimeError):
        index_outdir(outdir, fresh_db)
    monkeypatch.undo()
    assert docs_of(hits_for(fresh_db, "", kind="document")) == {
        "167/KH-UBND",
        "2381/QĐ-UBND",
        "88/KH-UBND",
    }
    assert index_outdir(outdir, fresh_db).updated == 2


def test_corrupt_document_is_reported_and_others_indexed(outdir, tmp_path):
    (outdir / "qd-nghean.json").write_text('{"document": {"number": "trunc', "utf-8")
    report = index_outdir(outdir, tmp_path / "c.sqlite")
    assert report.added == 2
    assert [f.path for f in report.failed] == [str(outdir / "qd-nghean.json")]
    assert "unreadable" in report.failed[0].reason


# ---------------------------------------------------------------- bad input and databases


def test_non_vanban_outdir(tmp_path):
    other = tmp_path / "photos"
    other.mkdir()
    (other / "settings.json").write_text('{"theme": "dark"}')
    with pytest.raises(VanbanError, match="not a vanban output directory"):
        index_outdir(other, tmp_path / "c.sqlite")
    with pytest.raises(VanbanError, match="not a directory"):
        index_outdir(tmp_path / "missing", tmp_path / "c.sqlite")
    assert not (tmp_path / "c.sqlite").exists()


def test_locked_database_times_out_with_clear_message(outdir, fresh_db):
    holder = sqlite3.connect(fresh_db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        (outdir / "qd-nghean.json").write_text(
            (outdir / "qd-nghean.json").read_text("utf-8").replace("Nguyễn Đức Trung", "X"), "utf-8"
        )
        with pytest.raises(VanbanError, match="locked by another process"):
            index_outdir(outdir, fresh_db, timeout=0.2)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert index_outdir(outdir, fresh_db).updated == 1


def test_kept_readers_reuse_connections_until_the_file_is_replaced(outdir, fresh_db):
    readers = KeptReaders(fresh_db, keep=1)
    with readers.connection() as first:
        pass
    with readers.connection() as again, readers.connection() as second:
        assert again is first and second is not first
    with readers.connection() as kept:  # only `keep` (1) stay open: the first one given back
        assert kept is second
    with pytest.raises(sqlite3.ProgrammingError):
        first.execute("SELECT 1")
    rebuild_index(outdir, fresh_db)
    with readers.connection() as fresh:
        assert fresh is not second
        assert fresh.execute("SELECT count(*) FROM documents").fetchone() == (3,)
    fresh_db.unlink()
    with pytest.raises(VanbanError, match="no such index"):
        with readers.connection():
            pass


def test_old_schema_version_asks_for_rebuild(outdir, fresh_db):
    with sqlite3.connect(fresh_db) as conn:
        conn.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    with pytest.raises(VanbanError, match="rebuild"):
        search(fresh_db, "cong an")
    with pytest.raises(VanbanError, match="rebuild"):
        index_outdir(outdir, fresh_db)
    report = rebuild_index(outdir, fresh_db)
    assert report.added == 3 and hits_for(fresh_db, "cong an")


def test_foreign_and_missing_database_files(tmp_path, outdir):
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(VanbanError, match="not a vanban index"):
        search(junk, "cong an")
    with pytest.raises(VanbanError, match="not a vanban index"):
        index_outdir(outdir, junk)
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(VanbanError, match="not a vanban index"):
        search(other, "cong an")
    with pytest.raises(VanbanError, match="no such index"):
        search(tmp_path / "none.sqlite", "cong an")
    assert not (tmp_path / "none.sqlite").exists()


# ---------------------------------------------------------------- the CLI


def test_cli_index_and_search(outdir, tmp_path, capsys):
    main = pytest.importorskip("vanban.cli").main
    db = tmp_path / "cli.sqlite"
    assert main(["index", str(outdir), "--db", str(db)]) == 0
    assert "indexed 3 new" in capsys.readouterr().err
    code = main(["search", "cong", "an", "chu", "tri", "--db", str(db), "--json", "--limit", "3"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0 and payload["count"] == 3 and payload["marks"] == "any"
    first = payload["results"][0]
    assert {"document", "section_id", "section_title", "line", "page", "snippet"} <= set(first)
    assert main(["search", '"', "--db", str(db)]) == 2
    assert "nothing to search" in capsys.readouterr().err
    assert main(["search", "xyzzy", "--db", str(db)]) == 1
    assert capsys.readouterr().out.strip() == "no results"
    assert main(["search", "cong an", "--agency", "x", "--kind", "text", "--db", str(db)]) == 1
    assert "only assignments" in capsys.readouterr().err


def test_journal_of_a_running_batch_counts(outdir, tmp_path):
    manifest = json.loads((outdir / "vanban-manifest.json").read_text("utf-8"))
    entry = manifest["entries"].pop("qd-nghean")
    (outdir / "vanban-manifest.json").write_text(json.dumps(manifest), "utf-8")
    journal = json.dumps(entry) + "\n" + '{"name": "torn", "outp'  # killed mid-write
    (outdir / "vanban-manifest.journal").write_text(journal, "utf-8")
    report = index_outdir(outdir, tmp_path / "c.sqlite")
    assert report.added == 3 and not report.failed


def test_sections_are_the_text_without_lines_or_txt(outdir, tmp_path):
    (outdir / "kh-quangninh.txt").unlink()
    db = tmp_path / "c.sqlite"
    index_outdir(outdir, db)
    (hit,) = search(db, '"kho du lieu dung chung"', Filters(kind="text")).hits
    assert (hit.section_id, hit.line) == ("I.2", 9)


def test_cli_index_lists_failures_and_exits_1_or_2(outdir, tmp_path, capsys):
    main = pytest.importorskip("vanban.cli").main
    (outdir / "kh-haiphong.json").write_text("{", "utf-8")
    assert main(["index", str(outdir), "--db", str(tmp_path / "c.sqlite")]) == 1
    err = capsys.readouterr().err
    assert "kh-haiphong.json: unreadable document JSON" in err and "2 new" in err
    assert main(["index", str(tmp_path), "--db", str(tmp_path / "c.sqlite")]) == 2
    assert "not a vanban output directory" in capsys.readouterr().err


# ---------------------------------------------------------------- folding


def vietnamese_letters() -> set[str]:
    """Every Vietnamese letter, both cases: vowels with each vowel mark and tone, đ, consonants."""
    import unicodedata

    bases = "aăâeêioôơuưy"
    tones = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")
    letters = {unicodedata.normalize("NFC", b + t) for b in bases for t in tones}
    letters |= set("bcdđghklmnpqrstvx")
    return letters | {c.upper() for c in letters}


def test_plain_text_is_the_core_fold_on_vietnamese():
    from vanban.models import LEXICON_DIR

    from vanban.core.text import fold
    from vanban.index import FOLD_CHECK, STRIP_CHECK, plain_text

    lexicon = (LEXICON_DIR / "syllables.tsv").read_text(encoding="utf-8")
    letters = vietnamese_letters() | set(lexicon) | set(lexicon.upper()) | set(STRIP_CHECK)
    assert len(vietnamese_letters()) == 2 * (12 * 6 + 17)
    differ = {c for c in letters if plain_text(c).lower() != fold(c)}
    assert not differ
    # the one difference: letters of other scripts keep their marks in the plain column only
    assert [plain_text(c) for c in "άй"] == ["ά", "й"] and fold("άй") == "αи"
    assert set(FOLD_CHECK) >= set("άй")


def test_plain_text_keeps_length_and_characters_past_its_table():
    from vanban.index import plain_text

    assert plain_text("Đặng Thị Ánh “Tuyết” … 漢字 ά") == "Dang Thi Anh “Tuyet” … 漢字 ά"
    assert plain_text("số 1\u0301") == "so 1"  # no letter to compose the mark with: it goes
    assert plain_text("e\u0301") == "e"  # composed first (é), then stripped


def test_a_changed_folding_asks_for_a_rebuild(fresh_db):
    with sqlite3.connect(fresh_db) as conn:
        conn.execute("UPDATE meta SET value = 'older folding' WHERE key = 'strip_check'")
    with pytest.raises(VanbanError, match="--rebuild"):
        search(fresh_db, "cong an", Filters())
