# One image for every role; its command picks it: web (default), worker, migrate, or any command.
#   docker build -t moderation .
#   docker run moderation web | worker | migrate
# BASE_IMAGE: any Debian-like image with Python 3.11+ and its venv module as `python3` (docker/e2e.sh
# builds one with debootstrap where Docker Hub cannot be reached).
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# The pinned dependencies first, in a layer that only pyproject.toml invalidates (an empty project
# stands in for the code), so a change to the code or the README rebuilds in seconds.
COPY pyproject.toml ./
RUN mkdir moderation workers && touch README.md \
    && pip install . && pip uninstall -y moderation \
    && rm -rf moderation workers README.md build ./*.egg-info
COPY README.md ./
COPY moderation ./moderation
COPY workers ./workers
RUN pip install --no-deps . && python -c "from moderation.scoring import verify_artifact; verify_artifact()"

FROM ${BASE_IMAGE} AS runtime
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin moderation \
    && mkdir -p /data/models && chown -R moderation /data
COPY --from=build /opt/venv /opt/venv
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    MODERATION_ENV=production \
    MODERATION_HOST=0.0.0.0 \
    MODERATION_INSTANCE_DIR=/data \
    PORT=5000
USER moderation
WORKDIR /data
EXPOSE 5000
# The web answers /healthz; a worker is registered in Redis (docker-entrypoint.sh health). Start
# period: a process loads the model before it answers.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s CMD ["docker-entrypoint.sh", "health"]
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["web"]
