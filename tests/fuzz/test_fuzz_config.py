"""Config parsing on arbitrary TOML: :class:`Settings` or :class:`ConfigError` (which the CLI
turns into one sentence and exit code 78), never a raw traceback."""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from papervault.config.errors import ConfigError
from papervault.config.settings import Settings, load_settings
from tests.fuzz.budget import FUZZ
from tests.report import FUZZ_EXAMPLES, counted

SECTIONS = {
    "": ["home", "staging", "log_level", "language", "actor"],
    "watch": ["inbox", "quarantine", "done", "after_store", "stable_seconds", "polling",
              "poll_interval", "rescan_interval", "ignore_suffixes", "retry_initial",
              "retry_max"],
    "limits": ["max_bytes", "max_pages", "max_pixels", "max_page_points", "min_pixels_side"],
    "ocr": ["langs", "dpi", "workers", "page_timeout", "page_memory_mb", "lease_seconds",
            "max_attempts",
            "text_layer_min_chars", "min_dpi_warning", "low_confidence_warning"],
    "s3": ["endpoint", "bucket", "access_key", "secret_key", "secure", "local_server"],
    "db": ["url"],
    "crypto": ["master_key_file", "master_key", "audit_key_file"],
    "link": ["client_patterns", "record_patterns"],
    "web": ["host", "port", "enabled"],
    "access": ["login", "session_hours", "idle_minutes", "max_failed_logins",
               "lockout_minutes", "min_password_length"],
    "coverage": ["fail_under"],
}
HOSTILE_VALUES = ["inbox", ".", "..", "/", "quarantine", "a\x00b", "(", "[A-", "\\d{4",
                  "KH-\\d+", "", float("nan"), float("inf"), -1, 0, 2**63, True, [], ["("]]
HOSTILE = st.sampled_from(HOSTILE_VALUES)
SCALARS = st.one_of(HOSTILE, st.text(max_size=40), st.integers(), st.floats(), st.booleans())
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=4))


def _toml(v: object) -> str:
    """Enough of a TOML writer for generated values (invalid output is fine: also tested)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return json.dumps(v)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for k in list(os.environ):
        if k.startswith("PAPERVAULT_"):
            monkeypatch.delenv(k)


def _load(folder: Path, body: str) -> None:
    f = folder / "papervault.toml"
    f.write_text(body, encoding="utf-8", errors="surrogatepass")
    try:
        s = load_settings(f)
    except ConfigError as e:
        assert e.message("zh") and e.message("en") and e.exit_code == 78
        return
    assert isinstance(s, Settings)
    # What loaded must be usable: patterns compile, times are real numbers.
    for p in s.link.client_patterns + s.link.record_patterns:
        re.compile(p)
    assert all(math.isfinite(x) for x in (s.watch.stable_seconds, s.watch.rescan_interval,
                                          s.watch.retry_initial, s.ocr.page_timeout))
    # ... and no count or interval that would stall the daemon or spin it: a zero poll
    # interval busy-loops, zero workers never OCR, a zero lease hands every job back at once.
    assert s.watch.stable_seconds >= 0 and s.ocr.text_layer_min_chars >= 0
    assert min(s.watch.poll_interval, s.watch.rescan_interval, s.watch.retry_initial,
               s.watch.retry_max, s.ocr.page_timeout, s.ocr.lease_seconds,
               s.limits.max_bytes, s.limits.max_pages, s.limits.max_pixels,
               s.limits.max_page_points, s.access.session_hours,
               s.access.idle_minutes) > 0
    assert min(s.ocr.workers, s.ocr.max_attempts, s.limits.min_pixels_side,
               s.access.max_failed_logins) >= 1
    assert 50 <= s.ocr.dpi <= 1200 and 1 <= s.web.port <= 65535


@FUZZ
@given(body=st.text(max_size=400))
@counted
def test_any_text(clean_env: None, tmp_path: Path, body: str) -> None:
    _load(tmp_path, body)


@FUZZ
@given(data=st.data())
@counted
def test_known_sections_with_any_values(clean_env: None, tmp_path: Path,
                                        data: st.DataObject) -> None:
    lines = []
    for section in sorted(data.draw(st.lists(st.sampled_from(sorted(SECTIONS)), unique=True,
                                             max_size=4), label="sections")):
        keys = data.draw(st.lists(st.sampled_from(SECTIONS[section]) | st.text(max_size=3),
                                  unique=True, max_size=4), label=f"[{section}]")
        lines.append(f"[{section}]" if section else "")
        lines += [f"{json.dumps(k)} = {_toml(data.draw(VALUES, label=k))}" for k in keys]
    _load(tmp_path, "\n".join(lines) + "\n")


def test_every_key_with_every_hostile_value(clean_env: None, tmp_path: Path) -> None:
    """Exhaustive where random search is thin: one setting at a time, the rest default."""
    for section, keys in SECTIONS.items():
        for key in keys:
            for value in HOSTILE_VALUES:
                head = f"[{section}]\n" if section else ""
                _load(tmp_path, f"{head}{key} = {_toml(value)}\n")
                FUZZ_EXAMPLES["config: every_key_with_every_hostile_value"] += 1
