#!/usr/bin/env bash
# The whole test suite against real tesseract, a real S3 server (SeaweedFS on loopback),
# SQLite and PostgreSQL (127.0.0.1:5432, database test).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/lint.sh
scripts/check-deploy.sh
scripts/assets.sh --check  # the served front-end files are exactly what the npm lock installs
.venv/bin/python -m pytest "$@"
