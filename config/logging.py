"""Logging set-up, called once by the CLI or the web app factory."""

from __future__ import annotations

import logging


def setup_logging(level: str = "INFO") -> None:
    """Log to stderr with timestamps; secrets are never passed to loggers in the first place."""
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # The minio client and urllib3 are noisy at INFO when a server restarts.
    logging.getLogger("urllib3").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.WARNING)
