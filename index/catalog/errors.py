"""Errors of the index."""

from __future__ import annotations

from papervault.config.errors import TransientError


class DatabaseUnavailable(TransientError):
    """The database is locked, restarting or unreachable: retry later."""

    key = "database_unavailable"
