"""ID and 档号 extraction on arbitrary text (CJK, full-width, OCR-split): never a crash,
and a valid ID embedded anywhere in Chinese text is always found."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from papervault.config.settings import DEFAULT_CLIENT_PATTERNS, DEFAULT_RECORD_PATTERNS
from papervault.index.registers.linking import Found, compile_patterns, decide, find_ids
from tests.fuzz.budget import FUZZ
from tests.report import counted

CLIENT = compile_patterns(DEFAULT_CLIENT_PATTERNS)
RECORD = compile_patterns(DEFAULT_RECORD_PATTERNS)
SOURCES = ("barcode", "filename", "folder", "text")
# Text as scanners and OCR produce it: Hanzi, full-width forms, ASCII, blanks, anything.
TEXTS = st.text(alphabet=st.one_of(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
    st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E),
    st.characters(codec="utf-8"),
    st.sampled_from(" \n\t-－—"),
), max_size=300)
# Between an ID and its neighbours: what Chinese forms put there (never a letter or digit,
# which would make it a different, longer ID).
SEPARATORS = st.sampled_from(["号", "：", "，", "。", "、", "（", "）", "【", "】", "客户", "保单"])
DIGIT = st.sampled_from("0123456789")
FULL_WIDTH = str.maketrans("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-",
                           "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ－")


def _digits(n: int, m: int | None = None) -> st.SearchStrategy[str]:
    return st.text(DIGIT, min_size=n, max_size=m or n)


IDS = st.one_of(
    st.builds(lambda a, b: f"KH-{a}-{b}", _digits(4), _digits(6)),
    st.builds(lambda a: f"BD{a}", _digits(10)),
    st.builds(lambda y, d, n: f"DA-{y}-{d}-{n}", _digits(4),
              st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), min_size=2, max_size=4),
              _digits(4, 6)),
)


@FUZZ
@given(st.dictionaries(st.sampled_from(SOURCES), TEXTS, max_size=4))
@counted
def test_any_text_gives_only_pattern_matches(sources: dict[str, str]) -> None:
    for hit in find_ids(sources, CLIENT + RECORD):
        assert isinstance(hit, Found) and hit.source in sources
        assert any(p.fullmatch(hit.value) for p in CLIENT + RECORD), hit


@FUZZ
@given(before=TEXTS, after=TEXTS, left=SEPARATORS, right=SEPARATORS, the_id=IDS,
       width=st.sampled_from(["half", "full", "lower"]),
       split_at=st.one_of(st.none(), st.integers(1, 20)),
       source=st.sampled_from(SOURCES))
@counted
def test_a_valid_id_in_any_text_is_found(
    before: str, after: str, left: str, right: str, the_id: str, width: str,
    split_at: int | None, source: str,
) -> None:
    written = {"half": the_id, "full": the_id.translate(FULL_WIDTH),
               "lower": the_id.lower()}[width]
    if split_at is not None and split_at < len(written):  # OCR broke the line inside it
        written = written[:split_at] + "\n" + written[split_at:]
    text = before + left + written + right + after
    values = {h.value for h in find_ids({source: text}, CLIENT + RECORD)}
    assert the_id in values, (text, values)


@FUZZ
@given(clients=st.lists(st.sampled_from(["KH-2024-000001", "KH-2024-000002", "BD2024000001"])),
       records=st.lists(st.sampled_from(["DA-2024-LP-000001", "DA-2024-LP-000002"])),
       known=st.dictionaries(st.text(max_size=20), st.text(max_size=20)))
@counted
def test_decide_never_guesses(clients: list[str], records: list[str],
                              known: dict[str, str]) -> None:
    owners = {"KH-2024-000001": "KH-2024-000001", "BD2024000001": "KH-2024-000001",
              "KH-2024-000002": "KH-2024-000002"}
    d = decide([Found(c, "text") for c in clients], [Found(r, "text") for r in records],
               owners.get, lambda r: known.get(r, True if r.endswith("1") else None))
    assert d.state in ("linked", "unlinked", "ambiguous")
    registered = {r for r in records if known.get(r, True if r.endswith("1") else None)}
    if d.state == "linked":
        assert d.client_id is not None or d.record_no is not None
        if d.record_no is None:  # no 档号: exactly one client, no guessing among several
            assert len({c for c in d.candidates if re.fullmatch(r"KH-\d{4}-\d{6}", c)}) <= 1
        else:  # record first: one registered 档号, the other clients are parties
            assert registered == {d.record_no}
            assert d.client_id not in d.parties
    else:
        assert d.client_id is None and d.record_no is None
        assert len(registered) != 1
