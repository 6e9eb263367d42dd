# The hotline's one image; IVR_TIER (edge or console) decides what a container is.
#   docker build -t ivr .
#   docker run --rm -e IVR_TIER=edge ... ivr                 # webhooks (ivr serve)
#   docker run --rm -e IVR_TIER=edge ... ivr worker          # ingest worker
# The entrypoint is `ivr`, so a command is its arguments (`db upgrade`, `doctor`).

# --- builder: wheels for the project and every dependency ---------------------------------
FROM python:3.11-slim-bookworm AS builder

WORKDIR /src
COPY pyproject.toml ./
COPY ivr ./ivr
# No compiler is installed: every dependency ships a wheel for this platform. Should one
# stop doing so, its build tools belong here, never in the final stage.
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# --- final: the wheels installed, no build tools, not root --------------------------------
FROM python:3.11-slim-bookworm

# graphviz: `dot` draws call flows in the console. ffmpeg: reads MP3 prompts uploaded by
# the operations team (callers' audio is WAV and never goes near it). Pango and a font:
# WeasyPrint lays out the tagged PDF sent to forces.
# DL3008 (pin apt versions) is ignored: the base tag fixes the Debian release, and pinning
# package versions as well would only hold back that release's security updates.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends graphviz ffmpeg \
       libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 ivr \
    && useradd --system --uid 10001 --gid ivr --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin ivr

COPY --from=builder /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links=/wheels /wheels/ivr-*.whl \
    && rm -rf /wheels
# ivr/platform/migrate.py looks for migrations/ beside the package, where a source checkout has
# them; put them there until they ship inside it (this COPY then fails, and goes).
COPY migrations /usr/local/lib/python3.11/site-packages/migrations

# The app reads call flows from ./call_flows (IVR_FLOWS_DIR) and writes nothing here:
# deployed tiers keep secrets in the environment and data in PostgreSQL and S3, so the
# root filesystem can be read-only. The one exception is the edge web's spool of
# callbacks during a database outage (IVR_SPOOL_DIR), on a mounted EFS volume (infra/).
WORKDIR /app
COPY call_flows ./call_flows
COPY infra/healthcheck.py ./healthcheck.py

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    IVR_BIND=0.0.0.0:8000

USER 10001:10001
EXPOSE 8000

# ECS ignores this and runs the same command from the task definition.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "/app/healthcheck.py"]

ENTRYPOINT ["ivr"]
CMD ["serve", "--workers", "2", "--threads", "4"]
