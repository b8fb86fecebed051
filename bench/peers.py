"""The two reference points: tesseract alone (the physical limit) and OCRmyPDF (the peer)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ONE_THREAD = {**os.environ, "OMP_THREAD_LIMIT": "1"}


def tesseract_version() -> str:
    out = subprocess.run(["tesseract", "--version"], capture_output=True, text=True, check=True)
    return out.stdout.splitlines()[0]


def ocrmypdf_version() -> str:
    out = subprocess.run([_ocrmypdf(), "--version"], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def _ocrmypdf() -> str:
    beside = Path(sys.executable).parent / "ocrmypdf"
    return str(beside) if beside.exists() else (shutil.which("ocrmypdf") or "ocrmypdf")


def raw_tesseract(pages: list[Path], out_dir: Path, langs: str, dpi: int, jobs: int) -> float:
    """Seconds for ``tesseract`` over every page image, ``jobs`` processes at a time,
    one OpenMP thread each, text output only: recognition and nothing else."""
    out_dir.mkdir(parents=True, exist_ok=True)

    def one(page: Path) -> None:
        subprocess.run(
            ["tesseract", str(page), str(out_dir / page.stem), "-l", langs, "--dpi", str(dpi),
             "txt"],
            check=True, env=ONE_THREAD, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(one, pages))
    return time.perf_counter() - t0


def ocrmypdf(pdf: Path, out: Path, langs: str, jobs: int) -> float:
    """Seconds for ``ocrmypdf -l LANGS --output-type pdf --jobs N`` on the corpus PDF."""
    t0 = time.perf_counter()
    subprocess.run(
        [_ocrmypdf(), "-l", langs, "--output-type", "pdf", "--jobs", str(jobs), "--quiet",
         str(pdf), str(out)],
        check=True, env=ONE_THREAD,
    )
    return time.perf_counter() - t0
