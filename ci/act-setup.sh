#!/usr/bin/env bash
# What tests/runners/test_act.py needs on the host beyond the dev venv (which ships act): podman
# and the local base image to build the action's image (ci/container-setup.sh), and Node >= 24,
# because act runs jobs on the host (-P ubuntu-latest=-self-hosted) and actions/checkout v7 is a
# node24 action (ci/node-setup.sh). The tests start podman's API socket themselves. The
# checkout runtime is vendored, not installed: this only checks it is there. Idempotent; root.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/container-setup.sh
bash ci/node-setup.sh >/dev/null
checkout=${STAGETAG_CHECKOUT_ACTION:-../shared/vendor/actions-checkout-v7.0.1}
if [ ! -f "$checkout/action.yml" ]; then
    echo "act-setup: the actions/checkout runtime is missing from $checkout" \
        "(set STAGETAG_CHECKOUT_ACTION)" >&2
    exit 1
fi
echo "act-setup: podman, the base image, Node $("${STAGETAG_NODE_PREFIX:-/opt/stagetag-node}/bin/node" --version) and actions/checkout are ready"
