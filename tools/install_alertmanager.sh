#!/usr/bin/env bash
# Install the real Alertmanager the end-to-end service test routes alerts through (idempotent, quiet):
#   prometheus-alertmanager  (Debian package; the binary is /usr/bin/prometheus-alertmanager)
# Used by .ci/run and `make test` for the tests marked `alertmanager` (tests/service/), together with
# tools/install_prometheus.sh (the Prometheus that evaluates the alert rule).
# Prints the path of the binary on success.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/bin/$1" ]; }

if ! have prometheus-alertmanager; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-cache policy prometheus-alertmanager 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    $SUDO apt-get update -qq >/dev/null
  fi
  # --no-install-recommends: the server only.
  log="$(mktemp)"
  if ! $SUDO apt-get install -y -qq --no-install-recommends prometheus-alertmanager >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
  # The package starts a system service where systemd runs; the tests start their own server.
  if command -v systemctl >/dev/null 2>&1; then
    if systemctl is-active --quiet prometheus-alertmanager 2>/dev/null; then
      $SUDO systemctl stop prometheus-alertmanager >/dev/null 2>&1 || true
    fi
  fi
fi

command -v prometheus-alertmanager || echo "/usr/bin/prometheus-alertmanager"
