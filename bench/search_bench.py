"""Search latency at scale: N synthetic insurance documents, p50/p95 per query kind.

    .venv/bin/python bench/search_bench.py                 # 100k documents, SQLite
    .venv/bin/python bench/search_bench.py -n 1000000      # 1M
    .venv/bin/python bench/search_bench.py --postgres URL  # also PostgreSQL (an empty database)
    .venv/bin/python bench/search_bench.py --sqlite F.db --reuse   # measure a built index again

Latency is the whole :func:`index.search.search` call a user waits for: match, rank, count,
first page of 20 with snippets. Not a timed test: figures go in the issue's closing note.
"""

from __future__ import annotations

import argparse
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
from papervault.index.search.indexer import document_tokens, write_chunks
from papervault.index.search.query import SearchQuery, search

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文云峰"
CITIES = ["上海市浦东新区", "北京市朝阳区", "广州市天河区", "深圳市南山区", "杭州市西湖区",
          "成都市武侯区", "南京市鼓楼区", "武汉市洪山区", "苏州市工业园区", "重庆市渝中区"]
DOC_TYPES = ["理赔申请书", "投保单", "保全申请书", "医疗费用清单", "住院病历", "身份证复印件",
             "银行账户信息", "事故证明", "委托书", "保单变更申请"]
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
    rng = random.Random(seed)
    insert = text(f"INSERT INTO document ({', '.join(COLUMNS)}) "
                  f"VALUES ({', '.join(':' + c for c in COLUMNS)})")
    ids: list[str] = []
    started = time.perf_counter()
    with Session(engine) as session:
        sqlite = engine.dialect.name == "sqlite"
        for batch in _batches(rng, n, 5000):
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


def _batches(rng: random.Random, n: int, size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(1, n + 1, size):
        yield [synthetic_doc(rng, i) for i in range(start, min(n, start + size - 1) + 1)]


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


# A records officer of one department (~20% of the documents) cleared to 内部 (issue 18):
# the scope is one more filter on every query.
SCOPED = make_scope(["理赔部"], "内部", ["公开", "内部", "机密"], "内部",
                    {"身份证复印件": "机密", "医疗费用清单": "机密", "银行账户信息": "机密"})


def measure(engine: Engine, kinds: dict[str, list[SearchQuery]], rounds: int,
            scope: Scope = EVERYTHING) -> None:
    print(f"{'query kind':<18} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  hits (first query)"
          + ("" if scope.unrestricted else "   [scoped: 理赔部, 内部]"))
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
                    if not first_total:
                        first_total = f"{q.q}: {r.total}{'+' if r.total_capped else ''}"
            times.sort()
            p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
            print(f"{kind:<18} {statistics.median(times):8.1f} {p95:8.1f} {times[-1]:8.1f}  "
                  f"{first_total}")


def index_size(engine: Engine) -> str:
    with engine.connect() as c:
        if engine.dialect.name == "sqlite":
            pages = c.execute(text("SELECT count(*) FROM dbstat WHERE name LIKE 'search_chunk%'"))
            try:
                size = int(pages.scalar_one()) * 4096
            except Exception:
                return "n/a"
        else:
            size = int(c.execute(text(
                "SELECT pg_total_relation_size('search_chunk')")).scalar_one())
    return f"{size / 1e6:.0f} MB"


def run(url: str, n: int, seed: int, rounds: int, reuse: bool = False,
        scoped: bool = False) -> None:
    engine = make_engine(url)
    upgrade(engine)
    with engine.connect() as c:
        present = int(c.execute(text("SELECT count(*) FROM document")).scalar_one())
    if present and not reuse:
        raise SystemExit(f"{url}: not empty; the benchmark needs an empty database")
    if present:  # --reuse: measure the index built by an earlier run (same generator)
        with engine.connect() as c:
            ids = [r[0] for r in c.execute(text(
                "SELECT client_id FROM document WHERE id % 500 = 1 ORDER BY id"))]
        print(f"\n== {engine.dialect.name}: {present:,} documents (reused), "
              f"search index {index_size(engine)}")
    else:
        seconds, ids = build(engine, n, seed)
        print(f"\n== {engine.dialect.name}: {n:,} documents, build {seconds:.0f} s "
              f"({n / seconds:,.0f} docs/s), search index {index_size(engine)}")
    measure(engine, queries(ids, random.Random(seed)), rounds)
    if scoped:
        measure(engine, queries(ids, random.Random(seed)), rounds, SCOPED)
    engine.dispose()


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
    ap.add_argument("--scoped", action="store_true",
                    help="also measure as an officer scoped to one department, cleared to 内部")
    args = ap.parse_args()
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory(prefix="pv-bench-") as tmp:
            db = args.sqlite or Path(tmp) / "bench.db"
            run(f"sqlite:///{db}", args.docs, args.seed, args.rounds, args.reuse, args.scoped)
            size = db.stat().st_size
            print(f"SQLite file {size / 1e6:.0f} MB (documents + index)")
    if args.postgres:
        run(args.postgres, args.docs, args.seed, args.rounds, args.reuse, args.scoped)


if __name__ == "__main__":
    main()
