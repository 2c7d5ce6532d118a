# The one image of the app: the web process (gunicorn) and every worker run from it.
# Build: docker compose build   (see docker-compose.yml and docs/transports/redis-streams.md)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /srv/app
COPY pyproject.toml README.md ./
COPY app ./app
COPY transports ./transports
COPY modules ./modules
COPY wsgi.py gunicorn.conf.py ./
RUN pip install ".[redis,server,postgres]" \
    && useradd --create-home --uid 10001 clinic \
    && mkdir -p instance && chown clinic instance
USER clinic

EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "wsgi:app"]
