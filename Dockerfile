# The stagetag action image: Python, git and stagetag, nothing else.
# Build with another base (e.g. a local mirror of python:3.12-slim) via --build-arg BASE=...
ARG BASE=python:3.12-slim
FROM ${BASE}

# git is the only system package stagetag needs; the version follows the base image.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml README.md /opt/stagetag/
COPY stagetag /opt/stagetag/stagetag
COPY entrypoint /opt/stagetag/entrypoint
COPY dispatcher /opt/stagetag/dispatcher
RUN pip install --no-cache-dir --disable-pip-version-check /opt/stagetag \
    && rm -rf /opt/stagetag

ENTRYPOINT ["stagetag", "action"]
