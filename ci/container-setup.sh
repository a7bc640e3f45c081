#!/usr/bin/env bash
# Make this machine able to build and run the action's Dockerfile image with podman, with no
# container registry reachable: packages from Debian, and a python base image made locally with
# debootstrap (bookworm's python 3.11, a stand-in for python:3.12-slim). Idempotent; run as root.
# Why each host setting: crun rejects this kind of host's hybrid cgroups (so runc); root lacks
# CAP_SYS_RESOURCE, so podman's default ulimits cannot be set (so limits within the hard ones);
# HTTPS goes through an intercepting proxy whose CA the image must trust (so the host's extra CAs).
set -euo pipefail

BASE_IMAGE=${STAGETAG_BASE_IMAGE:-localhost/stagetag-python-base:3.11}
MINBASE_IMAGE=localhost/stagetag-debian-minbase:bookworm
export DEBIAN_FRONTEND=noninteractive

if ! command -v podman >/dev/null || ! command -v runc >/dev/null \
    || ! command -v debootstrap >/dev/null; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends podman runc debootstrap >/dev/null
fi

# Ulimits within the hard limits; podman's own nproc is capped at 32768 on this kind of host.
nofile=$(ulimit -Hn)
nproc=$(ulimit -Hu)
{ [ "$nofile" = unlimited ] || [ "$nofile" -gt 1048576 ]; } && nofile=1048576
{ [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; } && nproc=32768
mkdir -p /etc/containers
cat > /etc/containers/containers.conf <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
runtime = "runc"
CONF

if podman image exists "$BASE_IMAGE"; then
    echo "container-setup: $BASE_IMAGE already exists"
    exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! podman image exists "$MINBASE_IMAGE"; then
    debootstrap --variant=minbase bookworm "$work/rootfs" > "$work/debootstrap.log" \
        || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
    rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/*
    tar -C "$work/rootfs" -c . | podman import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["/bin/bash"]' - "$MINBASE_IMAGE" >/dev/null
    rm -rf "$work/rootfs"
fi

# python:*-slim lets `pip install` write to the interpreter's environment; Debian's system pip
# refuses (PEP 668), hence the venv first on PATH.
mkdir -p "$work/base/certs"
cp /usr/local/share/ca-certificates/*.crt "$work/base/certs/" 2>/dev/null || true
cat > "$work/base/Dockerfile" <<DOCKERFILE
FROM $MINBASE_IMAGE
COPY certs/ /usr/local/share/ca-certificates/
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
      ca-certificates python3 python3-venv python-is-python3 \\
 && apt-get clean && rm -rf /var/lib/apt/lists/* \\
 && python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1
CMD ["python3"]
DOCKERFILE
podman build --isolation=chroot -q -t "$BASE_IMAGE" "$work/base"
echo "container-setup: built $BASE_IMAGE"
