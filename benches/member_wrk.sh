#!/usr/bin/env bash
# Load test of the member endpoint's status lookups: one million synthetic orders
# (`keydesk fixtures generate --orders 1000000 --seed 1`), `keydesk serve` on loopback, and wrk asking
# for random orders with their right phone tails (GET /api/v1/orders/{no}?phone_tail=NNNN).
# Prints requests/s, latency percentiles and the endpoint's peak resident memory.
#
#   benches/member_wrk.sh [sqlite|postgres|both]      (default: both)
#
# Environment: ORDERS (1000000), DURATION (30s), CONNECTIONS (64), THREADS (2), KEYS (20000),
# DATABASE_URL (PostgreSQL admin URL, default postgres://postgres@127.0.0.1:5432/postgres),
# BENCH_DIR (where the SQLite file and samples live; reused between runs, default target/member-bench).
# Targets (issue 7): SQLite ≥ 20,000 req/s with p99 ≤ 10 ms; PostgreSQL ≥ 10,000 req/s; RSS ≤ 100 MB.
set -euo pipefail
cd "$(dirname "$0")/.."

WHICH=${1:-both}
ORDERS=${ORDERS:-1000000}
DURATION=${DURATION:-30s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
KEYS=${KEYS:-20000}
PG_ADMIN=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
TARGET=${CARGO_TARGET_DIR:-target}
BENCH_DIR=${BENCH_DIR:-$TARGET/member-bench}
mkdir -p "$BENCH_DIR"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v sqlite3 >/dev/null || { apt-get update -qq && apt-get install -y -qq sqlite3 >/dev/null; }
cargo build --release --bin keydesk
BIN=$TARGET/release/keydesk
export KEYDESK_LOG__DIR=$BENCH_DIR/logs KEYDESK_LOG__LEVEL=warn
unset KEYDESK_CONFIG

cat > "$BENCH_DIR/lookup.lua" <<'LUA'
local paths = {}
for line in io.lines(os.getenv("KEYS_FILE")) do paths[#paths + 1] = line end
local i = 0
init = function(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  i = math.random(#paths)
end
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
LUA

peak_rss() { # pid seconds -> peak VmRSS in kB, sampled every 0.2 s
  local pid=$1 until=$(( $(date +%s) + $2 )) peak=0 now
  while [ "$(date +%s)" -lt "$until" ] && kill -0 "$pid" 2>/dev/null; do
    now=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ "${now:-0}" -gt "$peak" ] && peak=$now
    sleep 0.2
  done
  echo "$peak"
}

bench() { # name url sample-command...
  local name=$1 url=$2; shift 2
  local keys=$BENCH_DIR/$name.keys port=$(( 20000 + RANDOM % 20000 ))
  export KEYDESK_DATABASE__URL=$url
  local have
  have=$("$@" "SELECT count(*) FROM orders" 2>/dev/null | tail -1 || echo 0)
  if [ "${have:-0}" -lt "$ORDERS" ]; then
    echo "== $name: loading $ORDERS orders" >&2
    "$BIN" db migrate
    time "$BIN" fixtures generate --orders "$ORDERS" --seed 1
  fi
  "$@" "SELECT '/api/v1/orders/' || order_no || '?phone_tail=' || phone_tail FROM orders ORDER BY random() LIMIT $KEYS" > "$keys"
  KEYDESK_MEMBER__LISTEN=127.0.0.1:$port "$BIN" serve 2>"$BENCH_DIR/$name.serve.log" &
  local pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  KEYS_FILE=$keys wrk -t"$THREADS" -c"$CONNECTIONS" -d5s -s "$BENCH_DIR/lookup.lua" "http://127.0.0.1:$port" >/dev/null
  local secs=${DURATION%s}
  peak_rss "$pid" "$(( secs + 2 ))" > "$BENCH_DIR/$name.rss" &
  local sampler=$!
  echo "== $name: wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, $ORDERS orders"
  KEYS_FILE=$keys wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$BENCH_DIR/lookup.lua" "http://127.0.0.1:$port" | tee "$BENCH_DIR/$name.wrk"
  wait "$sampler"
  echo "== $name: peak RSS of keydesk serve: $(( $(cat "$BENCH_DIR/$name.rss") / 1024 )) MB"
  curl -s "http://127.0.0.1:$port/metrics" | grep -E '^keydesk_member_requests_total' || true
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}

sqlite_q() { sqlite3 "$BENCH_DIR/bench.db" "$1"; }
pg_url=${PG_ADMIN%/*}/keydesk_bench
pg_q() { psql -qtA "$pg_url" -c "$1"; }

case $WHICH in
  sqlite|both) bench sqlite "sqlite://$BENCH_DIR/bench.db" sqlite_q ;;
esac
case $WHICH in
  postgres|both)
    psql -qtA "$PG_ADMIN" -c "SELECT 1 FROM pg_database WHERE datname = 'keydesk_bench'" | grep -q 1 \
      || psql -q "$PG_ADMIN" -c "CREATE DATABASE keydesk_bench"
    bench postgres "$pg_url" pg_q ;;
esac
