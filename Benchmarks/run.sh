#!/usr/bin/env bash
# Runs one OCPP load scenario against the do-nothing echo and then against our server (release
# builds, loopback, same generator and flags), and prints both side by side with the ratios.
#
#   Benchmarks/run.sh closed [CHARGERS]   closed loop (default 100 chargers)
#   Benchmarks/run.sh idle [CHARGERS]     idle chargers, Heartbeat every HEARTBEAT s (default 10000)
#
# Environment: DURATION (measured seconds, default 30; idle: the hold, default 60), WARMUP (10),
# RAMP (connections/s, 1000), HEARTBEAT (30), THREADS (generator event loops, 1), REST_RATE
# (GET /api/v1/stations per second during the window, 10; 0 = off), SKIP_BUILD=1 (use existing
# binaries), OUT (directory for the JSON lines and server logs; default a temp dir).
# Everything it starts is stopped on exit; the server's data lives in a fresh temp directory.
set -euo pipefail

MODE=${1:-closed}
case "$MODE" in
closed) CHARGERS=${2:-100}; DURATION=${DURATION:-30} ;;
idle) CHARGERS=${2:-10000}; DURATION=${DURATION:-60} ;;
*) echo "usage: $0 closed|idle [CHARGERS]" >&2; exit 2 ;;
esac
WARMUP=${WARMUP:-10}
RAMP=${RAMP:-1000}
HEARTBEAT=${HEARTBEAT:-30}
THREADS=${THREADS:-1}
REST_RATE=${REST_RATE:-10}
ECHO_PORT=${ECHO_PORT:-18901}
SERVER_PORT=${SERVER_PORT:-18902}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LOAD_PACKAGE="$ROOT/Benchmarks/OCPPLoad"
SERVER_BIN=${SERVER_BIN:-$ROOT/.build-release/release/server}
OUT=${OUT:-$(mktemp -d -t ocpp-bench.XXXXXX)}
mkdir -p "$OUT"
DATA=$(mktemp -d -t ocpp-bench-data.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$DATA"
}
trap cleanup EXIT

# Each side needs a socket per charger plus a few.
ulimit -n "$(ulimit -Hn)"
if (( $(ulimit -n) < CHARGERS + 100 )); then
    echo "open-file limit $(ulimit -n) is too low for $CHARGERS chargers" >&2
    exit 1
fi

if [[ "${SKIP_BUILD:-}" != 1 ]]; then
    (cd "$ROOT" && swift build -c release --scratch-path "$ROOT/.build-release" --product server)
    (cd "$LOAD_PACKAGE" && swift build -c release)
fi
LOAD_BIN="$LOAD_PACKAGE/.build/release/ocpp-load"
ECHO_BIN="$LOAD_PACKAGE/.build/release/ocpp-echo"

# The generator's own bound: ramp + warm-up + window + closing, with room to spare.
LIMIT=$(( CHARGERS / RAMP + WARMUP + DURATION + 120 ))
GENERATOR_FLAGS=(--mode "$MODE" --chargers "$CHARGERS" --duration "$DURATION" --warmup "$WARMUP" --ramp "$RAMP"
    --heartbeat "$HEARTBEAT" --threads "$THREADS" --host 127.0.0.1)

wait_for() { # url seconds
    for _ in $(seq 1 $(( $2 * 10 ))); do
        curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "not ready: $1" >&2
    return 1
}

echo "== echo baseline ($MODE, $CHARGERS chargers) =="
"$ECHO_BIN" --port "$ECHO_PORT" >"$OUT/echo.log" 2>&1 &
ECHO_PID=$!
PIDS+=("$ECHO_PID")
for _ in $(seq 1 100); do grep -q listening "$OUT/echo.log" && break; sleep 0.1; done
timeout "$LIMIT" "$LOAD_BIN" "${GENERATOR_FLAGS[@]}" --label echo --port "$ECHO_PORT" --pid "$ECHO_PID" \
    --prefix ECHO- --json-file "$OUT/echo.json"
kill "$ECHO_PID"
wait "$ECHO_PID" 2>/dev/null || true

echo "== server ($MODE, $CHARGERS chargers) =="
ADMIN_EMAIL=bench-admin@example.com
ADMIN_PASSWORD="bench-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
# The generator's chargers send as fast as they are answered, far above a real charger's rate:
# the per-charger throttle (ocppMaxMessagesPerSecond) is lifted so the engine itself is measured.
CSMS_OCPP_AUTO_REGISTER=true CSMS_LOG_LEVEL=warning CSMS_DATA="$DATA" CSMS_PORT="$SERVER_PORT" CSMS_HOST=127.0.0.1 \
    CSMS_ADMIN_EMAIL="$ADMIN_EMAIL" CSMS_ADMIN_PASSWORD="$ADMIN_PASSWORD" CSMS_BCRYPT_COST=4 \
    CSMS_OCPP_MAX_MESSAGES_PER_SECOND=0 \
    "$SERVER_BIN" serve >"$OUT/server.log" 2>&1 &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
wait_for "http://127.0.0.1:$SERVER_PORT/health" 60
# The chargers' tag, so Authorize and StartTransaction take the accepted path.
TOKEN=$(curl -fsS -H 'Content-Type: application/json' \
    -d "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}" \
    "http://127.0.0.1:$SERVER_PORT/api/v1/auth/login" | jq -r .accessToken)
curl -fsS -o /dev/null -X PUT -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d '{"status":"Accepted"}' "http://127.0.0.1:$SERVER_PORT/api/v1/id-tags/BENCH"
OCPP_LOAD_REST_EMAIL="$ADMIN_EMAIL" OCPP_LOAD_REST_PASSWORD="$ADMIN_PASSWORD" \
    timeout "$LIMIT" "$LOAD_BIN" "${GENERATOR_FLAGS[@]}" --label server --port "$SERVER_PORT" --pid "$SERVER_PID" \
    --prefix LOAD- --rest-rate "$REST_RATE" --json-file "$OUT/server.json"
kill "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true

echo "== side by side =="
"$LOAD_BIN" compare "$OUT/echo.json" "$OUT/server.json" | tee "$OUT/compare.txt"
echo "(results in $OUT)"
