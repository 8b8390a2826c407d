#!/usr/bin/env bash
# Installs Debian's Prometheus (which brings promtool): `mivaa up` runs it to scrape the mesh,
# and the alert-rule tests run `promtool check rules` / `promtool test rules`.
# Idempotent: skips what is already there. The package's own system service is not used
# (the mesh starts its own Prometheus, unprivileged, with its data in the state folder).
#
#   tools/install_prometheus.sh
set -euo pipefail

if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_prometheus: no apt-get here; install Prometheus 2.x (prometheus and promtool on PATH)" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus
prometheus --version | head -1
