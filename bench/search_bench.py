"""Search latency at scale: N synthetic insurance documents, p50/p95 per query kind.

    .venv/bin/python bench/search_bench.py                 # 100k documents, SQLite
    .venv/bin/python bench/search_bench.py -n 1000000      # 1M
    .venv/bin/python bench/search_bench.py --postgres URL  # also PostgreSQL (an empty database)
    .venv/bin/python bench/search_bench.py --sqlite F.db --reuse   # measure a built index again

Latency is the whole :func:`index.search.search` call a user waits for: match, rank, count,
first page of 20 with snippets. Not a timed test: figures go in the issue's closing note.

Each database's figures go to ``bench/results/search-<db>-<docs>-<timestamp>.json``. The machine
is shared, so each file carries ratios to baselines measured in the same run: ``baseline``
(a page of 20 documents fetched by id, with snippets: the floor every search pays, on the
same database) and, when SQLite was measured in the run too, ``ratio_vs_sqlite`` per kind.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from papervault.index.accounts.scope import EVERYTHING, Scope, make_scope
from papervault.index.catalog.db import make_engine, upgrade
from papervault.index.search.indexer import (
    CHUNK_SHIFT,
    chunks,
    document_tokens,
    tsvector_literal,
    write_chunks,
)
from papervault.index.search.query import SearchQuery, search, snippet

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文云峰"
CITIES = ["上海市浦东新区", "北京市朝阳区", "广州市天河区", "深圳市南山区", "杭州市西湖区",
          "成都市武侯区", "南京市鼓楼区", "武汉市洪山区", "苏州市工业园区", "重庆市渝中区"]
DOC_TYPES = ["理赔申请书", "投保单", "保全申请书", "医疗费用清单", "住院病历", "身份证复印件",
             "银行账户信息", "事故证明", "委托书", "保单变更申请"]
RESULTS = Path(__file__).resolve().parent / "results"
TARGET_P95_MS = 50.0

DEPARTMENTS = ["理赔部", "核保部", "客户服务部", "团险部", "个险部"]
SENTENCES = [
    "被保险人于{d}在{c}因交通事故受伤，经医院诊断为左腿骨折，住院治疗{n}天。",
    "申请理赔金额人民币{a}元，请将赔款转入被保险人名下银行账户。",
    "投保人声明以上所填内容属实，如有隐瞒愿承担相应法律责任。",
    "本保单自{d}零时起生效，保险期间为一年，保险费按年缴纳。",
    "受益人为被保险人的配偶，受益比例百分之百。",
    "随附医疗费用发票{n}张、出院小结一份、诊断证明一份。",
    "经核实，事故经过与报案记录一致，建议按合同条款给付医疗保险金。",
    "客户来电要求变更通讯地址为{c}，已核对身份信息。",
    "车辆在停车场被刮擦，已报警处理，交警出具事故认定书。",
    "重大疾病保险金给付申请，确诊日期{d}，确诊医院为{c}人民医院。",
    "保全变更：缴费账户由工商银行变更为建设银行，自下期起生效。",
    "Claim reference {p}: hospital invoice attached, amount CNY {a}.",
    "Policy holder requests reimbursement of outpatient expenses.",
    "Beneficiary bank account verified by customer service on {d}.",
]


def client_id(rng: random.Random) -> str:
    return f"KH-{rng.randint(2015, 2025)}-{rng.randint(0, 999_999):06d}"


def synthetic_doc(rng: random.Random, n: int) -> dict[str, Any]:
    """One document: a form header with IDs, then 4-10 sentences of claim/policy prose."""
    cid = client_id(rng)
    name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))
    day = date(2015, 1, 1) + timedelta(days=rng.randint(0, 3800))
    kind = rng.choice(DOC_TYPES)
    fill = {
        "d": f"{day.year}年{day.month}月{day.day}日", "c": rng.choice(CITIES),
        "n": rng.randint(1, 30), "a": f"{rng.randint(500, 500_000):,}.00",
        "p": f"BD{rng.randint(10**9, 10**10 - 1)}",
    }
    lines = [f"中国平安财产保险 {kind}", f"客户编号：{cid}",
             f"被保险人：{name}    保单号：{fill['p']}"]
    lines += [s.format(**fill) for s in rng.choices(SENTENCES, k=rng.randint(4, 10))]
    record = f"DA-{day.year}-LP-{rng.randint(0, 99_999):05d}"
    return {
        "id": n, "sha256": f"{n:064x}", "size": 1000, "original_name": f"scan_{n:07d}.pdf",
        "source_folder": "", "media_type": "application/pdf", "page_count": 1,
        "object_name": f"o-{n}", "object_size": 1000, "wrapped_key": b"k", "key_id": "k",
        "state": "indexed", "link_state": "linked", "client_id": cid, "record_no": record,
        "department": rng.choice(DEPARTMENTS), "doc_type": kind, "doc_date": day,
        "ingested_at": datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=n),
        "verify_state": "unverified", "text": "\n".join(lines), "candidates": "",
        "warnings": "[]",
    }


COLUMNS = ["id", "sha256", "size", "original_name", "source_folder", "media_type", "page_count",
           "object_name", "object_size", "wrapped_key", "key_id", "state", "link_state",
           "client_id", "record_no", "department", "doc_type", "doc_date", "ingested_at",
           "verify_state", "text", "candidates", "warnings"]


class _Row:
    def __init__(self, d: dict[str, Any]) -> None:
        self.__dict__.update(d)


def build(engine: Engine, n: int, seed: int) -> tuple[float, list[str]]:
    """Insert ``n`` documents and index them; returns seconds and some client IDs present."""
    if engine.dialect.name != "sqlite":
        return build_pg(engine, n, seed)
    insert = text(f"INSERT INTO document ({', '.join(COLUMNS)}) "
                  f"VALUES ({', '.join(':' + c for c in COLUMNS)})")
    ids: list[str] = []
    started = time.perf_counter()
    with Session(engine) as session:
        sqlite = engine.dialect.name == "sqlite"
        for batch in _batches(seed, n):
            session.execute(insert, batch)
            write_chunks(session, ((d["id"], document_tokens(_Row(d))) for d in batch), sqlite)
            ids.extend(d["client_id"] for d in batch[::500])
            session.commit()
        # Bulk-built: the triggers' queue holds what we just indexed.
        session.execute(text("DELETE FROM search_dirty"))
        session.commit()
        if sqlite:
            session.execute(text("INSERT INTO search_chunk(search_chunk) VALUES ('optimize')"))
        else:
            session.execute(text("ANALYZE"))
        session.commit()
    return time.perf_counter() - started, ids


# Indexes on the two tables a bulk load fills, dropped during the COPY and built after it
# (one sort each instead of a million inserts into each tree); the definitions are read
# from the catalogue, so they are exactly what the migrations made.
_BULK_TABLES = ("search_chunk",)


def build_pg(engine: Engine, n: int, seed: int) -> tuple[float, list[str]]:
    """PostgreSQL bulk load: rows generated here (two processes: tokenising is most of the
    work), COPYed with the triggers off (what they would queue is indexed here, as
    :func:`write_chunks` does), the search indexes built once at the end. The same rows as
    the row-by-row build, several times faster."""
    ids: list[str] = []
    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        conn: Any = raw.driver_connection
        with conn.cursor() as cur:
            cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = "
                        "'search_chunk' AND indexname NOT LIKE '%%_pkey'")
            defs = cur.fetchall()
            for name, _ in defs:
                cur.execute(f'DROP INDEX "{name}"')
            cur.execute("ALTER TABLE document DISABLE TRIGGER USER")
            conn.commit()
            done = 0
            starts = range(1, n + 1, BULK_BATCH)
            with multiprocessing.get_context("fork").Pool(2) as pool:
                for docs, chunk_rows, some in pool.imap(
                        _copy_text, [(seed, s, min(n, s + BULK_BATCH - 1)) for s in starts]):
                    with cur.copy(f"COPY document ({', '.join(COLUMNS)}) FROM STDIN") as cp:
                        cp.write(docs)
                    with cur.copy("COPY search_chunk (rid, document_id, tsv) FROM STDIN") as cp:
                        cp.write(chunk_rows)
                    conn.commit()
                    ids.extend(some)
                    done = min(n, done + BULK_BATCH)
                    rate = done / (time.perf_counter() - started)
                    print(f"\r  loaded {done:,} documents ({rate:,.0f}/s)", end="", flush=True)
            print()
            cur.execute("ALTER TABLE document ENABLE TRIGGER USER")
            cur.execute("SELECT setval(pg_get_serial_sequence('document', 'id'), %s)", (n,))
            cur.execute("SET maintenance_work_mem = '1GB'")
            for _, ddl in defs:
                cur.execute(ddl)
            conn.commit()
            conn.autocommit = True  # VACUUM: hint bits and visibility set once, not by reads
            cur.execute("VACUUM ANALYZE document")
            cur.execute("VACUUM ANALYZE search_chunk")
    finally:
        raw.close()
    return time.perf_counter() - started, ids


BULK_BATCH = 10_000


def _copy_field(v: object) -> str:
    """One value in COPY's text format."""
    if v is None:
        return "\\N"
    if isinstance(v, bytes):
        return "\\\\x" + v.hex()
    if isinstance(v, datetime | date):
        return v.isoformat()
    return (str(v).replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
            .replace("\t", "\\t"))


def _copy_text(job: tuple[int, int, int]) -> tuple[bytes, bytes, list[str]]:
    """Documents ``lo``..``hi`` as COPY text for ``document`` and ``search_chunk`` (tokens
    and tsvector literals never hold tabs, newlines or backslashes), and some client IDs."""
    seed, lo, hi = job
    batch = _batch(seed, lo, hi)
    docs = "".join("\t".join(_copy_field(d[c]) for c in COLUMNS) + "\n" for d in batch)
    rows = [f"{(d['id'] << CHUNK_SHIFT) | k}\t{d['id']}\t{tsvector_literal(chunk)}\n"
            for d in batch for k, chunk in enumerate(chunks(document_tokens(_Row(d))))]
    return docs.encode(), "".join(rows).encode(), [d["client_id"] for d in batch[::500]]


def _batch(seed: int, lo: int, hi: int) -> list[dict[str, Any]]:
    """Documents ``lo``..``hi``: each batch its own generator, so batches can be made in
    any order or process and a build of any size is the same documents."""
    rng = random.Random(seed * 1_000_003 + lo)
    return [synthetic_doc(rng, i) for i in range(lo, hi + 1)]


def _batches(seed: int, n: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(1, n + 1, BULK_BATCH):
        yield _batch(seed, start, min(n, start + BULK_BATCH - 1))


def queries(ids: list[str], rng: random.Random) -> dict[str, list[SearchQuery]]:
    words = {kind: [SearchQuery(q=q) for q in qs] for kind, qs in _texts(ids, rng).items()}
    common = ["被保险人", "理赔", "银行", "保", "claim"]
    # Filters with a common word: department + type names ~2% of the documents, one month of
    # document dates ~0.8%, a department alone 20%.
    return {
        **words,
        "word + dept + type": [SearchQuery(q=w, department=d, doc_type=t) for w, d, t in zip(
            common * 2, DEPARTMENTS * 2, DOC_TYPES, strict=True)],
        "word + month": [SearchQuery(q=w, doc_from=date(y, m, 1), doc_to=date(y, m, 28))
                         for w, (y, m) in zip(common * 2, [(2016 + i, 1 + i) for i in range(10)],
                                              strict=True)],
        "word + dept": [SearchQuery(q=w, department=d) for w, d in zip(common * 2,
                                                                        DEPARTMENTS * 2,
                                                                        strict=True)],
    }


def _texts(ids: list[str], rng: random.Random) -> dict[str, list[str]]:
    return {
        "1 Hanzi": ["保", "赔", "险", "院", "账", "诊", "款", "址", "邓", "曹"],
        "2 Hanzi": ["理赔", "保单", "发票", "住院", "银行", "受益", "骨折", "地址", "疾病", "保全"],
        "3+ Hanzi": ["被保险人", "申请书", "受益人", "医疗费用", "重大疾病", "交通事故",
                     "出院小结", "事故认定书", "缴费账户", "理赔申请书"],
        "English": ["claim", "hospital invoice", "reimbursement", "beneficiary", "policy",
                    "outpatient expenses", "customer service", "amount", "verified", "CNY"],
        "ID": rng.sample(ids, 10),
        "ID + word": [f"{c} {w}" for c, w in zip(rng.sample(ids, 10), [
            "理赔", "保单", "医院", "被保险人", "claim", "银行", "理赔", "申请", "账户", "事故"],
            strict=True)],
    }


def _percentiles(times: list[float]) -> dict[str, float]:
    times = sorted(times)
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    return {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(p95, 2),
            "max_ms": round(times[-1], 2)}


# A records officer of one department (~20% of the documents) cleared to 内部 (issue 18):
# the scope is one more filter on every query.
SCOPED = make_scope(["理赔部"], "内部", ["公开", "内部", "机密"], "内部",
                    {"身份证复印件": "机密", "医疗费用清单": "机密", "银行账户信息": "机密"})


def measure(engine: Engine, kinds: dict[str, list[SearchQuery]], rounds: int,
            scope: Scope = EVERYTHING) -> dict[str, dict[str, Any]]:
    print(f"{'query kind':<18} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  hits (first query)"
          + ("" if scope.unrestricted else "   [scoped: 理赔部, 内部]"))
    out: dict[str, dict[str, Any]] = {}
    with Session(engine) as session:
        search(session, SearchQuery(q="保"), scope)  # warm the page cache
        for kind, qs in kinds.items():
            times: list[float] = []
            first_total = ""
            for _ in range(rounds):
                for q in qs:
                    t0 = time.perf_counter()
                    r = search(session, q, scope)
                    times.append((time.perf_counter() - t0) * 1000)
                    session.rollback()  # each search a transaction of its own, as in the app
                    if not first_total:
                        first_total = f"{q.q}: {r.total}{'+' if r.total_capped else ''}"
            fig = _percentiles(times)
            out[kind] = {**fig, "first_query": first_total}
            print(f"{kind:<18} {fig['p50_ms']:8.1f} {fig['p95_ms']:8.1f} {fig['max_ms']:8.1f}  "
                  f"{first_total}")
    return out


def baseline(engine: Engine, rounds: int) -> dict[str, float]:
    """The floor of any search on this database: a page of 20 documents by id, with
    snippets (what :func:`search` does after matching), timed like the query kinds."""
    with engine.connect() as c:
        top = int(c.execute(text("SELECT max(id) FROM document")).scalar_one())
    rng = random.Random(0)
    times: list[float] = []
    with Session(engine) as session:
        for _ in range(rounds * 10):
            ids = [rng.randint(1, top) for _ in range(20)]
            params = {f"i{k}": v for k, v in enumerate(ids)}
            t0 = time.perf_counter()
            rows = session.execute(text(
                "SELECT id, text FROM document WHERE id IN "
                f"({', '.join(':' + k for k in params)})"), params).all()
            for r in rows:
                snippet(r.text, [["保", "险"]])
            times.append((time.perf_counter() - t0) * 1000)
            session.rollback()
    fig = _percentiles(times)
    print(f"{'baseline (page)':<18} {fig['p50_ms']:8.1f} {fig['p95_ms']:8.1f} {fig['max_ms']:8.1f}")
    return fig


def index_mb(engine: Engine) -> float | None:
    with engine.connect() as c:
        if engine.dialect.name == "sqlite":
            pages = c.execute(text("SELECT count(*) FROM dbstat WHERE name LIKE 'search_chunk%'"))
            try:
                size = int(pages.scalar_one()) * 4096
            except Exception:  # SQLite built without dbstat
                return None
        else:
            size = int(c.execute(text(
                "SELECT pg_total_relation_size('search_chunk')")).scalar_one())
    return round(size / 1e6, 1)


def run(url: str, n: int, seed: int, rounds: int, reuse: bool = False,
        scoped: bool = False) -> dict[str, Any]:
    """Build (or reuse) and measure one database; returns its figures (``scoped``: also
    as an officer of one department, cleared to 内部)."""
    engine = make_engine(url)
    upgrade(engine)
    with engine.connect() as c:
        present = int(c.execute(text("SELECT count(*) FROM document")).scalar_one())
    if present and not reuse:
        raise SystemExit(f"{url}: not empty; the benchmark needs an empty database")
    build_s: float | None = None
    if present:  # --reuse: measure the index built by an earlier run (same generator)
        with engine.connect() as c:
            ids = [r[0] for r in c.execute(text(
                "SELECT client_id FROM document WHERE id % 500 = 1 ORDER BY id"))]
        n = present
        print(f"\n== {engine.dialect.name}: {present:,} documents (reused), "
              f"search index {index_mb(engine)} MB")
    else:
        build_s, ids = build(engine, n, seed)
        print(f"\n== {engine.dialect.name}: {n:,} documents, build {build_s:.0f} s "
              f"({n / build_s:,.0f} docs/s), search index {index_mb(engine)} MB")
    load_start = os.getloadavg()
    floor = baseline(engine, rounds)
    kinds = measure(engine, queries(ids, random.Random(seed)), rounds)
    for fig in kinds.values():
        fig["p95_ratio_vs_baseline"] = round(fig["p95_ms"] / max(floor["p95_ms"], 0.01), 2)
        fig["meets_target"] = fig["p95_ms"] <= TARGET_P95_MS
    figures: dict[str, Any] = {
        "db": engine.dialect.name, "documents": n, "reused": bool(present),
        "build_s": None if build_s is None else round(build_s, 1),
        "index_mb": index_mb(engine), "rounds": rounds,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "baseline": floor, "queries": kinds,
        "scoped": None if not scoped else measure(
            engine, queries(ids, random.Random(seed)), rounds, SCOPED),
        "load": {"start": list(load_start), "end": list(os.getloadavg())},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "target_p95_ms": TARGET_P95_MS,
    }
    engine.dispose()
    return figures


def with_sqlite_ratios(pg: dict[str, Any], lite: dict[str, Any]) -> None:
    """PostgreSQL's p50/p95 over SQLite's, per kind, when both ran in this run."""
    for kind, fig in pg["queries"].items():
        other = lite["queries"].get(kind)
        if other:
            fig["ratio_vs_sqlite"] = {
                k: round(fig[k] / max(other[k], 0.01), 2) for k in ("p50_ms", "p95_ms")}


def write_results(figures: dict[str, Any], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    path = out / f"search-{figures['db']}-{figures['documents']}-{stamp}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    print(f"figures: {path}")
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--docs", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3, help="repetitions of each query list")
    ap.add_argument("--sqlite", type=Path, help="database file (default: a temp dir)")
    ap.add_argument("--postgres", help="also run on this (empty) PostgreSQL database URL")
    ap.add_argument("--reuse", action="store_true",
                    help="measure an already built --sqlite file / --postgres database again")
    ap.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    ap.add_argument("--out", type=Path, default=RESULTS, help="folder for the JSON figures")
    ap.add_argument("--label", default="", help="what was measured (e.g. the commit), kept in "
                    "the JSON")
    ap.add_argument("--scoped", action="store_true",
                    help="also measure as an officer scoped to one department, cleared to 内部")
    args = ap.parse_args()
    lite: dict[str, Any] | None = None
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory(prefix="pv-bench-") as tmp:
            db = args.sqlite or Path(tmp) / "bench.db"
            lite = run(f"sqlite:///{db}", args.docs, args.seed, args.rounds, args.reuse,
                 args.scoped)
            lite["file_mb"] = round(db.stat().st_size / 1e6, 1)
            lite["label"] = args.label
            print(f"SQLite file {lite['file_mb']:.0f} MB (documents + index)")
        write_results(lite, args.out)
    if args.postgres:
        pg = run(args.postgres, args.docs, args.seed, args.rounds, args.reuse,
                 args.scoped)
        pg["label"] = args.label
        if lite is not None and lite["documents"] == pg["documents"]:
            with_sqlite_ratios(pg, lite)
        write_results(pg, args.out)


if __name__ == "__main__":
    main()
