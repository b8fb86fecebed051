"""Stability: a file is taken only after its size and mtime stay unchanged for a delay.

Scanners writing over SMB pause between pages; ``closed`` events do not arrive there at
all. The clock is passed in so tests need no sleeps.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    since: float


class StabilityTracker:
    """Remembers candidate files and reports those that have settled."""

    def __init__(self, stable_seconds: float, clock: Callable[[], float] = time.monotonic):
        self.stable_seconds = stable_seconds
        self.clock = clock
        self._seen: dict[Path, _Seen] = {}

    def __len__(self) -> int:
        return len(self._seen)

    def __contains__(self, path: object) -> bool:
        return path in self._seen

    def observe(self, path: Path) -> None:
        """Note a file (new or changed); its quiet period starts now if it changed."""
        st = _stat(path)
        if st is None:
            self._seen.pop(path, None)
            return
        size, mtime = st
        prev = self._seen.get(path)
        if prev is None or (prev.size, prev.mtime_ns) != (size, mtime):
            self._seen[path] = _Seen(size, mtime, self.clock())

    def forget(self, path: Path) -> None:
        self._seen.pop(path, None)

    def ready(self) -> list[Path]:
        """Files unchanged for ``stable_seconds``; changed ones start their wait again."""
        now = self.clock()
        out: list[Path] = []
        for path in list(self._seen):
            self.observe(path)
            seen = self._seen.get(path)
            if seen is not None and now - seen.since >= self.stable_seconds:
                out.append(path)
        return sorted(out)


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError:
        return (-1, -1)  # exists but cannot be stat'ed: triage will say why
    return st.st_size, st.st_mtime_ns
