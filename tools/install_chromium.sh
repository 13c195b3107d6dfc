#!/usr/bin/env bash
# Install headless Chromium (Debian package `chromium`) for the screenshot test of the operational
# review's HTML page (tests/scan/test_review_html.py, marked `chromium`). Idempotent and quiet.
# Prints the path of the binary on success.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/bin/$1" ]; }

if ! have chromium; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-cache policy chromium 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    $SUDO apt-get update -qq >/dev/null
  fi
  log="$(mktemp)"
  # --no-install-recommends: the browser only (no drivers, no extra fonts beyond its dependencies).
  if ! $SUDO apt-get install -y -qq --no-install-recommends chromium >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
fi

command -v chromium || echo "/usr/bin/chromium"
