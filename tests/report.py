"""The reliability report printed at the end of a run of tests/faults and tests/fuzz:
files, lost (0), stored twice (0), quarantined, vanished and recovery time per fault, and
the examples each fuzzing property ran. Covered elsewhere and named in the footer: several
workers on one PostgreSQL queue with a SIGKILL lease takeover (tests/integration)."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from typing import Any

FAULTS: list[dict[str, Any]] = []
FUZZ_EXAMPLES: Counter[str] = Counter()
NOTES: list[str] = []  # free lines under the fault table (the corpus batch's tally)
_printed: list[bool] = []


def counted(fn: Callable[..., None]) -> Callable[..., None]:
    """Count the examples hypothesis runs through ``fn`` (put it under ``@given``)."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> None:
        area = fn.__module__.rsplit(".", 1)[-1].removeprefix("test_fuzz_")
        FUZZ_EXAMPLES[f"{area}: {fn.__name__.removeprefix('test_')}"] += 1
        fn(*args, **kwargs)

    return run


def print_report(tr: Any) -> None:
    """Once per session, whichever of the two conftests calls it first."""
    if _printed or not (FAULTS or FUZZ_EXAMPLES):
        return
    _printed.append(True)
    tr.section("papervault reliability report")
    if FAULTS:
        tr.write_line(f"{'fault':<36}{'db':<10}{'files':>6}{'lost':>6}{'twice':>6}"
                      f"{'quarant.':>9}{'vanished':>9}{'recover s':>10}{'failed+why':>11}")
        for r in FAULTS:
            tr.write_line(f"{r['fault']:<36}{r.get('db', ''):<10}{r['files']:>6}{r['lost']:>6}"
                          f"{r['twice']:>6}{r.get('quarantined', 0):>9}"
                          f"{r.get('vanished', ''):>9}{r.get('recover_s', ''):>10}"
                          f"{r.get('failed_with_reason', ''):>11}")
        tr.write_line(f"total lost: {sum(r['lost'] for r in FAULTS)}, stored twice: "
                      f"{sum(r['twice'] for r in FAULTS)}")
        tr.write_line("failed+why: documents or pages that could not be read, each with its "
                      "reason (issue 11)")
        for note in NOTES:
            tr.write_line(note)
        tr.write_line("private pg: a cluster the test starts and stops itself. Several workers "
                      "on one PostgreSQL queue,")
        tr.write_line("SIGKILL and lease takeover: tests/integration/test_scaleout.py")
    if FUZZ_EXAMPLES:
        if FAULTS:
            tr.write_line("")
        tr.write_line(f"{'fuzzed property':<56}{'examples':>10}")
        for name, n in FUZZ_EXAMPLES.items():
            tr.write_line(f"{name:<56}{n:>10}")
