#!/usr/bin/env bash
# Install the real metrics servers the backend tests run on loopback (idempotent, quiet):
#   prometheus        (Debian package; brings promtool, used to backfill OpenMetrics into a TSDB)
#   victoria-metrics  (Debian package; a second server speaking the Prometheus query API)
# Used by .ci/run and `make test` for the tests marked `prometheus` (tests/sources/).
# Prints the paths of the binaries on success.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/bin/$1" ]; }

missing=()
have prometheus && have promtool || missing+=(prometheus)
have victoria-metrics || missing+=(victoria-metrics)

if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-cache policy "${missing[@]}" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    $SUDO apt-get update -qq >/dev/null
  fi
  # --no-install-recommends: the servers only, no node exporter or web assets.
  log="$(mktemp)"
  if ! $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
  # The packages start system services where systemd runs; the tests start their own servers.
  if command -v systemctl >/dev/null 2>&1; then
    for svc in prometheus victoria-metrics; do
      if systemctl is-active --quiet "$svc" 2>/dev/null; then $SUDO systemctl stop "$svc" >/dev/null 2>&1 || true; fi
    done
  fi
fi

for bin in prometheus promtool victoria-metrics; do
  command -v "$bin" || echo "/usr/bin/$bin"
done
