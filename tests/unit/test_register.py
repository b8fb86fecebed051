"""Paper-register parsing: encodings, headers in Chinese and English, and every row error
named by line, column and reason (no database needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from papervault.config.settings import DEFAULT_RECORD_PATTERNS
from papervault.index.registers.tables import RegisterRejected, parse_paper_rows, read_table

HEADER_ZH = "档号,客户编号,题名,部门,年度,保管期限,库房,架号,盒号,页数\n"
ROW1 = "DA-2024-LP-000001,KH-2024-000001,张伟 理赔案卷,理赔部,2024,永久,3号库房,A-12,007,12\n"
ROW2 = "DA-2023-HB-000002,,李娜 投保资料,核保部,2023年,定期30年,3号库房,B-01,011,\n"


def _parse(path: Path) -> list:  # type: ignore[type-arg]
    return parse_paper_rows(read_table(path), DEFAULT_RECORD_PATTERNS, path.name)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_chinese_csv_in_every_office_encoding(tmp_path: Path, encoding: str) -> None:
    f = tmp_path / "register.csv"
    f.write_bytes((HEADER_ZH + ROW1 + ROW2).encode(encoding))
    recs = _parse(f)
    assert [r.record_no for r in recs] == ["DA-2024-LP-000001", "DA-2023-HB-000002"]
    first, second = recs
    assert (first.title, first.department, first.year, first.retention) == (
        "张伟 理赔案卷", "理赔部", 2024, "永久")
    assert (first.room, first.shelf, first.box, first.expected_pages) == (
        "3号库房", "A-12", "007", 12)
    assert first.client_id == "KH-2024-000001" and second.client_id is None
    assert (second.year, second.retention, second.expected_pages) == (2023, "30年", None)


def test_english_headers_any_case_and_a_combined_location(tmp_path: Path) -> None:
    f = tmp_path / "register.csv"
    f.write_text("Record_No,Client_ID,Title,Department,Year,Location\n"
                 "da-2024-lp-000009,kh-2024-000009,Claim,Claims,2024,Room 3 / A-12 / 007\n",
                 encoding="utf-8")
    (rec,) = _parse(f)
    assert (rec.record_no, rec.client_id) == ("DA-2024-LP-000009", "KH-2024-000009")
    assert (rec.room, rec.shelf, rec.box) == ("Room 3", "A-12", "007")


def test_full_width_digits_are_folded(tmp_path: Path) -> None:
    f = tmp_path / "register.csv"
    f.write_text("档号,年度\nＤＡ－２０２４－ＬＰ－０００００１,２０２４\n", encoding="utf-8")
    (rec,) = _parse(f)
    assert (rec.record_no, rec.year) == ("DA-2024-LP-000001", 2024)


def test_every_bad_cell_is_named_and_nothing_is_returned(tmp_path: Path) -> None:
    f = tmp_path / "register.csv"
    f.write_text(HEADER_ZH + ROW1
                 + "DA-2024-LP-000003,,,,2O24,永久,,,,\n"        # line 3: letter O in year
                 + "DA-2024-LP-000004,,,,1800,十年,,,,-5\n"       # line 4: three bad cells
                 + ",,no number,,2024,,,,,\n"                     # line 5: empty 档号
                 + "DA-2024-LP-000001,,again,,2024,,,,,\n"        # line 6: duplicate of line 2
                 + "XX-1,,bad format,,,,,,,\n",                   # line 7: not a 档号
                 encoding="utf-8")
    with pytest.raises(RegisterRejected) as info:
        _parse(f)
    got = {(e.line, e.column) for e in info.value.errors}
    assert got == {(3, "年度"), (4, "年度"), (4, "保管期限"), (4, "页数"), (5, "档号"),
                   (6, "档号"), (7, "档号")}
    dup = next(e for e in info.value.errors if e.line == 6)
    assert "line 2" in dup.reason
    assert "nothing was imported" in str(info.value)


def test_missing_record_column_is_rejected(tmp_path: Path) -> None:
    f = tmp_path / "register.csv"
    f.write_text("客户编号,题名\nKH-2024-000001,张伟\n", encoding="utf-8-sig")
    with pytest.raises(RegisterRejected) as info:
        _parse(f)
    (e,) = info.value.errors
    assert (e.line, e.column) == (1, "档号") and "missing" in e.reason


def test_a_quoted_cell_spanning_lines_keeps_later_line_numbers(tmp_path: Path) -> None:
    f = tmp_path / "register.csv"
    f.write_text('档号,题名,年度\nDA-2024-LP-000001,"两行\n题名",2024\nDA-2024-LP-000002,x,20\n',
                 encoding="utf-8")
    with pytest.raises(RegisterRejected) as info:
        _parse(f)
    assert [(e.line, e.column) for e in info.value.errors] == [(4, "年度")]


def test_not_text_at_all_is_refused(tmp_path: Path) -> None:
    from papervault.config.errors import BadInput

    f = tmp_path / "register.csv"
    f.write_bytes(b"\xff\xfe\x00\x81\xff\xff")
    with pytest.raises(BadInput):
        _parse(f)


def test_xlsx_with_numbers_as_excel_stores_them(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["档号", "客户编号", "年度", "页数", "部门"])
    ws.append(["DA-2022-LP-000010", "KH-2022-000010", 2022.0, 8, "理赔部"])
    ws.append([None, None, None, None, None])
    ws.append(["DA-2022-LP-000011", None, "2022", None, "理赔部"])
    f = tmp_path / "register.xlsx"
    wb.save(f)
    recs = _parse(f)
    assert [(r.record_no, r.year, r.expected_pages) for r in recs] == [
        ("DA-2022-LP-000010", 2022, 8), ("DA-2022-LP-000011", 2022, None)]
