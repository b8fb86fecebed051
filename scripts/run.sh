#!/usr/bin/env bash
# The main job on the embedded default: SQLite + local S3 server + watcher, worker, web UI.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
INSTANCE=${PAPERVAULT_INSTANCE:-instance}
[ -f "$INSTANCE/papervault.toml" ] || .venv/bin/papervault init "$INSTANCE"
exec .venv/bin/papervault --config "$INSTANCE/papervault.toml" up
