#!/usr/bin/env bash
# The web UI's front-end packages (Bootstrap, htmx) come from npm at the versions in
# index/web/assets/package-lock.json and are served by the app from /static/vendor: offices
# run offline and the Content-Security-Policy allows nothing from elsewhere.
#   scripts/assets.sh          install from the lock and copy into static/vendor
#   scripts/assets.sh --check  fail when static/vendor differs from what the lock installs
set -euo pipefail
cd "$(dirname "$0")/../index/web/assets"
npm ci --ignore-scripts --no-audit --no-fund --silent
out=../static/vendor
files=(bootstrap/dist/css/bootstrap.min.css bootstrap/dist/js/bootstrap.bundle.min.js
       htmx.org/dist/htmx.min.js)
if [ "${1:-}" = "--check" ]; then
  for f in "${files[@]}"; do
    cmp -s "node_modules/$f" "$out/$(basename "$f")" \
      || { echo "assets: $out/$(basename "$f") differs from $f in the lock: run scripts/assets.sh" >&2; exit 1; }
  done
  echo "assets: static/vendor matches package-lock.json"
  exit 0
fi
mkdir -p "$out"
for f in "${files[@]}"; do cp "node_modules/$f" "$out/"; done
cp node_modules/bootstrap/LICENSE "$out/LICENSE.bootstrap"
cp node_modules/htmx.org/LICENSE "$out/LICENSE.htmx"
echo "assets: copied ${#files[@]} files to index/web/static/vendor"
