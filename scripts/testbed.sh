#!/usr/bin/env bash
# Start/stop the local test bed by hand: CNCF distribution + the ACR-compatible service,
# both on 127.0.0.1, TLS with a throwaway CA. State lives in .testbed/ (gitignored).
#
#   scripts/testbed.sh start     # prints endpoint, CA, admin credentials and an `export` line
#   scripts/testbed.sh status
#   scripts/testbed.sh env       # just the export line:  eval "$(scripts/testbed.sh env)"
#   scripts/testbed.sh aad-token [audience]   # a fake AAD token the bed trusts
#   scripts/testbed.sh stop
#
# Options (env): PYTHON (default .venv/bin/python), TESTBED_DIR (default .testbed),
# TESTBED_ANONYMOUS_PULL=1 to start with anonymous pull enabled.
# Tests can attach to it with AZURECR_TESTBED_STATE=.testbed/state.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
DIR="${TESTBED_DIR:-$ROOT/.testbed}"
STATE="$DIR/state"
PIDFILE="$DIR/testbed.pid"
LOG="$DIR/serve.log"

cd "$ROOT"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"

running() {
  [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

info() {
  "$PYTHON" -m tests.testbed info --state "$STATE"
  echo
  "$PYTHON" -m tests.testbed env --state "$STATE"
}

case "${1:-}" in
  start)
    if running; then
      echo "test bed already running (pid $(cat "$PIDFILE"))"
      info
      exit 0
    fi
    mkdir -p "$STATE"
    rm -f "$STATE/testbed.json"
    args=(serve --state "$STATE")
    [[ "${TESTBED_ANONYMOUS_PULL:-0}" == 1 ]] && args+=(--anonymous-pull)
    setsid "$PYTHON" -m tests.testbed "${args[@]}" </dev/null >>"$LOG" 2>&1 &
    echo $! >"$PIDFILE"
    for _ in $(seq 1 300); do
      [[ -f "$STATE/testbed.json" ]] && break
      if ! running; then
        echo "test bed failed to start; last log lines:" >&2
        tail -n 30 "$LOG" >&2
        rm -f "$PIDFILE"
        exit 1
      fi
      sleep 0.1
    done
    [[ -f "$STATE/testbed.json" ]] || { echo "timed out; see $LOG" >&2; exit 1; }
    info
    ;;
  stop)
    if ! running; then
      echo "test bed not running"
      rm -f "$PIDFILE"
      exit 0
    fi
    pid="$(cat "$PIDFILE")"
    kill -TERM "$pid"
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "still running after 10 s; killing its process group" >&2
      kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    rm -f "$PIDFILE"
    echo "test bed stopped"
    ;;
  status)
    if running; then
      echo "running (pid $(cat "$PIDFILE"))"
      info
    else
      echo "not running"
      exit 1
    fi
    ;;
  env)
    "$PYTHON" -m tests.testbed env --state "$STATE"
    ;;
  aad-token)
    "$PYTHON" -m tests.testbed aad-token --state "$STATE" ${2:+--audience "$2"}
    ;;
  *)
    echo "usage: $0 start|stop|status|env|aad-token [audience]" >&2
    exit 2
    ;;
esac
