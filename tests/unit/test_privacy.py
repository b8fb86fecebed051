"""Masking ID and card numbers: only numbers whose check digit holds, last 4 kept."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from papervault.index.accounts.privacy import digest, find_numbers, id_ok, luhn_ok, mask_text

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def with_id_check(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]


def with_luhn(prefix: str) -> str:
    return next(prefix + d for d in "0123456789" if luhn_ok(prefix + d))


ID = with_id_check("11010519491231002")  # ends in X
CARD = with_luhn("622202123456789012")


def test_ids_and_cards_keep_their_last_four_and_nothing_else_is_touched() -> None:
    text = (f"身份证号：{ID}，银行卡号：{CARD[:4]} {CARD[4:8]} {CARD[8:12]} {CARD[12:16]} "
            f"{CARD[16:]}；保单号 BD2024000123 电话 13800138000 日期 20240115 "
            f"客户编号 KH-2024-000123 金额 1234567890123")
    masked, numbers = mask_text(text)
    assert numbers == [ID, CARD]
    assert f"{'*' * 14}{ID[-4:]}" in masked and f"{'*' * 15}{CARD[-4:]}" in masked
    assert ID not in masked and CARD[:12] not in masked.replace(" ", "")
    for kept in ("BD2024000123", "13800138000", "20240115", "KH-2024-000123"):
        assert kept in masked
    # 1234567890123: 13 digits but not a valid card, so left alone
    assert "1234567890123" in masked


def test_a_wrong_check_digit_is_not_a_number_to_mask() -> None:
    wrong_id = ID[:-1] + ("0" if ID[-1] != "0" else "1")
    wrong_card = CARD[:-1] + str((int(CARD[-1]) + 1) % 10)
    assert not id_ok(wrong_id) and not luhn_ok(wrong_card)
    assert find_numbers(f"{wrong_id} {wrong_card}") == []


def test_full_width_digits_are_numbers_too() -> None:
    full = ID.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    masked, numbers = mask_text(f"证件：{full}")
    assert numbers == [ID] and masked.endswith("002X")


def test_the_hash_depends_on_the_key() -> None:
    assert digest(b"k1", ID) == digest(b"k1", ID.lower())
    assert digest(b"k1", ID) != digest(b"k2", ID)


@settings(max_examples=200, deadline=None)
@given(body=st.text(st.characters(codec="utf-8", categories=["Lo", "Zs", "Po"]), max_size=40),
       area=st.integers(110000, 659999), year=st.integers(1930, 2020),
       month=st.integers(1, 12), day=st.integers(1, 28), seq=st.integers(0, 999))
def test_any_valid_id_in_any_chinese_text_is_masked(body: str, area: int, year: int,
                                                     month: int, day: int, seq: int) -> None:
    number = with_id_check(f"{area}{year}{month:02}{day:02}{seq:03}")
    cut = len(body) // 2
    masked, numbers = mask_text(f"{body[:cut]}{number}{body[cut:]}")
    assert numbers == [number]
    assert number not in masked and masked.count(number[-4:]) >= 1
