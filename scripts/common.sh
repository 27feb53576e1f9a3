# Shared by the scripts (source it): free ports, waiting for a server, the debug binaries.

# A TCP port on 127.0.0.1 that nothing listens on now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Waits until URL answers (any HTTP status with `any`, else a 2xx), up to SECONDS (default 15);
# fails when it never does.
wait_for_http() {
  local url=$1 seconds=${2:-15} mode=${3:-ok} tries
  tries=$((seconds * 10))
  for _ in $(seq 1 "$tries"); do
    if [ "$mode" = any ]; then curl -s -o /dev/null "$url" && return 0; else curl -sf -o /dev/null "$url" && return 0; fi
    sleep 0.1
  done
  echo "no answer from $url within $seconds s" >&2
  return 1
}

# CUTOVER_BIN and DEMO_APP_BIN: the debug builds, built when missing.
use_debug_binaries() {
  local bin_dir
  bin_dir=$(swift build --show-bin-path)
  export CUTOVER_BIN=${CUTOVER_BIN:-$bin_dir/cutover} DEMO_APP_BIN=${DEMO_APP_BIN:-$bin_dir/cutover-demo-app}
  [ -x "$CUTOVER_BIN" ] && [ -x "$DEMO_APP_BIN" ] || { swift build --product cutover && swift build --product cutover-demo-app; }
}
