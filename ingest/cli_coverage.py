"""Register, verification and coverage commands for auditors.

Each command registers itself on :data:`ingest.cli.app`.
"""

from __future__ import annotations

from ingest.cli import app  # noqa: F401
