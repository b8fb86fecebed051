"""One normalisation for registers, the linker and search (they used to disagree)."""

from __future__ import annotations

import re

from papervault.index.registers.linking import find_ids
from papervault.index.search.indexer import tokens
from papervault.index.text import clean_ocr_text, fold_id, fold_search


def test_em_dash_in_register_and_ocr_fold_to_the_same_id() -> None:
    assert fold_id("kh—2024—000123") == fold_id("ＫＨ－２０２４－０００１２３") == "KH-2024-000123"


def test_search_and_ids_fold_alike_but_for_case() -> None:
    s = "ＫＨ—２０２４ 理赔"
    assert fold_search(s) == fold_id(s).lower()
    assert tokens("ＫＨ—２０２４ 理赔") == ["kh", "2024", "理", "赔"]


def test_clean_ocr_text_joins_hanzi_keeps_english_spaces() -> None:
    assert clean_ocr_text("华 夏 安 康 保 险  Policy No  BD1\n") == "华夏安康保险  Policy No  BD1"


def test_linker_finds_an_id_written_with_em_dashes() -> None:
    found = find_ids({"text": "客户编号：KH—2024—000123"}, [re.compile(r"KH-\d{4}-\d{6}")])
    assert [f.value for f in found] == ["KH-2024-000123"]
