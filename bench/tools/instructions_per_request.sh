#!/usr/bin/env bash
# User-space instructions per request of the Quarry server, counted by callgrind (which, unlike
# time, does not drift with the machine): the server runs under valgrind --tool=callgrind, the
# load is bench/wrk's point select or insert from wrk -t1 -cCONNS, the counters are zeroed after
# a warm-up and the total of all threads is divided by the requests of the measured run.
#
#   bench/tools/instructions_per_request.sh select|insert [quarry serve flags...]
#   e.g. ... insert --no-change-log     (what change capture costs: run both and compare)
#
# Needs valgrind and wrk (apt-get install valgrind wrk) and build/src/cli/quarry. Env: CONNS
# (16), DURATION (10 s), QUARRY_BIN, PORT (29091). Loopback only; stops by itself.
set -euo pipefail
kind=${1:?usage: instructions_per_request.sh select|insert [serve flags...]}
shift
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${QUARRY_BIN:-$root/build/src/cli/quarry}
port=${PORT:-29091}
case "$kind" in
  select) lua=$root/bench/wrk/point_select.lua ;;
  insert) lua=$root/bench/wrk/insert.lua ;;
  *) echo "instructions_per_request.sh: expected select or insert, not $kind" >&2; exit 2 ;;
esac
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$bin" serve \
  --listen "127.0.0.1:$port" --data "$work/data" --no-auth --log-level warn "$@" \
  >"$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  curl -sf "127.0.0.1:$port/health" >/dev/null && break
  sleep 0.3
done
seed='{"requests":[{"type":"execute","stmt":{"sql":"CREATE TABLE IF NOT EXISTS kv(id INTEGER PRIMARY KEY, v TEXT)"}},{"type":"execute","stmt":{"sql":"CREATE TABLE IF NOT EXISTS log(id INTEGER PRIMARY KEY, v TEXT)"}},{"type":"execute","stmt":{"sql":"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<100000) INSERT INTO kv SELECT x, '"'value-'"'||x FROM c"}},{"type":"close"}]}'
curl -sf -H 'Content-Type: application/json' --data-binary "$seed" \
  "127.0.0.1:$port/v2/pipeline" >/dev/null
export KV_ROWS=100000
wrk -t1 -c"${CONNS:-16}" -d4s -s "$lua" "http://127.0.0.1:$port/v2/pipeline" >/dev/null
callgrind_control -z "$pid" >/dev/null 2>&1
wrk -t1 -c"${CONNS:-16}" -d"${DURATION:-10}s" -s "$lua" "http://127.0.0.1:$port/v2/pipeline" \
  >"$work/wrk.txt"
callgrind_control -d "$pid" >/dev/null 2>&1
requests=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
kill "$pid"
wait "$pid" 2>/dev/null || true
dump=$(ls -t "$work"/cg.out.* | head -1)
total=$(awk '/^(summary|totals):/ {print $2; exit}' "$dump")
echo "$kind $*: $requests requests, $((total / requests)) user-space instructions per request"
