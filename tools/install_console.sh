#!/usr/bin/env bash
# Installs what the web console needs: Debian's Chromium (the Playwright tests drive it;
# no browser is ever downloaded) and console/node_modules from package-lock.json (npm ci).
# Idempotent: skips what is already there.
#
#   tools/install_console.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "install_console: node and npm are needed (Node.js 20.19 or newer)" >&2
    exit 1
fi
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'; then
    echo "install_console: Node.js $(node --version) is too old; Vite needs 20.19 or newer" >&2
    exit 1
fi

if [ ! -x "$CHROMIUM" ]; then
    if command -v apt-get >/dev/null 2>&1; then
        SUDO=""
        if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
        $SUDO apt-get update -qq
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
    else
        echo "install_console: no apt-get here; install Chromium and set CHROMIUM_PATH" >&2
        exit 1
    fi
fi
echo "install_console: $("$CHROMIUM" --version 2>/dev/null | head -1)"

cd "$ROOT/console"
if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.lock-installed; then
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
    cp package-lock.json node_modules/.lock-installed
fi
