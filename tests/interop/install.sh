#!/usr/bin/env bash
# Installs the npm modules of the interop suites (socket.io and
# socket.io-client, pinned by js/package-lock.json) into js/node_modules,
# unless the installed ones already match the lock file. Used by run.sh and
# by scripts/test.sh before the Rust tests (which start the Node reference
# server).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
stamp="$HERE/js/node_modules/.interop-lock-sha256"
want="$(sha256sum "$HERE/js/package-lock.json" | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi
echo "interop: installing JS dependencies (npm ci)"
(cd "$HERE/js" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || {
  echo "interop: error: npm ci failed" >&2
  exit 2
}
echo "$want" >"$stamp"
