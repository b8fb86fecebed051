# The papervault image: watcher, OCR worker and web app (docker-compose.yml picks the command).
#
#   docker build -t papervault:latest .
#   docker build --build-arg PIP_INDEX_URL=https://<mirror>/simple \
#                --build-arg APT_MIRROR=http://<mirror>/debian -t papervault:latest .
#
# Debian bookworm, tesseract 5 with Simplified Chinese + English + orientation data, poppler
# for rendering, Noto CJK for generated cover sheets, the PostgreSQL client tools for
# papervault backup (pg_dump; bookworm's 15 matches the postgres:15 service). Runs as an
# unprivileged numeric user.
# No `# syntax=` line: Docker 23+'s built-in frontend suffices, and fetching a frontend
# image on every build fails where Docker Hub is unreachable.

FROM python:3.11-slim-bookworm

ARG PIP_INDEX_URL=""
ARG APT_MIRROR=""

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # One tesseract thread per process: measured 5-9x faster than its own threading.
    OMP_THREAD_LIMIT=1

# Debian's own security updates flow in through the stable suite; pinning exact package
# versions would pin the image to vulnerable ones as soon as a fix lands (hadolint DL3008
# is ignored for that reason, see .hadolint.yaml).
RUN if [ -n "$APT_MIRROR" ]; then \
      sed -i "s|http://deb.debian.org/debian|$APT_MIRROR|g" /etc/apt/sources.list.d/debian.sources; \
    fi \
 && apt-get update \
 && apt-get install -y --no-install-recommends \
      tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-eng tesseract-ocr-osd \
      poppler-utils fonts-noto-cjk tini \
      postgresql-client \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
# Dependencies first, from the lock file, so a code change does not reinstall them.
COPY requirements.lock ./
RUN PIP_INDEX_URL="${PIP_INDEX_URL:-https://pypi.org/simple}" \
    pip install --no-deps -r requirements.lock
# Then the code alone (--no-deps: everything it needs is already installed, at locked versions).
COPY pyproject.toml README.md LICENSE ./
COPY config ./config
COPY storage ./storage
COPY index ./index
COPY ingest ./ingest
RUN pip install --no-deps . && rm -rf /src

RUN useradd --system --uid 10001 --home-dir /data --create-home papervault \
 && mkdir -p /data/inbox /data/quarantine /data/staging /data/run \
 && chown -R 10001:10001 /data && chmod 0700 /data/staging
USER 10001
WORKDIR /data
ENV PAPERVAULT_HOME=/data
EXPOSE 8700

LABEL org.opencontainers.image.title="papervault" \
      org.opencontainers.image.description="Paper client files into an encrypted, searchable, audited archive" \
      org.opencontainers.image.licenses="Apache-2.0"

# Liveness only (the process answers); compose overrides it per service with the
# service's own check (papervault health watcher|worker, /healthz for web).
HEALTHCHECK --interval=30s --timeout=20s --start-period=30s --retries=3 \
  CMD ["papervault", "--version"]

# tini reaps the tesseract and pdftoppm children and forwards SIGTERM, so a worker
# finishes the job in hand on `docker compose stop`. papervault reads its secrets from the
# *_FILE settings itself: no entrypoint script, so `exec` and healthchecks see the same.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["papervault", "worker"]
