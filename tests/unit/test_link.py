"""ID and 档号 extraction and the never-guess link decision."""

from __future__ import annotations

from papervault.config.settings import DEFAULT_CLIENT_PATTERNS, DEFAULT_RECORD_PATTERNS
from papervault.index.registers.linking import Found, compile_patterns, decide, find_ids

CLIENTS = compile_patterns(DEFAULT_CLIENT_PATTERNS)
RECORDS = compile_patterns(DEFAULT_RECORD_PATTERNS)


def test_ids_are_found_inside_chinese_text_without_word_boundaries() -> None:
    hits = find_ids({"text": "保单号BD2024000123号，客户编号KH-2024-000123已登记"}, CLIENTS)
    assert [h.value for h in hits] == ["KH-2024-000123", "BD2024000123"]


def test_full_width_and_split_ids_are_folded() -> None:
    hits = find_ids({"text": "客户编号：ＫＨ－２０２４－０００１２３"}, CLIENTS)
    assert [h.value for h in hits] == ["KH-2024-000123"]
    hits = find_ids({"text": "客户编号 KH-2024-\n000777"}, CLIENTS)
    assert [h.value for h in hits] == ["KH-2024-000777"]


def test_record_numbers_in_file_and_folder_names() -> None:
    hits = find_ids({"filename": "DA-2023-LP-00042 扫描.pdf", "folder": "2023/理赔"}, RECORDS)
    assert hits == [Found("DA-2023-LP-00042", "filename")]


def _lookup(known: dict[str, str]):  # type: ignore[no-untyped-def]
    return lambda v: known.get(v)


def test_one_registered_client_links() -> None:
    d = decide([Found("KH-2024-000123", "text"), Found("KH-9999-999999", "text")], [],
               _lookup({"KH-2024-000123": "KH-2024-000123"}), _lookup({}))
    assert (d.state, d.client_id, d.source) == ("linked", "KH-2024-000123", "text")


def test_two_registered_clients_are_ambiguous_never_guessed() -> None:
    known = {"KH-2024-000123": "KH-2024-000123", "KH-2024-000456": "KH-2024-000456"}
    d = decide([Found("KH-2024-000123", "filename"), Found("KH-2024-000456", "text")], [],
               _lookup(known), _lookup({}))
    assert d.state == "ambiguous" and d.client_id is None
    assert d.candidates == ("KH-2024-000123", "KH-2024-000456")


def test_unknown_ids_leave_the_document_unlinked() -> None:
    d = decide([Found("KH-0000-000001", "text")], [], _lookup({}), _lookup({}))
    assert (d.state, d.client_id) == ("unlinked", None)


def test_record_number_links_through_the_register() -> None:
    d = decide([], [Found("DA-2023-LP-00042", "folder")], _lookup({}),
               _lookup({"DA-2023-LP-00042": "KH-2024-000123"}))
    assert (d.state, d.client_id, d.record_no) == ("linked", "KH-2024-000123", "DA-2023-LP-00042")


def test_policy_number_agreeing_with_client_id_still_links() -> None:
    known = {"KH-2024-000123": "KH-2024-000123", "BD2024000123": "KH-2024-000123"}
    d = decide([Found("KH-2024-000123", "text"), Found("BD2024000123", "text")], [],
               _lookup(known), _lookup({}))
    assert (d.state, d.client_id) == ("linked", "KH-2024-000123")


def test_a_registered_record_links_its_client_and_keeps_the_others_as_parties() -> None:
    known = {"KH-2024-000123": "KH-2024-000123", "KH-2024-000456": "KH-2024-000456"}
    d = decide([Found("KH-2024-000123", "text"), Found("KH-2024-000456", "text")],
               [Found("DA-2024-LP-00012", "text")], _lookup(known),
               _lookup({"DA-2024-LP-00012": "KH-2024-000456"}))
    assert (d.state, d.client_id, d.record_no) == ("linked", "KH-2024-000456",
                                                   "DA-2024-LP-00012")
    assert d.parties == ("KH-2024-000123",)


def test_two_registered_records_go_to_review_and_are_remembered() -> None:
    owners = {"DA-2024-LP-00012": "KH-2024-000123", "DA-2024-LP-00013": "KH-2024-000123"}
    d = decide([], [Found("DA-2024-LP-00012", "text"), Found("DA-2024-LP-00013", "filename")],
               _lookup({}), _lookup(owners))
    assert (d.state, d.client_id, d.record_no) == ("ambiguous", None, None)
    assert d.records_seen == ("DA-2024-LP-00012", "DA-2024-LP-00013")


def test_an_unregistered_record_number_does_not_settle_two_clients() -> None:
    known = {"KH-2024-000123": "KH-2024-000123", "KH-2024-000456": "KH-2024-000456"}
    d = decide([Found("KH-2024-000123", "text"), Found("KH-2024-000456", "text")],
               [Found("DA-2024-LP-99999", "text")], _lookup(known), _lookup({}))
    assert (d.state, d.record_no) == ("ambiguous", None)
    assert d.parties == ("KH-2024-000123", "KH-2024-000456") and d.records_seen == ()
