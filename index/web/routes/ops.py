"""Probes for orchestrators and monitoring: /healthz, /readyz and (opt-in) /metrics.

They carry no sign-in and identify nobody (rule ``Open.PROBE``): a container healthcheck,
a load balancer or Prometheus has no account, and liveness must not wait on the database.
They reveal nothing about documents or people — only counts and up/down.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import func, text
from sqlmodel import col, select

from papervault.index.accounts.scope import EVERYTHING
from papervault.index.catalog import jobs
from papervault.index.catalog.db import session_scope
from papervault.index.catalog.models import Document
from papervault.index.catalog.status import status

router = APIRouter()

# A worker beats every 15 s; three missed beats and it is taken for dead.
WORKER_STALE_SECONDS = 60.0


@router.get("/healthz", include_in_schema=False)
def healthz() -> dict[str, str]:
    """Liveness: the process answers requests. Touches neither the database nor S3."""
    return {"status": "ok"}


@router.get("/readyz", include_in_schema=False)
def readyz(request: Request) -> JSONResponse:
    """Readiness: the database and S3 answer and some OCR worker beat recently.

    503 with the failing checks named, so `curl -f` and orchestrators see it."""
    checks = readiness(request.app.state.engine, request.app.state.store)
    ok = all(c["ok"] for c in checks.values())
    return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks},
                        status_code=200 if ok else 503)


def readiness(engine: Any, store: Any, now: datetime | None = None) -> dict[str, dict[str, Any]]:
    """Each check's outcome; errors are reported by class name only (no hosts or paths)."""
    checks: dict[str, dict[str, Any]] = {}
    try:
        with session_scope(engine) as session:
            session.execute(text("SELECT 1"))
        checks["database"] = {"ok": True}
    except Exception as e:
        checks["database"] = {"ok": False, "error": type(e).__name__}
    try:
        store.versioning_status()  # a read: bucket reachable with our keys
        checks["s3"] = {"ok": True}
    except Exception as e:
        checks["s3"] = {"ok": False, "error": type(e).__name__}
    if checks["database"]["ok"]:
        seen = jobs.last_beat(engine)
        age = None if seen is None else ((now or datetime.now(UTC)) - seen).total_seconds()
        checks["worker"] = {"ok": age is not None and age <= WORKER_STALE_SECONDS,
                            "age_seconds": None if age is None else round(age, 1)}
    else:
        checks["worker"] = {"ok": False, "error": "database unavailable"}
    return checks


metrics_router = APIRouter()


@metrics_router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus text format: queue, documents, intake outcomes, coverage, worker age."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    registry = build_registry(request.app.state.engine)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def build_registry(engine: Any) -> Any:
    """A fresh registry filled from the index on each scrape: every web replica reports the
    same numbers, since they are the database's, not one process's counters."""
    from prometheus_client import CollectorRegistry, Gauge

    from papervault.index.coverage.report import report

    reg = CollectorRegistry()
    since = datetime.now(UTC) - timedelta(seconds=60)
    with session_scope(engine) as session:
        data = status(session, EVERYTHING)  # the instance's own gauges, for monitoring
        totals = report(session).totals
        pages = session.exec(
            select(func.coalesce(func.sum(Document.page_count), 0))
            .where(col(Document.ocr_at) >= since)).one()
    g = Gauge("papervault_queue_jobs", "OCR jobs by state", ["state"], registry=reg)
    for state, n in data["queue"]["by_state"].items():
        g.labels(state=state).set(n)
    d = Gauge("papervault_documents", "Documents by state", ["state"], registry=reg)
    for state, n in data["documents"]["by_state"].items():
        d.labels(state=state).set(n)
    i = Gauge("papervault_intake_files", "Dropped files by outcome (all time)", ["outcome"],
              registry=reg)
    for outcome, n in data["intake"].items():
        i.labels(outcome=outcome).set(n)
    Gauge("papervault_failed_jobs", "OCR jobs that failed for good", registry=reg).set(
        data["queue"]["by_state"].get("failed", 0))
    Gauge("papervault_pages_ocr_last_minute", "Pages OCR'd in the last 60 s",
          registry=reg).set(int(pages or 0))
    Gauge("papervault_paper_records", "Paper records in the register", registry=reg).set(
        totals.total)
    Gauge("papervault_coverage_percent", "Paper records with a verified electronic copy "
          "(100 for an empty register)", registry=reg).set(totals.percent)
    seen = jobs.last_beat(engine)
    Gauge("papervault_worker_heartbeat_age_seconds", "Seconds since any worker's last beat",
          registry=reg).set(time.time() - seen.timestamp() if seen else float("inf"))
    return reg
