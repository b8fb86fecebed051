#!/usr/bin/env bash
# The main job on the embedded default: SQLite + local S3 server + watcher, worker, web UI.
# Installs nothing: run scripts/setup.sh once (and after an upgrade), e.g. for a production
# host without test tools: LOCK=requirements-local.lock EXTRAS=local-s3 scripts/setup.sh
# Meant for an unprivileged user (deploy/papervault.service runs it the same way).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/papervault ]; then
  echo "papervault is not installed here: run scripts/setup.sh first" >&2
  exit 69
fi
if [ "$(id -u)" = 0 ]; then
  echo "warning: running as root; a dedicated unprivileged user is safer (README)" >&2
fi
INSTANCE=${PAPERVAULT_INSTANCE:-instance}
# As root with a `papervault` account present, the services run as that account (the
# watcher opens what scanning staff drop; docs/security.md); otherwise as the caller.
AS=()
if [ "$(id -u)" = 0 ] && id papervault >/dev/null 2>&1; then AS=(runuser -u papervault --); fi
[ -f "$INSTANCE/papervault.toml" ] || "${AS[@]}" .venv/bin/papervault init "$INSTANCE"
exec "${AS[@]}" .venv/bin/papervault --config "$INSTANCE/papervault.toml" up
