#!/usr/bin/env bash
# gitlab-ci-local for tests/runners/test_gitlab_ci_local.py: the GitLab examples and CI/CD
# components run in real runner software, offline. Idempotent; run as root.
# - gitlab-ci-local from npm into $STAGETAG_GCL_PREFIX (default /opt/stagetag-gitlab-ci-local);
#   it needs Node >= 22, so ci/node-setup.sh's Node runs it (bin/gitlab-ci-local is a wrapper).
# - rsync on the host: gitlab-ci-local copies the project into its build folder with it.
# - Its helper image (sh and rsync, for artifacts and caches) cannot be pulled here, so it is
#   built from the local Debian base that ci/container-setup.sh makes.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${STAGETAG_GCL_PREFIX:-/opt/stagetag-gitlab-ci-local}
version=4.75.1
node_prefix=${STAGETAG_NODE_PREFIX:-/opt/stagetag-node}
helper=${STAGETAG_GCL_HELPER_IMAGE:-localhost/stagetag-gitlab-ci-local-helper:1}
minbase=localhost/stagetag-debian-minbase:bookworm
export DEBIAN_FRONTEND=noninteractive

bash ci/container-setup.sh >/dev/null  # podman and the local Debian base image
bash ci/node-setup.sh >/dev/null

if ! command -v rsync >/dev/null; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends rsync >/dev/null
fi

if [ "$("$prefix/bin/gitlab-ci-local" --version 2>/dev/null)" != "$version" ]; then
    mkdir -p "$prefix"
    PATH="$node_prefix/bin:$PATH" npm install --silent --no-audit --no-fund \
        --prefix "$prefix" "gitlab-ci-local@$version"
    mkdir -p "$prefix/bin"
    cat > "$prefix/bin/gitlab-ci-local" <<WRAPPER
#!/bin/sh
exec "$node_prefix/bin/node" "$prefix/node_modules/gitlab-ci-local/dist/index.js" "\$@"
WRAPPER
    chmod 755 "$prefix/bin/gitlab-ci-local"
fi
"$prefix/bin/gitlab-ci-local" --version

if ! podman image exists "$helper"; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    cat > "$work/Containerfile" <<CONTAINERFILE
FROM $minbase
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rsync \\
 && apt-get clean && rm -rf /var/lib/apt/lists/*
CONTAINERFILE
    podman build --isolation=chroot -q -t "$helper" "$work" >/dev/null
    echo "gitlab-ci-local-setup: built $helper"
fi
