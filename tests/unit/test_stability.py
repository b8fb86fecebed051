"""The stability tracker with an injected clock: no sleeps."""

from __future__ import annotations

import os
from pathlib import Path

from papervault.ingest.stability import StabilityTracker


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_file_is_ready_only_after_the_quiet_period(tmp_path: Path) -> None:
    clock = Clock()
    t = StabilityTracker(5.0, clock)
    f = tmp_path / "scan.pdf"
    f.write_bytes(b"%PDF-1.4 part one")
    t.observe(f)
    clock.now += 4.9
    assert t.ready() == []
    clock.now += 0.2
    assert t.ready() == [f]


def test_growing_file_restarts_its_wait(tmp_path: Path) -> None:
    clock = Clock()
    t = StabilityTracker(5.0, clock)
    f = tmp_path / "scan.pdf"
    f.write_bytes(b"a")
    t.observe(f)
    for _ in range(10):  # the scanner appends a page every 3 s for 30 s
        clock.now += 3
        with f.open("ab") as fh:
            fh.write(b"more")
        os.utime(f, ns=(int(clock.now * 1e9), int(clock.now * 1e9)))
        assert t.ready() == []
    clock.now += 5
    assert t.ready() == [f]


def test_touched_file_restarts_its_wait_and_vanished_file_is_dropped(tmp_path: Path) -> None:
    clock = Clock()
    t = StabilityTracker(1.0, clock)
    f = tmp_path / "x.jpg"
    f.write_bytes(b"x")
    t.observe(f)
    clock.now += 0.9
    os.utime(f, ns=(1, 1))
    clock.now += 0.5
    assert t.ready() == []
    f.unlink()
    clock.now += 5
    assert t.ready() == [] and len(t) == 0
