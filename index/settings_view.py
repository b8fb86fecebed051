"""The settings an administrator is asked about, and how to change them, for the settings
page; and the live test of the client-ID and 档号 patterns (the linker's own matching)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from papervault.config.settings import CONFIG_ENV, Settings
from papervault.index.registers.linking import compile_patterns, find_ids


@dataclass(frozen=True)
class PatternMatch:
    kind: str  # client | record
    pattern: str
    values: list[str]


@dataclass(frozen=True)
class SettingsView:
    client_patterns: list[str]
    record_patterns: list[str]
    config_file: str
    config_env: str
    toml: str
    env: dict[str, str]
    other: list[tuple[str, str, str]]  # (catalogue label key, setting name, value)


def _toml_list(patterns: list[str]) -> str:
    # Single quotes: TOML literal strings keep a regular expression's backslashes as typed
    # (the walkthrough's first try, in double quotes, was refused as "Unescaped '\'").
    return "[" + ", ".join(f"'{p}'" for p in patterns) + "]"


def settings_view(settings: Settings) -> SettingsView:
    link = settings.link
    toml = ("[link]\n"
            f"client_patterns = {_toml_list(link.client_patterns)}\n"
            f"record_patterns = {_toml_list(link.record_patterns)}")
    env = {"PAPERVAULT_LINK__CLIENT_PATTERNS": json.dumps(link.client_patterns),
           "PAPERVAULT_LINK__RECORD_PATTERNS": json.dumps(link.record_patterns)}
    other = [
        ("ui_set_inbox", "watch.inbox", str(settings.inbox)),
        ("ui_set_quarantine", "watch.quarantine", str(settings.quarantine_dir)),
        ("ui_set_max_mb", "limits.max_bytes", f"{settings.limits.max_bytes // (1024 * 1024)} MB"),
        ("ui_set_time_zone", "web.time_zone", settings.web.time_zone),
        ("ui_set_language", "language", settings.language),
    ]
    return SettingsView(list(link.client_patterns), list(link.record_patterns),
                        str(settings.home / "papervault.toml"), CONFIG_ENV, toml, env, other)


def pattern_test(settings: Settings, value: str) -> list[PatternMatch]:
    """What each configured pattern finds in ``value``, folded as the linker folds OCR text
    (full-width characters, case, spaces inside an ID); patterns that find nothing are left
    out."""
    out: list[PatternMatch] = []
    for kind, patterns in (("client", settings.link.client_patterns),
                           ("record", settings.link.record_patterns)):
        for raw, compiled in zip(patterns, compile_patterns(patterns), strict=True):
            found = [f.value for f in find_ids({"text": value}, [compiled])]
            if found:
                out.append(PatternMatch(kind, raw, list(dict.fromkeys(found))))
    return out
