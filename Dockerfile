# One image for both processes: `satrank serve` (api) and `satrank crawl` (crawler).
# Build: docker build -t satrank .   Run through docker-compose.yml (see DEPLOY.md).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SATRANK_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000

WORKDIR /app
# Dependencies first, so a source change does not reinstall them.
COPY pyproject.toml README.md ./
COPY satrank/__init__.py satrank/__init__.py
RUN pip install . && pip uninstall -y satrank
COPY satrank satrank
COPY sql sql
# Editable: migrations are read from /app/sql, next to the package. Bytecode is compiled
# here because PYTHONDONTWRITEBYTECODE keeps processes from caching it: without it every
# `satrank crawl --once` and api start compiled the whole package again (~0.3-1 s).
RUN pip install --no-deps -e . \
    && python -m compileall -q satrank \
    && groupadd --system --gid 10001 satrank \
    && useradd --system --uid 10001 --gid satrank --home-dir /app --shell /usr/sbin/nologin satrank
# uid/gid 10001 match the host's satrank user (DEPLOY.md section 1): the LND credentials
# mounted from /etc/satrank/lnd (group satrank, mode 640) are readable in the container.
USER satrank

EXPOSE 3000 9091
ENTRYPOINT ["satrank"]
CMD ["serve"]
