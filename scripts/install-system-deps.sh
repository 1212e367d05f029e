#!/usr/bin/env bash
# Debian packages the test suite drives for real: nginx, Prometheus (promtool), Alertmanager
# (amtool and the daemon: alert delivery), rsync (make deploy), docker-compose (config
# validation only), Node.js + npm (npm L402 clients, nostr-tools), and libfaketime (not a
# test's: the calibration benches run satrank on simnet's world clock, bench/world_clock.py).
# Installs only what is missing, so a machine that has them spends no time here.
set -euo pipefail
missing=""
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$missing nginx"
command -v promtool >/dev/null 2>&1 || missing="$missing prometheus"
command -v amtool >/dev/null 2>&1 || missing="$missing prometheus-alertmanager"
command -v rsync >/dev/null 2>&1 || missing="$missing rsync"
command -v docker-compose >/dev/null 2>&1 || missing="$missing docker-compose"
command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
command -v faketime >/dev/null 2>&1 || missing="$missing faketime"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages:$missing (install them as root: apt-get install$missing)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086  # word splitting of the package list is intended
apt-get install -y -q --no-install-recommends $missing
