"""PI minimisation on a real OCR'd form: the stored text keeps only the last 4 digits of ID
and card numbers, and the full number still finds the document through its keyed hash."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from rich.progress import Progress
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from papervault.config.settings import Settings
from papervault.index.catalog.db import make_engine
from papervault.index.catalog.models import AuditEntry, Document, Page, PiDigest
from papervault.index.web.app import create_app
from papervault.ingest.cli import app as cli_app
from tests.conftest import write_config
from tests.factories import form_lines, write_form
from tests.unit.test_privacy import CARD, ID, with_id_check

OTHER_ID = with_id_check("31010419800101123")


def drop_form(s: Settings, folder: Path) -> None:
    from papervault.ingest.service import ingest_paths

    lines = form_lines()
    lines[-1] = f"身份证号：{ID}"
    lines.append(f"银行卡号：{CARD[:4]} {CARD[4:8]} {CARD[8:12]} {CARD[12:16]} {CARD[16:]}")
    form = write_form(folder / "claim.png", lines)
    with Progress(disable=True) as p:
        assert ingest_paths(s, [form], p, drain_ocr=True)[0]["outcome"] == "stored"


def stored_text(s: Settings) -> str:
    engine = make_engine(s.db_url)
    with Session(engine) as session:
        texts = [d.text or "" for d in session.exec(select(Document))]
        texts += [p.text for p in session.exec(select(Page))]
        texts += [f"{e.target} {e.detail}" for e in session.exec(select(AuditEntry))]
    engine.dispose()
    return "\n".join(texts).replace(" ", "")


def hits(web: TestClient, q: str) -> int:
    r = web.get("/api/search", params={"q": q})
    assert r.status_code == 200, r.text
    return int(r.json()["total"])


def test_the_worker_masks_and_the_full_number_still_finds(
    instance: Callable[..., Settings], tmp_path: Path,
) -> None:
    s = instance(privacy={"mask_numbers": True})
    drop_form(s, tmp_path / "scans")
    text = stored_text(s)
    assert "002X" in text and CARD[-4:] in text  # OCR read them; the last 4 are kept
    assert ID not in text and ID[:14] not in text and CARD[:15] not in text
    with TestClient(create_app(s)) as web:
        assert hits(web, ID) == 1
        assert hits(web, f"{CARD[:4]} {CARD[4:8]} {CARD[8:12]} {CARD[12:16]} {CARD[16:]}") == 1
        assert hits(web, f"{ID} 理赔") == 1
        assert hits(web, OTHER_ID) == 0
        assert hits(web, f"{ID} 火灾") == 0  # every part of the query still counts
    text = stored_text(s)  # the searches were audited with the numbers masked
    assert ID not in text and CARD not in text
    engine = make_engine(s.db_url)
    with Session(engine) as session:
        assert len(session.exec(select(PiDigest)).all()) == 2
    engine.dispose()


def test_mask_existing_masks_text_stored_before_masking_was_on(
    instance: Callable[..., Settings], tmp_path: Path,
) -> None:
    plain = instance()
    drop_form(plain, tmp_path / "scans")
    assert ID in stored_text(plain)
    masked = instance(privacy={"mask_numbers": True})
    cfg = write_config(masked, tmp_path / "pv.toml")
    cfg.write_text(cfg.read_text() + "[privacy]\nmask_numbers = true\n")
    res = CliRunner().invoke(cli_app, ["-c", str(cfg), "privacy", "mask-existing"])
    assert res.exit_code == 0, res.output
    assert "1" in res.output
    engine = make_engine(masked.db_url)
    with Session(engine) as session:
        page_text = " ".join(p.text for p in session.exec(select(Page)))
        assert ID not in page_text.replace(" ", "")
        assert session.exec(select(col(PiDigest.document_id))).all() != []
    engine.dispose()
    with TestClient(create_app(masked)) as web:
        assert hits(web, ID) == 1
