"""OCR quality on real and generated pages, upright and turned/EXIF-oriented/skewed (issue 14).

    .venv/bin/python bench/ocr_quality.py                       # everything
    .venv/bin/python bench/ocr_quality.py --variants up,r180,exif --bases 4

Every ground-truth file in ../shared/testdata (Easydict, cnocr, kreuzberg, tesseract
phototest, OCRmyPDF linn) plus two generated 300-dpi Chinese/English claim forms, each as
upright, turned 90/180/270° clockwise, an EXIF-oriented JPEG (pixels stored sideways,
Orientation 6) and skewed +3°/−4°, read in one run by
  papervault  its page stage (EXIF, deskew, cheap-first orientation, tesseract)
  tesseract   ``tesseract IMAGE - -l LANGS`` (what papervault did before)
  ocrmypdf    ``ocrmypdf --rotate-pages --deskew`` (text from its sidecar)
Prints CER (whitespace removed, Levenshtein over the reference) and search recall (the share
of the reference's words — Latin words of ≥ 4 letters, Chinese two-character pieces — found in
the text) per variant, and writes bench/results/ocr-quality-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image  # noqa: E402

from bench import peers  # noqa: E402
from bench.corpus import TESTDATA  # noqa: E402
from papervault.index.text import fold_search  # noqa: E402
from papervault.ingest.stages import upright  # noqa: E402
from papervault.ingest.stages.ocr import PageTask, ocr_page  # noqa: E402
from tests.factories import form_lines, render_page  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
GT = TESTDATA / "ground_truth"
# (image under testdata, reference text under testdata)
REAL = [
    ("Easydict/EasydictTests/Resources/OCRImages/ocr-en-text-bitcoin.png",
     "ground_truth/Easydict/ocr-en-text-bitcoin.png.gt.txt"),
    ("Easydict/EasydictTests/Resources/OCRImages/ocr-zh-text-3.png",
     "ground_truth/Easydict/ocr-zh-text-3.png.gt.txt"),
    ("Easydict/EasydictTests/Resources/OCRImages/ocr-zh-text-list-1.png",
     "ground_truth/Easydict/ocr-zh-text-list-1.png.gt.txt"),
    ("cnocr/examples/multi-line_cn1.png", "ground_truth/cnocr/multi-line_cn1.png.gt.txt"),
    ("kreuzberg/test_documents/images/chi_sim_image.jpeg",
     "ground_truth/kreuzberg/chi_sim_image.jpeg.survey.txt"),
    ("tesseract-ocr-test/testing/phototest.tif", "tesseract-ocr-test/testing/phototest.txt"),
    ("OCRmyPDF/tests/resources/linn.png", "OCRmyPDF/tests/resources/linn.txt"),
]
VARIANTS = ("up", "r90", "r180", "r270", "exif", "skew+3", "skew-4")
CONTENDERS = ("papervault", "tesseract", "ocrmypdf")
LANGS = "chi_sim+eng"


@dataclass(frozen=True)
class Item:
    base: str
    variant: str
    image: str
    dpi: int | None
    truth: str


def build(out: Path, bases: int, variants: tuple[str, ...]) -> list[Item]:
    """The pages of the run, written as files every contender reads the same way."""
    out.mkdir(parents=True, exist_ok=True)
    sources: list[tuple[str, Image.Image, int | None, str]] = []
    for rel, truth in REAL:
        with Image.open(TESTDATA / rel) as img:
            dpi = img.info.get("dpi")
            page = img.convert("RGB") if img.mode not in ("L", "RGB") else img.copy()
        tag = round(float(dpi[0])) if isinstance(dpi, tuple) and float(dpi[0]) >= 100 else None
        sources.append((Path(rel).stem, page, tag,
                        (TESTDATA / truth).read_text(encoding="utf-8")))
    for n, (cid, extra) in enumerate([("KH-2024-000123", ""),
                                      ("KH-2023-004567", "Policy BD2023004567 claim ok")]):
        lines = form_lines(client_id=cid, extra=extra)
        sources.append((f"form-{n + 1}", render_page(lines), 300, "\n".join(lines)))
    items: list[Item] = []
    for stem, page, dpi, truth in sources[:bases]:
        for v in variants:
            items.append(Item(stem, v, str(_variant(page, v, dpi, out / f"{stem}-{v}")),
                              dpi, truth))
    return items


def _variant(page: Image.Image, variant: str, dpi: int | None, stem: Path) -> Path:
    tag = {"dpi": (dpi, dpi)} if dpi else {}
    if variant == "exif":
        exif = Image.Exif()
        exif[0x0112] = 6  # stored turned 90° counter-clockwise: show it turned clockwise
        out = stem.with_suffix(".jpg")
        page.convert("RGB").transpose(Image.Transpose.ROTATE_90).save(
            out, format="JPEG", quality=92, exif=exif, **tag)
        return out
    if variant.startswith("r"):
        img = upright.turned(page, int(variant[1:]))
    elif variant.startswith("skew"):
        fill: int | tuple[int, int, int] = 255 if page.mode == "L" else (255, 255, 255)
        img = page.rotate(float(variant[4:]), resample=Image.Resampling.BICUBIC,
                          expand=True, fillcolor=fill)
    else:
        img = page
    out = stem.with_suffix(".png")
    img.save(out, **tag)
    return out


def read(job: tuple[str, Item, str]) -> dict[str, Any]:
    """One contender on one page: its text and seconds."""
    contender, item, work = job
    wd = Path(tempfile.mkdtemp(dir=work))
    t0 = time.perf_counter()
    if contender == "papervault":
        kind = "jpeg" if item.image.endswith(".jpg") else "png"
        text = ocr_page(PageTask(item.image, kind, 1, 300, LANGS, str(wd), 300.0, 20)).text
    elif contender == "tesseract":
        dpi = ["--dpi", str(item.dpi)] if item.dpi else []
        text = subprocess.run(["tesseract", item.image, "-", "-l", LANGS, *dpi],
                              capture_output=True, check=True, env=peers.ONE_THREAD,
                              ).stdout.decode("utf-8", "replace")
    else:
        text = _ocrmypdf(item, wd)
    return {"contender": contender, "base": item.base, "variant": item.variant,
            "seconds": round(time.perf_counter() - t0, 2), "cer": round(cer(item.truth, text), 4),
            "recall": round(recall(item.truth, text), 4)}


def _ocrmypdf(item: Item, wd: Path) -> str:
    sidecar = wd / "text.txt"
    dpi = ["--image-dpi", str(item.dpi or 300)]
    proc = subprocess.run(
        [peers._ocrmypdf(), "-l", LANGS, "--rotate-pages", "--deskew", "--output-type", "pdf",
         "--jobs", "1", "--quiet", *dpi, "--sidecar", str(sidecar), item.image,
         str(wd / "out.pdf")], capture_output=True, env=peers.ONE_THREAD, check=False)
    if proc.returncode != 0 or not sidecar.exists():
        return ""  # counted as nothing read: CER 1.0, recall 0
    return sidecar.read_text(encoding="utf-8", errors="replace")


def _squash(text: str) -> str:
    return "".join(text.split())


def cer(ref: str, hyp: str) -> float:
    """Character error rate, whitespace removed, capped at 1.0."""
    a, b = _squash(ref), _squash(hyp)
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return min(1.0, prev[-1] / max(1, len(a)))


def queries(truth: str) -> list[str]:
    """What a records officer would type: Latin words ≥ 4 letters, Hanzi pairs, IDs."""
    out: list[str] = []
    for token in truth.split():
        run = ""
        for ch in token + " ":
            if "\u4e00" <= ch <= "\u9fff":
                run += ch
                continue
            out.extend(run[i:i + 2] for i in range(0, len(run) - 1, 2))
            run = ""
        word = token.strip(".,;:()\"'“”：，。")
        if len(word) >= 4 and word.isascii() and any(c.isalpha() for c in word):
            out.append(word)
    return [fold_search(q) for q in out]


def recall(truth: str, text: str) -> float:
    qs = queries(truth)
    hay = fold_search(_squash(text))
    return sum(1 for q in qs if _squash(q) in hay) / len(qs) if qs else 1.0


def summarise(rows: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """Mean CER/recall per contender per variant, and over all altered variants."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for c in CONTENDERS:
        mine = [r for r in rows if r["contender"] == c]
        groups = {v: [r for r in mine if r["variant"] == v] for v in VARIANTS}
        groups["altered"] = [r for r in mine if r["variant"] != "up"]
        out[c] = {g: {"cer": round(sum(r["cer"] for r in rs) / len(rs), 4),
                      "recall": round(sum(r["recall"] for r in rs) / len(rs), 4),
                      "seconds": round(sum(r["seconds"] for r in rs), 1), "n": len(rs)}
                  for g, rs in groups.items() if rs}
    return out


def table(summary: dict[str, dict[str, dict[str, float]]]) -> str:
    groups = [g for g in (*VARIANTS, "altered") if g in summary["papervault"]]
    lines = ["variant   " + "".join(f"{c:>24}" for c in CONTENDERS),
             "          " + "".join(f"{'CER  recall  s':>24}" for _ in CONTENDERS)]
    for g in groups:
        cells = "".join(f"{s[g]['cer']:>10.3f}{s[g]['recall']:>7.2f}{s[g]['seconds']:>7.0f}"
                        for s in (summary[c] for c in CONTENDERS))
        lines.append(f"{g:<10}{cells}")
    return "\n".join(lines)


def targets(summary: dict[str, dict[str, dict[str, float]]]) -> dict[str, bool]:
    pv, om = summary["papervault"], summary["ocrmypdf"]
    if "up" not in pv or "altered" not in pv:
        return {}
    return {
        "altered_cer_le_1.1x_upright": pv["altered"]["cer"] <= 1.1 * pv["up"]["cer"] + 1e-9,
        "altered_cer_le_ocrmypdf": pv["altered"]["cer"] <= om["altered"]["cer"] + 1e-9,
        "altered_recall_ge_0.95x_upright":
            pv["altered"]["recall"] >= 0.95 * pv["up"]["recall"] - 1e-9,
    }


def _page_process(tmp: str) -> None:
    # What the worker's page processes set (pagepool.init_page_process, without its ties to
    # a daemon): one tesseract thread each, temp files in the run's folder.
    os.environ["OMP_THREAD_LIMIT"] = "1"
    tempfile.tempdir = tmp


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bases", type=int, default=len(REAL) + 2, help="source pages (all)")
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    variants = tuple(v for v in args.variants.split(",") if v in VARIANTS)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="pvquality-") as tmp:
        items = build(Path(tmp) / "pages", args.bases, variants)
        jobs = [(c, it, tmp) for it in items for c in CONTENDERS]
        with ProcessPoolExecutor(args.processes, initializer=_page_process,
                                 initargs=(tmp,)) as pool:
            rows = list(pool.map(read, jobs))
    summary = summarise(rows)
    result = {"started": started, "load": {"start": load, "end": os.getloadavg()},
              "tesseract": peers.tesseract_version(), "ocrmypdf": peers.ocrmypdf_version(),
              "args": {k: str(v) for k, v in vars(args).items()}, "summary": summary,
              "targets": targets(summary), "rows": rows}
    out = args.out or RESULTS / f"ocr-quality-{datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(table(summary))
    print(json.dumps(result["targets"]))
    print(f"\nwritten {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
