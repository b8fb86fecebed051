"""保管期限 → retain-until (DA/T 22 terms, the older 长期/短期, Insurance Law art. 87)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from papervault.index.registers.retention import Defaults, retain_until, years_of


def test_terms_in_the_register_are_read() -> None:
    assert [years_of(t) for t in ("永久", "30年", "１０年", "长期", "短期", "10", "", "待定")] \
        == [True, 30, 10, 30, 10, 10, None, None]


def test_permanent_is_a_legal_hold_and_years_run_from_the_record_year() -> None:
    assert retain_until("永久", 2020).hold and retain_until("永久", 2020).until is None
    assert retain_until("10年", 2020).until == datetime(2030, 12, 31, tzinfo=UTC)
    got = retain_until("10年", 2020, contract_end=date(2024, 2, 29))
    assert got.until == datetime(2034, 2, 28, tzinfo=UTC)


def test_without_a_term_the_defaults_follow_the_contract_length() -> None:
    assert retain_until(None, 2020).until == datetime(2025, 12, 31, tzinfo=UTC)
    assert retain_until("", 2020, long_contract=True).until == datetime(2030, 12, 31,
                                                                        tzinfo=UTC)
    mine = Defaults(short_term_years=7, long_term_years=15)
    assert retain_until(None, 2020, defaults=mine).until == datetime(2027, 12, 31, tzinfo=UTC)
