#!/usr/bin/env bash
# Creates the secret files docker-compose.yml mounts, once: random keys and passwords
# (hex, so they are URL-safe for mc and libpq), and papervault's master keyset and audit key
# made by the image itself. Existing files are kept: never re-run it to "reset" a key —
# a new master keyset cannot open documents sealed under the old one.
#   scripts/compose-secrets.sh [DIR]      (default ./secrets)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-secrets}
uid=${PAPERVAULT_UID:-10001}
image=${PAPERVAULT_IMAGE:-papervault:latest}
umask 077
mkdir -p "$dir"
chmod 0700 "$dir"
rand() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
make() {  # make NAME CONTENT-COMMAND...
  local f="$dir/$1"; shift
  if [ -s "$f" ]; then echo "kept    $f"; return; fi
  "$@" > "$f.tmp" && mv "$f.tmp" "$f" && echo "created $f"
}
make session.key rand 32
make pi.key rand 32
make audit.key rand 32
make s3_access_key sh -c 'printf "papervault-%s" "$(od -An -N6 -tx1 /dev/urandom | tr -d " \n")"'
make s3_secret_key rand 24
make minio_root_user sh -c 'printf "root-%s" "$(od -An -N6 -tx1 /dev/urandom | tr -d " \n")"'
make minio_root_password rand 24
make pg_admin_password rand 24
make pg_app_password rand 24
if [ ! -s "$dir/master-keyset.json" ]; then
  # The keyset comes from papervault itself (Tink); from the image when it is not installed.
  if command -v papervault >/dev/null; then
    papervault keys new --output "$dir/master-keyset.json"
  elif [ -x .venv/bin/papervault ]; then
    .venv/bin/papervault keys new --output "$dir/master-keyset.json"
  else
    docker run --rm --entrypoint papervault "$image" keys new > "$dir/master-keyset.json"
  fi
  echo "created $dir/master-keyset.json — back it up now (README: what to back up)"
fi
chmod 0600 "$dir"/*
# The containers run as uid 10001 and compose keeps the host file's owner (outside swarm).
if [ "$(id -u)" = 0 ]; then
  chown "$uid" "$dir"/*
else
  echo "now: sudo chown $uid $dir/*   (the containers' user must read them)" >&2
fi
