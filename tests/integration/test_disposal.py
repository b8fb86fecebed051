"""Retention under Object Lock, end to end on the local S3 server (SeaweedFS) and both
databases: verify puts back missing or short locks, the retention report lists what
expires when, and the disposal workflow (an officer proposes, a different person — the
auditor — approves, the run destroys every version) refuses what is not expired or kept
permanently, audits each step and leaves a 销毁清册. An administrator removes a mis-scan
under GOVERNANCE with a reason."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from typer.testing import CliRunner

from papervault.config.settings import Settings
from papervault.index.accounts import users
from papervault.index.accounts.access import Role
from papervault.index.accounts.scope import EVERYTHING
from papervault.index.catalog.db import session_scope
from papervault.index.catalog.models import AuditEntry, Document, Page
from papervault.index.registers import disposal
from papervault.index.registers.disposal import DisposalRefused
from papervault.index.web.app import create_app
from papervault.ingest.cli import app
from papervault.ingest.doctor import run_checks
from papervault.ingest.pipeline import Stored, capture
from papervault.ingest.runtime import Runtime, open_runtime
from papervault.storage import records
from papervault.storage.errors import DeletionRefused
from tests.conftest import wait_until, write_config
from tests.factories import form_lines, write_form
from tests.integration.test_worm import _drop_locked, _versions

LOCK_SECONDS = 4  # a new original's lock before its record's term applies
REGISTER = ("档号,客户编号,题名,部门,年度,保管期限\n"
            "DA-2010-LP-00001,KH-2010-000001,投保单,理赔部,2010,10年\n"
            "DA-2024-LP-00002,KH-2024-000002,保单,理赔部,2024,30年\n"
            "DA-2010-LP-00003,KH-2010-000003,保单,理赔部,2010,永久\n")
PEOPLE = {"officer": ("li.officer", Role.OFFICER), "auditor": ("sun.audit", Role.AUDITOR),
          "admin": ("wang.admin", Role.ADMIN)}


@dataclass
class Office:
    rt: Runtime
    cfg: dict[str, Path]
    docs: dict[str, int]

    def run(self, who: str, *args: str) -> tuple[int, str, BaseException | None]:
        res = CliRunner().invoke(app, ["-c", str(self.cfg[who]), *args])
        return res.exit_code, res.output, res.exception


@pytest.fixture
def office(instance: Callable[..., Settings], tmp_path: Path) -> Iterator[Office]:
    bucket = "d-" + uuid.uuid4().hex[:12]  # new: made with Object Lock at start-up
    s = instance(s3={"bucket": bucket, "lock_default_days": LOCK_SECONDS / 86400})
    rt = open_runtime(s)
    rt.store.ensure_bucket()
    try:
        with session_scope(rt.engine) as db:
            for name, role in PEOPLE.values():
                users.add_user(db, name, frozenset({role}), by="test", with_password=False)
        cfg = {}
        for who, (name, _) in PEOPLE.items():
            path = write_config(s.model_copy(update={"actor": name}), tmp_path / f"{who}.toml")
            with path.open("a", encoding="utf-8") as f:  # [s3] is the file's last section
                f.write(f"lock_default_days = {LOCK_SECONDS / 86400}\n")
            cfg[who] = path
        (tmp_path / "register.csv").write_text(REGISTER, encoding="utf-8")
        o = Office(rt, cfg, {})
        code, output, _ = o.run("auditor", "paper", "import", str(tmp_path / "register.csv"))
        assert code == 0, output
        ctx = rt.capture_context()
        for n in ("00001", "00002", "00003"):
            got = capture(write_form(s.inbox / f"scan-{n}.png", form_lines(
                extra=f"档号 {n}"), dpi=150), ctx)
            assert isinstance(got, Stored)
            o.docs[n] = got.document_id
        for n, doc_id in o.docs.items():
            no = next(r for r in REGISTER.split() if n in r).split(",")[0]
            code, output, _ = o.run("officer", "review", "--link", str(doc_id),
                                    "--record", no)
            assert code == 0, output
        yield o
    finally:
        _drop_locked(rt.store.client, bucket)


def _doc(o: Office, n: str) -> Document | None:
    with Session(o.rt.engine) as db:
        return db.get(Document, o.docs[n])


def test_verify_report_and_disposal_end_to_end(office: Office) -> None:
    o, store = office, office.rt.store
    permanent, kept, old = (_doc(o, n) for n in ("00003", "00002", "00001"))
    assert permanent and kept and old
    # A hand link does not touch S3: verify finds the short locks and puts them back.
    code, output, _ = o.run("auditor", "verify", "--json")
    assert code == 0, output
    summary = json.loads(output.strip().splitlines()[-1])
    assert summary["locks_checked"] and set(summary["locks_reapplied_ids"]) == {
        permanent.id, kept.id}
    for name in (kept.object_name, records.record_name(kept.object_name)):
        assert store.retention_of(name) == ("GOVERNANCE", datetime(2054, 12, 31, tzinfo=UTC))
    for name in (permanent.object_name, records.record_name(permanent.object_name)):
        assert store.legal_hold_of(name)
    code, output, _ = o.run("auditor", "verify", "--json")
    assert json.loads(output.strip().splitlines()[-1])["locks_reapplied"] == 0

    # What expires when: the 2010 record's 10 years ran out; 永久 comes last.
    code, output, _ = o.run("officer", "retention", "report", "--json")
    assert code == 0, output
    rows = [json.loads(line) for line in output.strip().splitlines()]
    assert [r["record_no"] for r in rows] == ["DA-2010-LP-00001", "DA-2024-LP-00002",
                                              "DA-2010-LP-00003"]
    assert [r["lock_ok"] for r in rows] == [True, True, True]
    assert rows[1]["retain_until"] == "2054-12-31" and rows[2]["legal_hold"]
    report_csv = o.cfg["officer"].parent / "expiry.csv"
    code, output, _ = o.run("officer", "retention", "report", "--csv", "-o", str(report_csv))
    assert code == 0, output
    lines = list(csv.reader(io.StringIO(report_csv.read_text(encoding="utf-8-sig"))))
    assert lines[0][1:3] == ["档号", "题名"] and [ln[1] for ln in lines[1:]] == [
        r["record_no"] for r in rows]

    # Not expired, or permanent: refused before anything is proposed.
    for no, key in (("DA-2024-LP-00002", "disposal_not_expired"),
                    ("DA-2010-LP-00003", "disposal_on_hold")):
        code, _, exc = o.run("officer", "disposal", "propose", no, "--reason", "到期销毁")
        assert isinstance(exc, DisposalRefused) and exc.key == key and exc.exit_code == 2
    # A locked original (and its recovery record): the server refuses the deletion.
    with pytest.raises(DeletionRefused):
        store.destroy(kept.object_name)
    for name in (kept.object_name, records.record_name(kept.object_name)):
        assert _versions(store.client, store.bucket, name)

    first_lock = old.ingested_at + timedelta(seconds=LOCK_SECONDS)  # from its ingest time
    wait_until(lambda: max(first_lock, store.retention_of(old.object_name)[1] or first_lock)
               < datetime.now(UTC), timeout=LOCK_SECONDS + 10)
    code, output, exc = o.run("officer", "disposal", "propose", "DA-2010-LP-00001",
                              "--reason", "保管期限已满 10年")
    assert code == 0, (output, exc)
    (d, n), = disposal.listing(Session(o.rt.engine), EVERYTHING, "proposed")
    assert n == 1 and d.id is not None
    code, _, exc = o.run("officer", "disposal", "run", str(d.id))
    assert isinstance(exc, DisposalRefused) and exc.key == "disposal_state"  # not approved
    with session_scope(o.rt.engine) as db, pytest.raises(DisposalRefused) as same:
        disposal.decide(db, b"k" * 32, d.id, True, "li.officer", EVERYTHING)
    assert same.value.key == "disposal_same_person"
    # The auditor's queue on the web (the local user here: not the proposer) approves it.
    with TestClient(create_app(o.rt.settings)) as web:
        page = web.get("/disposal")
        assert page.status_code == 200 and "DA-2010-LP-00001" in page.text
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token is not None
        r = web.post(f"/disposal/{d.id}/approve", data={"csrf": token.group(1)},
                     follow_redirects=False)
        assert r.status_code == 303, r.text[:300]
        assert f'id="disposal-{d.id}-state">已批准' in web.get("/disposal").text
    code, _, exc = o.run("auditor", "disposal", "approve", str(d.id))
    assert isinstance(exc, DisposalRefused) and exc.key == "disposal_state"
    # A lock raised on the server since (by hand, or a 保管期限 raised) stops the run.
    relocked = datetime.now(UTC) + timedelta(seconds=LOCK_SECONDS)
    store.retain(old.object_name, relocked)
    code, _, exc = o.run("officer", "disposal", "run", str(d.id))
    assert isinstance(exc, DisposalRefused) and exc.key == "disposal_not_expired"
    assert _versions(store.client, store.bucket, old.object_name)
    wait_until(lambda: datetime.now(UTC) > relocked, timeout=LOCK_SECONDS + 10)
    code, output, exc = o.run("officer", "disposal", "run", str(d.id))
    assert code == 0, (output, exc)

    for name in (old.object_name, records.record_name(old.object_name)):
        assert _versions(store.client, store.bucket, name) == []
    assert _doc(o, "00001") is None
    with Session(o.rt.engine) as db:
        assert not db.exec(select(Page).where(Page.document_id == old.id)).first()
    out_csv = o.cfg["auditor"].parent / "destroyed.csv"
    code, output, _ = o.run("auditor", "disposal", "export", str(d.id), "-o", str(out_csv))
    assert code == 0, output
    (line,) = list(csv.DictReader(io.StringIO(out_csv.read_text(encoding="utf-8-sig"))))
    assert (line["档号"], line["题名"], line["客户编号"], line["SHA-256"], line["提出人"],
            line["批准人"]) == ("DA-2010-LP-00001", "投保单", "KH-2010-000001", old.sha256,
                               "li.officer", o.rt.settings.actor)  # the web's local user
    assert line["保管至"] and line["销毁时间"]
    # The others are untouched.
    assert _versions(store.client, store.bucket, kept.object_name)
    assert _versions(store.client, store.bucket, permanent.object_name)
    actions = _actions(o)
    assert [a for a in actions if a.startswith("disposal.")] == [
        "disposal.propose", "disposal.approve", "disposal.destroy", "disposal.run"]
    with TestClient(create_app(o.rt.settings)) as web:
        listed = web.get(f"/disposal/{d.id}.csv")
    assert listed.status_code == 200 and old.sha256 in listed.text


def test_an_administrator_removes_a_mis_scan_under_governance_with_a_reason(
        office: Office) -> None:
    o, store = office, office.rt.store
    code, _, _ = o.run("auditor", "verify")  # 00002 locked until 2054, 00003 on hold
    kept, permanent = _doc(o, "00002"), _doc(o, "00003")
    assert kept and permanent
    code, output, _ = o.run("admin", "remove", str(kept.id))
    assert code != 0 and "--reason" in output
    code, _, exc = o.run("officer", "remove", str(kept.id), "--reason", "误扫")
    assert exc is not None and exc.__class__.__name__ == "Forbidden"
    code, _, exc = o.run("admin", "remove", str(permanent.id), "--reason", "误扫")
    assert isinstance(exc, DisposalRefused) and exc.key == "disposal_on_hold"
    code, output, _ = o.run("admin", "remove", str(kept.id), "--reason", "误扫：扫了别的客户")
    assert code == 0, output
    for name in (kept.object_name, records.record_name(kept.object_name)):
        assert _versions(store.client, store.bucket, name) == []
    assert _doc(o, "00002") is None
    with Session(o.rt.engine) as db:
        entry = db.exec(select(AuditEntry).where(AuditEntry.action == "document.remove")).one()
    assert entry.actor == "wang.admin" and "误扫" in entry.detail
    (d, n), = disposal.listing(Session(o.rt.engine), EVERYTHING, "removed")
    assert n == 1 and d.reason.startswith("误扫")


def _actions(o: Office) -> list[str]:
    with Session(o.rt.engine) as db:
        return [e.action for e in db.exec(select(AuditEntry).order_by(AuditEntry.id))]


def test_doctor_names_the_fix_for_an_existing_bucket_made_without_object_lock(
        instance: Callable[..., Settings]) -> None:
    """GIVEN the test's bucket, made before (without Object Lock) WHEN papervault stores an
    original under the default GOVERNANCE setting THEN it is stored unlocked (the server
    cannot lock it) and doctor says so and what to do; a new bucket gets the lock."""
    s = instance()
    store = open_runtime(s).store
    store.ensure_bucket()
    assert s.s3.object_lock == "GOVERNANCE" and store.active_lock() is None
    (check,) = [c for c in run_checks(s) if c.name == "object lock"]
    assert check.warn and "without Object Lock" in check.detail
    assert "cannot be switched on later" in check.fix and "mc mb --with-lock" in check.fix
    bucket = "d-" + uuid.uuid4().hex[:12]
    fresh = instance(s3={"bucket": bucket})
    new_store = open_runtime(fresh).store
    new_store.ensure_bucket()
    try:
        assert new_store.active_lock() is not None
        (check,) = [c for c in run_checks(fresh) if c.name == "object lock"]
        assert not check.warn and "GOVERNANCE" in check.detail
    finally:
        _drop_locked(new_store.client, bucket)


def test_under_compliance_nobody_removes_an_original_before_its_date(
        instance: Callable[..., Settings]) -> None:
    bucket = "d-" + uuid.uuid4().hex[:12]
    s = instance(s3={"bucket": bucket, "object_lock": "COMPLIANCE"})
    rt = open_runtime(s)
    rt.store.ensure_bucket()  # nothing is stored: a COMPLIANCE object could not be cleaned up
    try:
        with pytest.raises(DisposalRefused) as refused:
            disposal.remove(rt.engine, rt.store, b"k" * 32, 1, "误扫", "wang.admin")
        assert refused.value.key == "remove_compliance"
    finally:
        _drop_locked(rt.store.client, bucket)
