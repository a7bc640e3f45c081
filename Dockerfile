# The stagetag action image: Python, git, ssh-keygen and the stagetag wheel, nothing else.
# Build with another base (e.g. a local mirror of python:3.12-slim) via --build-arg BASE=...
ARG BASE=python:3.12-slim

# The builder turns the source tree into a wheel; neither the tree nor the build backend
# (fetched by pip into a throwaway build env) reaches the final image.
FROM ${BASE} AS builder
WORKDIR /src
COPY . .
RUN pip wheel --no-cache-dir --disable-pip-version-check --no-deps --wheel-dir /wheels .

FROM ${BASE}
# git, and OpenSSH's client for ssh-keygen, with which git signs and verifies signed stage
# tags; the versions follow the base image. apt's package lists, its binary caches and the
# downloaded .debs are of no use at run time.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends git openssh-client \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb

# The wheel's dependencies come from the index; nothing stays behind but the installed package.
# nektos/act in host mode gives the container the host's PATH, so stagetag must also be at
# /usr/local/bin, where pip puts it on python:*-slim but not in a base with a venv first on PATH.
COPY --from=builder /wheels /tmp/wheels
RUN pip install --no-cache-dir --disable-pip-version-check /tmp/wheels/stagetag-*.whl \
    && rm -rf /tmp/wheels \
    && installed="$(command -v stagetag)" \
    && if [ "$installed" != /usr/local/bin/stagetag ]; then \
        ln -s "$installed" /usr/local/bin/stagetag; \
    fi

ENTRYPOINT ["stagetag", "action"]
