#!/usr/bin/env bash
# Re-pin every dependency after a change to pyproject.toml (or to take updates):
#   requirements.lock        the app alone (the Docker image: talks to MinIO)
#   requirements-local.lock  the app + its own SeaweedFS S3 server (scripts/run.sh, systemd)
#   requirements-dev.lock    everything setup, CI and the tests use
# Universal: one file serves x86_64 and arm64, Python 3.11 and newer.
set -euo pipefail
cd "$(dirname "$0")/.."
uv=.venv/bin/uv
[ -x "$uv" ] || uv=uv
common=(pyproject.toml --python-version 3.11 --universal --no-header --quiet "$@")
"$uv" pip compile "${common[@]}" -o requirements.lock
"$uv" pip compile "${common[@]}" --extra local-s3 -o requirements-local.lock
"$uv" pip compile "${common[@]}" --extra dev -o requirements-dev.lock
echo "lock: $(grep -c '==' requirements.lock) / $(grep -c '==' requirements-local.lock) / $(grep -c '==' requirements-dev.lock) pins"
