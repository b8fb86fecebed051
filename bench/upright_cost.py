"""What reading pages upright costs on upright pages, in CPU seconds (issue 14).

    .venv/bin/python bench/upright_cost.py --pages 24

On the throughput bench's pages (real scans + generated 300-dpi forms, all upright), one
process reads each page twice, alternately: bare ``tesseract PAGE OUT -l LANGS --dpi 300
txt pdf`` (the same outputs papervault's page stage asks tesseract for), and papervault's
page stage (EXIF, skew measurement, the looks-wrong check, OSD and probes when it fires,
the CJK text-layer rewrite, the thumbnail). CPU time of the process and its children is
counted, not wall-clock, so other work on a shared machine hardly moves the ratio.
Prints the per-page figures and writes bench/results/upright-cost-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import corpus  # noqa: E402
from papervault.ingest.stages.ocr import PageTask, ocr_page  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _bare(page: Path, tmp: Path, n: int, langs: str) -> None:
    subprocess.run(["tesseract", str(page), str(tmp / f"bare-{n}"), "-l", langs,
                    "--dpi", str(corpus.DPI), "txt", "pdf"], capture_output=True, check=True)


def _ours(page: Path, tmp: Path, n: int, langs: str) -> dict[str, Any]:
    work = tmp / f"pv-{n}"
    work.mkdir()
    result = ocr_page(PageTask(str(page), "jpeg", 1, corpus.DPI, langs, str(work), 300.0, 20))
    return {"turn": result.turn, "skew": result.skew, "source": result.source}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pages", type=int, default=24)
    p.add_argument("--langs", default="chi_sim+eng")
    args = p.parse_args(argv)
    os.environ["OMP_THREAD_LIMIT"] = "1"
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="pvupright-") as tmp_s:
        tmp = Path(tmp_s)
        pages = corpus.build(tmp / "pages", args.pages)
        # One read first, so neither contender pays for loading the language data cold.
        subprocess.run(["tesseract", str(pages.pages[0]), str(tmp / "warm"), "-l", args.langs,
                        "txt"], capture_output=True, check=True)
        for n, (page, kind) in enumerate(zip(pages.pages, pages.kinds, strict=True), 1):
            # Turn about who goes first, so caches warmed by one help both alike.
            first, second = (_bare, _ours) if n % 2 else (_ours, _bare)
            spent: dict[str, float] = {}
            extra: dict[str, Any] = {}
            for fn in (first, second):
                t0 = _cpu()
                extra.update(fn(page, tmp, n, args.langs) or {})
                spent[fn.__name__] = round(_cpu() - t0, 3)
            rows.append({"page": n, "kind": kind, "tesseract_cpu_s": spent["_bare"],
                         "papervault_cpu_s": spent["_ours"], **extra})
            print(rows[-1], flush=True)
    bare = sum(r["tesseract_cpu_s"] for r in rows)
    ours = sum(r["papervault_cpu_s"] for r in rows)
    summary = {"pages": len(rows), "tesseract_cpu_s": round(bare, 2),
               "papervault_cpu_s": round(ours, 2), "overhead": round(ours / bare - 1, 4),
               "turned": sum(1 for r in rows if r["turn"]), "target_overhead": 0.05}
    out = RESULTS / f"upright-cost-{datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"summary": summary, "rows": rows}, indent=2,
                              ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(summary))
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
