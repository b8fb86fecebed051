"""Document metadata from the registers: doc_type precedence and the document date."""

from __future__ import annotations

from datetime import date

from papervault.index.registers.metadata import (
    Facts,
    Metadata,
    compile_dates,
    date_in_text,
    derive,
    set_doc_type,
)

EMPTY = Metadata(None, None, None, None, None)


def test_labelled_dates_are_read_from_spaced_out_ocr_text() -> None:
    assert date_in_text("出 险 时 间：2024 年 3 月 15 日  出险地点") == date(2024, 3, 15)
    assert date_in_text("申请日期：２０２３－１１－０２") == date(2023, 11, 2)
    assert date_in_text("出险日期 2024年13月40日 申请日期 2024年2月1日") == date(2024, 2, 1)
    assert date_in_text("保单 2024年3月15日 无标签") is None


def test_date_patterns_are_configurable() -> None:
    mine = compile_dates([r"生效日(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})"])
    assert date_in_text("生效日 2022/07/01", mine) == date(2022, 7, 1)
    assert date_in_text("出险日期 2024年3月15日", mine) is None


def test_record_gives_department_title_and_year_when_the_text_has_no_date() -> None:
    got = derive(EMPTY, Facts("无日期", "投保单", "理赔部", 2019, "销售部"))
    assert got == Metadata("理赔部", "投保单", "record", date(2019, 1, 1), "record")
    got = derive(EMPTY, Facts("出险日期：2024年3月15日", None, None, None, "销售部"))
    assert got == Metadata("销售部", None, None, date(2024, 3, 15), "text")


def test_doc_type_precedence_hand_over_record_over_cover_sheet_over_keywords() -> None:
    hand = Metadata(None, "理赔申请书", "manual", None, None)
    assert derive(hand, Facts("", "投保单")).doc_type == "理赔申请书"
    sheet = Metadata(None, "封面", "coversheet", None, None)
    assert derive(sheet, Facts("", "投保单")).doc_type_source == "record"
    lost = derive(Metadata(None, "投保单", "record", None, None), Facts(""))
    assert (lost.doc_type, lost.doc_type_source) == (None, None)

    class Doc:
        doc_type: str | None = "投保单"
        doc_type_source: str | None = "record"

    doc = Doc()
    assert not set_doc_type(doc, "保单", "keywords") and doc.doc_type == "投保单"
    assert set_doc_type(doc, "批单", "manual") and doc.doc_type_source == "manual"
