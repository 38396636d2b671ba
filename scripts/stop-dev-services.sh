#!/usr/bin/env bash
# Stop the services that scripts/setup.sh started itself (by the pids it recorded), nothing else.
set -u
cd "$(dirname "$0")/.."
for name in dockerd; do
  pidfile=".tsk-dev/$name.pid"
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" && echo "stopped $name (pid $pid)"
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  fi
  rm -f "$pidfile"
done
