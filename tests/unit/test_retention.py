"""保管期限 → retain-until (DA/T 22 terms, the older 长期/短期, Insurance Law art. 87)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from papervault.config.errors import ConfigError
from papervault.config.settings import load_settings
from papervault.index.registers.retention import Defaults, defaults_from, retain_until, years_of
from papervault.index.registers.tables import RegisterRejected, parse_paper_rows


def test_terms_in_the_register_are_read() -> None:
    assert [years_of(t) for t in ("永久", "30年", "１０年", "长期", "短期", "10", "", "待定")] \
        == [True, 30, 10, 30, 10, 10, None, None]


def test_permanent_is_a_legal_hold_and_years_run_from_the_record_year() -> None:
    assert retain_until("永久", 2020).hold and retain_until("永久", 2020).until is None
    assert retain_until("10年", 2020).until == datetime(2030, 12, 31, tzinfo=UTC)
    got = retain_until("10年", 2020, contract_end=date(2024, 2, 29))
    assert got.until == datetime(2034, 2, 28, tzinfo=UTC)


def test_without_a_term_the_defaults_follow_the_contract_length() -> None:
    """Insurance Law art. 87: 5 years after a contract of one year or less ends, 10 after
    a longer one; a type whose contract length is unknown gets the longer term."""
    short = Defaults(short_types=frozenset({"短期意外险投保单"}))
    assert retain_until(None, 2020, kind="短期意外险投保单", defaults=short).until \
        == datetime(2025, 12, 31, tzinfo=UTC)
    assert retain_until("", 2020, kind="保单", defaults=short).until \
        == datetime(2030, 12, 31, tzinfo=UTC)
    assert retain_until(None, 2020).until == datetime(2030, 12, 31, tzinfo=UTC)
    mine = Defaults(short_term_years=7, long_term_years=15, short_types=frozenset({"x"}),
                    type_years=(("理赔申请书", 12),))
    assert retain_until(None, 2020, kind="x", defaults=mine).until \
        == datetime(2027, 12, 31, tzinfo=UTC)
    assert retain_until(None, 2020, kind="理赔申请书", defaults=mine).until \
        == datetime(2032, 12, 31, tzinfo=UTC)


def test_a_term_shorter_than_the_default_gets_the_default() -> None:
    got = retain_until("3年", 2020, kind="保单")
    assert got.until == datetime(2030, 12, 31, tzinfo=UTC) and "3年" in got.why
    assert retain_until("30年", 2020, kind="保单").until == datetime(2050, 12, 31, tzinfo=UTC)


def test_the_term_runs_from_the_contract_end_when_the_register_gives_one() -> None:
    got = retain_until(None, 2020, contract_end=date(2021, 6, 30), kind="保单")
    assert got.until == datetime(2031, 6, 30, tzinfo=UTC) and "contract end" in got.why


def test_defaults_come_from_the_settings_and_may_not_go_below_the_law() -> None:
    s = load_settings(None, retention={"short_term_years": 6, "short_types": ["旅行险保单"],
                                       "type_years": {"理赔申请书": 15}})
    d = defaults_from(s.retention)
    assert (d.years_for("旅行险保单"), d.years_for("理赔申请书"), d.years_for(None)) \
        == (6, 15, 10)
    for bad in ({"short_term_years": 4}, {"long_term_years": 9},
                {"type_years": {"保单": 3}}):
        with pytest.raises(ConfigError, match="Insurance Law|greater than"):
            load_settings(None, retention=bad)


def test_the_contract_end_column_is_read_from_the_register() -> None:
    rows = [(2, {"档号": "DA-1", "年度": "2020", "合同终止日期": "2021年6月30日"}),
            (3, {"档号": "DA-2", "年度": "2020", "合同终止日期": "2022-01-15 00:00:00"}),
            (4, {"档号": "DA-3", "年度": "2020"})]
    got = {r.record_no: r.contract_end for r in parse_paper_rows(rows)}
    assert got == {"DA-1": date(2021, 6, 30), "DA-2": date(2022, 1, 15), "DA-3": None}
    with pytest.raises(RegisterRejected) as bad:
        parse_paper_rows([(2, {"档号": "DA-4", "合同终止日期": "2021-02-30"})])
    assert "合同终止日期" in str(bad.value.errors[0])


def test_a_new_instance_keeps_originals_under_governance_object_lock(tmp_path: Path) -> None:
    from papervault.ingest.instance import init_instance

    s = load_settings(init_instance(tmp_path / "inst"))
    assert (s.s3.object_lock, s.retention.short_term_years, s.retention.long_term_years) \
        == ("GOVERNANCE", 5, 10)


def test_an_unlinked_original_keeps_the_lock_it_was_stored_under() -> None:
    """Its record (and so its term) is unknown and it may be a mis-scan: no 10-year default
    is put on it until a link names its record."""
    from papervault.index.catalog.models import Document
    from papervault.index.registers.retention import for_document

    at = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    doc = Document(sha256="0" * 64, size=1, original_name="x.pdf", media_type="pdf",
                   object_name="o/00/x", object_size=1, wrapped_key=b"k", key_id="1",
                   ingested_at=at)
    first = datetime(2031, 1, 4, 9, 30, tzinfo=UTC)
    got = for_document(None, doc, Defaults(), first)  # type: ignore[arg-type]  # no record
    assert (got.until, got.hold) == (first, False) and "not linked" in got.why
    assert for_document(None, doc, Defaults()).until == datetime(  # type: ignore[arg-type]
        2036, 1, 5, tzinfo=UTC)
