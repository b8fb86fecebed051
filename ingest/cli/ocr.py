"""OCR queue commands: ``papervault ocr retry [--failed]``."""

from __future__ import annotations

from typing import Annotated

import typer

from papervault.config.messages import text
from papervault.ingest.cli.context import out, settings_of
from papervault.ingest.service import retry_ocr

app = typer.Typer(help="文字识别队列 / the OCR queue")


@app.command()
def retry(
    ctx: typer.Context,
    failed: Annotated[bool, typer.Option(
        help="also re-queue failed jobs and partly read documents (after a fix, e.g. a "
             "new tesseract language pack)")] = False,
) -> None:
    """Run jobs waiting for a retry now; with --failed, read failed documents again."""

    count = retry_ocr(settings_of(ctx), failed=failed)
    out.print(f"{text('ocr_requeued', 'zh', count=count)} / "
              f"{text('ocr_requeued', 'en', count=count)}")
