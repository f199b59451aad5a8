#!/usr/bin/env bash
# Runs the browser end-to-end tests (tests/e2e/*.test.mjs) with Node's built-in test runner.
# Installs node_modules from package-lock.json when missing. Fails, not skips, without chromium.
#
# Environment: CHATD_BIN, CHATCTL_BIN, FAKE_UPSTREAM_BIN, WEBUI_DIR (defaults: build/… and
# webui/dist of this repository), CHROMIUM_BIN (default /usr/bin/chromium), E2E_ARTIFACTS
# (screenshots; default a temporary directory), KEEP_WORKDIR=1 keeps the daemon's work dir.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

chromium="${CHROMIUM_BIN:-/usr/bin/chromium}"
if [[ ! -x "$chromium" ]]; then
    echo "e2e: FAIL: chromium not found at $chromium (apt-get install -y chromium fonts-noto-cjk)" >&2
    exit 1
fi
if ! command -v node >/dev/null; then
    echo "e2e: FAIL: node not found (Node 20 or newer is needed)" >&2
    exit 1
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if (( node_major < 20 )); then
    echo "e2e: FAIL: Node $(node --version) is too old; Node 20 or newer is needed" >&2
    exit 1
fi

if [[ ! -d node_modules/playwright-core ]]; then
    npm ci --no-audit --no-fund
fi

shopt -s nullglob
tests=("$here"/*.test.mjs)
if (( ${#tests[@]} == 0 )); then
    echo "e2e: FAIL: no tests found in $here" >&2
    exit 1
fi

status=0
node --test --test-reporter=spec "${tests[@]}" || status=$?
exit "$status"
