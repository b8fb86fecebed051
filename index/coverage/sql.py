"""The one definition of a paper record's coverage code, as SQL both databases run.

Codes (see :mod:`index.coverage.tables`): 0 none, 1 verified, 2 stored but not yet
verified, 3 failed, 4 scanned and verified but awaiting review (no document carries the
档号 yet; one waiting for review names it). A record takes the worst code of its
documents, so one damaged part flags the whole file. A failed document (checksum/readback
failure or a failed spot check) stops counting once a newer, not-failed document for the
same record exists: that is the re-scan which replaces it.
"""

from __future__ import annotations

_QA_FAIL = "EXISTS (SELECT 1 FROM qa_check q WHERE q.document_id = {d}.id AND q.result = 'fail')"

_FAILED = f"({{d}}.verify_state = 'failed' OR {_QA_FAIL})"

_REPLACED = (
    "EXISTS (SELECT 1 FROM document n WHERE n.record_no = d.record_no AND n.id > d.id "
    "AND NOT " + _FAILED.format(d="n") + ")"
)

# No document carries the 档号, but one waiting for review names it (two 档号 on one form,
# say): the paper file is scanned, so "no scan" would print a cover sheet for it again.
_AWAITING = (
    "(SELECT MAX(CASE WHEN d.verify_state = 'verified' THEN 4"
    " WHEN d.verify_state = 'failed' THEN 0 ELSE 2 END)"
    " FROM document_mention m JOIN document d ON d.id = m.document_id"
    " WHERE m.kind = 'record' AND m.value = r.record_no"
    " AND d.link_state IN ('ambiguous', 'unlinked'))"
)

RECORD_CODE = (
    "COALESCE((SELECT MAX(CASE"
    f" WHEN {_FAILED.format(d='d')} THEN (CASE WHEN {_REPLACED} THEN 0 ELSE 3 END)"
    " WHEN d.verify_state = 'verified' THEN 1 ELSE 2 END)"
    f" FROM document d WHERE d.record_no = r.record_no), {_AWAITING}, 0)"
)

_SELECT = f"SELECT r.record_no, r.department, r.year, {RECORD_CODE} FROM paperrecord r"

FILL_ALL = f"INSERT INTO record_state (record_no, department, year, code) {_SELECT}"

# ``:nos`` is an expanding bind parameter (a list of 档号).
FILL_SOME = FILL_ALL + " WHERE r.record_no IN :nos"

# The DA/T 31 catalogue check per 档号, kept in ``coverage_check`` beside ``record_state``.
# The two sets are disjoint: a registered record whose scans' pages differ from the
# register's count, and a 档号 the register lacks, with how many read documents carry it.
# The page check starts from the records with a count (PostgreSQL otherwise semi-joined
# every document first: 18 s at 1M); a SUM over no documents is NULL, so a record without
# scans is "no scan", not a page mismatch. Read documents that are an image of some paper
# file: batches split by cover sheets are counted through their parts, and a part always
# carries its 档号.
COUNTED_IMAGE = "d.state IN ('indexed', 'partly_read') AND d.link_state <> 'split'"
_PAGES_OFF = (
    "SELECT r.record_no, 0, 1 FROM paperrecord r WHERE r.expected_pages IS NOT NULL"
    " AND r.expected_pages <> (SELECT SUM(CASE WHEN d.link_state <> 'split'"
    " THEN COALESCE(d.page_count, 0) ELSE 0 END) FROM document d"
    " WHERE d.record_no = r.record_no)"
)
# An anti-join (LEFT JOIN … IS NULL): PostgreSQL ran NOT EXISTS under an OR as one probe
# per document (12 s at 1M documents). The states are counted, not filtered: as a filter,
# SQLite looked the batch's 档号 up through the index on state (every read document).
_IS_IMAGE = f"CASE WHEN {COUNTED_IMAGE} THEN 1 ELSE 0 END"
_UNREGISTERED = (
    f"SELECT d.record_no, SUM({_IS_IMAGE}), 0 FROM document d"
    " LEFT JOIN paperrecord r ON r.record_no = d.record_no"
    " WHERE d.record_no IS NOT NULL AND r.record_no IS NULL"
)
_BY_RECORD = f" GROUP BY d.record_no HAVING SUM({_IS_IMAGE}) > 0"
_CHECK = "INSERT INTO coverage_check (record_no, images, pages_off) "
CHECK_ALL = f"{_CHECK}{_PAGES_OFF} UNION ALL {_UNREGISTERED}{_BY_RECORD}"
# ``:nos`` as in FILL_SOME.
CHECK_SOME = (f"{_CHECK}{_PAGES_OFF} AND r.record_no IN :nos UNION ALL {_UNREGISTERED}"
              f" AND d.record_no IN :nos{_BY_RECORD}")

# Read documents without a 档号 at all, counted live from a partial index
# (ix_document_unfiled, migration 0015: its predicate is this WHERE, term for term, so
# SQLite uses it too; on record_no, so SQLite takes it over ix_document_record_no).
UNFILED = f"SELECT count(*) FROM document d WHERE d.record_no IS NULL AND {COUNTED_IMAGE}"
