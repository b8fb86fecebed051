#!/usr/bin/env bash
# The static checks CI runs before the tests: ruff, mypy strict, the import-layering contract.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
# The editable install is a link tree (editable_mode=strict): mypy reads papervault.* from it,
# since the import-hook finder of a lenient editable install is invisible to mypy.
tree=$(.venv/bin/python -c 'import pathlib, papervault.config as c; print(pathlib.Path(c.__file__).parents[2])')
MYPYPATH="$tree" .venv/bin/mypy
.venv/bin/lint-imports --no-cache
