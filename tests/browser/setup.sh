#!/usr/bin/env bash
# Installs what the browser tests need: Debian's Chromium (no browser download
# by Playwright) and the pinned npm packages. Idempotent; fast when done.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  echo "setup: installing chromium (apt)" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

# npm ci only when node_modules does not match package-lock.json.
STAMP=node_modules/.wirehub-lock-stamp
if [ ! -f "$STAMP" ] || ! cmp -s package-lock.json "$STAMP"; then
  echo "setup: npm ci" >&2
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$STAMP"
fi
