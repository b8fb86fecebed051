"""The one definition of a paper record's coverage code, as SQL both databases run.

Codes (see :mod:`index.coverage_models`): 0 none, 1 verified, 2 stored but not yet
verified, 3 failed. A record takes the worst code of its documents, so one damaged part
flags the whole file. A failed document (checksum/readback failure or a failed spot check)
stops counting once a newer, not-failed document for the same record exists: that is the
re-scan which replaces it.
"""

from __future__ import annotations

_QA_FAIL = "EXISTS (SELECT 1 FROM qa_check q WHERE q.document_id = {d}.id AND q.result = 'fail')"

_FAILED = f"({{d}}.verify_state = 'failed' OR {_QA_FAIL})"

_REPLACED = (
    "EXISTS (SELECT 1 FROM document n WHERE n.record_no = d.record_no AND n.id > d.id "
    "AND NOT " + _FAILED.format(d="n") + ")"
)

RECORD_CODE = (
    "COALESCE((SELECT MAX(CASE"
    f" WHEN {_FAILED.format(d='d')} THEN (CASE WHEN {_REPLACED} THEN 0 ELSE 3 END)"
    " WHEN d.verify_state = 'verified' THEN 1 ELSE 2 END)"
    " FROM document d WHERE d.record_no = r.record_no), 0)"
)

_SELECT = f"SELECT r.record_no, r.department, r.year, {RECORD_CODE} FROM paperrecord r"

FILL_ALL = f"INSERT INTO record_state (record_no, department, year, code) {_SELECT}"

# ``:nos`` is an expanding bind parameter (a list of 档号).
FILL_SOME = FILL_ALL + " WHERE r.record_no IN :nos"
