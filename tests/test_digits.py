"""Lone digits that eng OCR printed for syllables: the narrow context, the learned table."""

from __future__ import annotations

import numpy as np
from vanban.restore.decoder.candidates import CandidateGenerator
from vanban.restore.decoder.lexicon import load_inventory
from vanban.restore.decoder.lm import SPECIALS, NgramLM
from vanban.restore.decoder.restorer import NgramRestorer
from vanban.restore.rules.digits import (
    NUMBER,
    count_misreads,
    in_word_context,
    load_table,
    write_table,
)

from vanban.core.text import split_chunks


def test_only_bare_short_numbers_between_lowercase_words_qualify():
    def eligible(line):
        chunks = split_chunks(line)
        return [c.core for k, c in enumerate(chunks) if in_word_context(chunks, k)]

    assert eligible("phong ngua, nhat 14 cac he thong") == ["14"]
    assert eligible("Dieu 14 cac") == []  # capital before
    assert eligible("nam 2025 cac") == []  # four digits
    assert eligible("khoan 14, cac") == []  # punctuation attached
    assert eligible("14 cac") == [] and eligible("cac 14") == []  # line edges
    chunks = split_chunks("thuc tien 13")
    assert in_word_context(chunks, 2, split_chunks("cac he thong")[0])  # the next line goes on
    assert not in_word_context(chunks, 2, split_chunks("Dieu 5")[0])


def test_table_learned_from_pairs(tmp_path):
    pairs = [("nhat 14 cac", "nhất là các")] * 3 + [("co 14 xa", "có 14 xã")]
    counts = count_misreads(pairs)
    assert counts["14"] == {"là": 3, NUMBER: 1}
    write_table(counts, tmp_path / "t.tsv")
    table = load_table(tmp_path / "t.tsv")
    probs = dict(table["14"])
    assert set(probs) == {"là", NUMBER} and probs["là"] > probs[NUMBER]


def test_lm_decides_between_the_number_and_the_syllable():
    text = ["nhất là các hệ thống", "có 14 xã và phường", "là các đơn vị"] * 20
    lm = NgramLM.train(text, SPECIALS + sorted(load_inventory()), min_trigram=1, order=4)
    table = {"14": [(NUMBER, np.log(0.4)), ("là", np.log(0.6))]}
    restorer = NgramRestorer(lm, CandidateGenerator.load(), digit_misreads=table)
    out = [r.text for r in restorer.restore_lines(["nhat 14 cac hé thong", "co 14 xa va phuong"])]
    assert out == ["nhất là các hệ thống", "có 14 xã và phường"]
    plain = NgramRestorer(lm, CandidateGenerator.load())  # without the table: never touched
    assert plain.restore_lines(["nhat 14 cac"])[0].text.split()[1] == "14"


def test_fresh_vie_ocr_prints_numbers_as_numbers():
    """In the vie profile the eng table is off: 'thuê 1 lực sĩ' keeps its 1."""
    text = ["ông đã thuê 1 lực sĩ làm việc", "đây là một lực sĩ"] * 20
    lm = NgramLM.train(text, SPECIALS + sorted(load_inventory()), min_trigram=1, order=4)
    table = {"1": [(NUMBER, np.log(0.1)), ("là", np.log(0.9))]}
    restorer = NgramRestorer(lm, CandidateGenerator.load(), digit_misreads=table)
    vie = ["Ông đã thuê 1 lực sĩ làm sát thủ cho đoàn của nhà vua."]
    slots, _ = restorer.stream(vie)
    one = next(s for s in slots if s.chunk.core == "1")
    assert one.words == ["1"]
    assert restorer.restore_lines(vie)[0].text == vie[0]
    eng_slots, _ = restorer.stream(["ong da thué 1 luc si"])  # eng OCR: the table applies
    assert next(s for s in eng_slots if s.chunk.core == "1").words == ["1", "là"]
