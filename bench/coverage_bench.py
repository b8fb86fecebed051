"""Coverage report at scale: N paper records and N documents on SQLite (target ≤ 1 s).

    .venv/bin/python bench/coverage_bench.py                # 1M records, 1M documents
    .venv/bin/python bench/coverage_bench.py -n 100000

Rows are bulk-inserted through the real schema (migrations, triggers included). Timed:
the first report after the load (a full rebuild of ``record_state``), then the report an
auditor waits for — totals, department × year breakdown, count and first 200 flagged
records — after a small change (a verify run flipping 1,000 documents).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from papervault.index.catalog.db import make_engine, upgrade
from papervault.index.coverage import report as coverage

DEPARTMENTS = ["理赔部", "核保部", "客服部", "财务部", "法务部", "银保部", "团险部", "个险部"]
YEARS = list(range(2000, 2025))
CHUNK = 50_000


def _records(n: int) -> Iterator[dict[str, object]]:
    for i in range(n):
        year = YEARS[i % len(YEARS)]
        yield {"no": f"DA-{year}-LP-{i:07d}", "cid": f"KH-{year}-{i % 999999:06d}",
               "title": f"理赔案卷 {i}", "dept": DEPARTMENTS[i % len(DEPARTMENTS)],
               "year": year, "room": f"{1 + i % 5}号库房", "shelf": f"A-{i % 300}",
               "box": f"{i % 1000:03d}"}


def _documents(n: int, records: int) -> Iterator[dict[str, object]]:
    # Nine in ten documents name a record (one each, spread by a stride of 7), so a tenth
    # of the records has no scan; 1 % of documents failed, 9 % not yet verified.
    for i in range(n):
        r = (i * 7) % records
        year = YEARS[r % len(YEARS)]
        state = "failed" if i % 100 == 0 else "unverified" if i % 100 < 10 else "verified"
        yield {"sha": f"{i:064x}", "name": f"scan{i}.pdf", "obj": f"o/{i:08x}",
               "rec": f"DA-{year}-LP-{r:07d}" if i % 10 != 5 else None, "vs": state}


def _insert(engine: Engine, sql: str, rows: Iterator[dict[str, object]]) -> None:
    batch: list[dict[str, object]] = []
    with engine.begin() as c:
        for row in rows:
            batch.append(row)
            if len(batch) == CHUNK:
                c.execute(text(sql), batch)
                batch = []
        if batch:
            c.execute(text(sql), batch)


def load(engine: Engine, n: int) -> None:
    _insert(engine, "INSERT INTO paperrecord (record_no, client_id, title, department, year, "
            "retention, room, shelf, box, updated_at) VALUES (:no, :cid, :title, :dept, :year, "
            "'永久', :room, :shelf, :box, CURRENT_TIMESTAMP)", _records(n))
    _insert(engine, "INSERT INTO document (sha256, size, original_name, source_folder, "
            "media_type, object_name, object_size, wrapped_key, key_id, state, link_state, "
            "record_no, ingested_at, verify_state, text, candidates, warnings) VALUES (:sha, 1, "
            ":name, '', 'pdf', :obj, 1, x'00', 'k', 'indexed', 'linked', :rec, "
            "CURRENT_TIMESTAMP, :vs, '', '', '[]')", _documents(n, n))


def timed_report(engine: Engine) -> tuple[float, coverage.Report, int]:
    t = time.perf_counter()
    with Session(engine) as s:
        rep = coverage.report(s)
        n = coverage.count_flagged(s)
        coverage.flagged(s, limit=200)
        s.commit()
    return time.perf_counter() - t, rep, n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=1_000_000)
    ap.add_argument("--db", type=Path, default=None, help="keep the database here")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    path = args.db or Path(tmp.name) / "bench.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    t = time.perf_counter()
    load(engine, args.n)
    print(f"load {args.n:,} records + {args.n:,} documents: {time.perf_counter() - t:.1f} s")
    first, rep, n = timed_report(engine)
    print(f"first report (full rebuild of record_state): {first:.2f} s")
    print(f"totals: {rep.totals.as_dict()}  flagged: {n:,}")
    runs = []
    for k in range(5):
        with engine.begin() as c:  # a verify run: 1,000 documents change state
            c.execute(text("UPDATE document SET verify_state = :v WHERE id % 1000 = :k"),
                      {"v": "verified" if k % 2 else "failed", "k": k})
        runs.append(timed_report(engine)[0])
    steady = [timed_report(engine)[0] for _ in range(5)]
    print(f"report after a change: median {statistics.median(runs):.3f} s "
          f"(max {max(runs):.3f} s); unchanged: median {statistics.median(steady):.3f} s")
    engine.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    main()
