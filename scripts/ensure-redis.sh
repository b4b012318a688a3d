#!/usr/bin/env bash
# Makes Debian's redis-server binary available to the tests (installing it if missing). The tests start their own
# servers on free loopback ports (tests/TestSupport RedisServer); nothing is started here, and a system service the
# package may have started is left alone.
set -euo pipefail

if [ -x /usr/bin/redis-server ]; then
  exit 0
fi
echo "[redis] installing redis-server" >&2
log=$(mktemp)
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; } >"$log" 2>&1; then
  cat "$log" >&2
  exit 1
fi
rm -f "$log"
