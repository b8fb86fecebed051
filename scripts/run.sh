#!/usr/bin/env bash
# The main job on the embedded default: SQLite + local S3 server + watcher, worker, web UI.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
INSTANCE=${PAPERVAULT_INSTANCE:-instance}
# As root with a `papervault` account present, the services run as that account (the
# watcher opens what scanning staff drop; docs/security.md); otherwise as the caller.
AS=()
if [ "$(id -u)" = 0 ] && id papervault >/dev/null 2>&1; then AS=(runuser -u papervault --); fi
[ -f "$INSTANCE/papervault.toml" ] || "${AS[@]}" .venv/bin/papervault init "$INSTANCE"
exec "${AS[@]}" .venv/bin/papervault --config "$INSTANCE/papervault.toml" up
