"""The fuzzing budget: bounded in CI; ``PAPERVAULT_FUZZ_EXAMPLES=20000`` for a long run.

Every property runs ``max_examples`` generated inputs (200 by default) with no per-example
deadline: the machines are shared and a slow example is not a failure.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "papervault-fuzz",
    max_examples=int(os.environ.get("PAPERVAULT_FUZZ_EXAMPLES", "200")),
    deadline=None,
    # Each property reuses one folder or database across its examples, on purpose.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FUZZ = settings.get_profile("papervault-fuzz")
