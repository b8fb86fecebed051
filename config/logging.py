"""Logging set-up, called once by the CLI or the web app factory."""

from __future__ import annotations

import logging
from typing import Literal


def setup_logging(level: str = "INFO", fmt: Literal["text", "json"] = "text") -> None:
    """Log to stderr with timestamps, as text or one JSON object per line (log.format).

    Secrets are never passed to loggers in the first place.
    """
    handler = logging.StreamHandler()
    if fmt == "json":
        from pythonjsonlogger.json import JsonFormatter

        handler.setFormatter(JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"}))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    # The minio client and urllib3 are noisy at INFO when a server restarts.
    logging.getLogger("urllib3").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.WARNING)
