#!/usr/bin/env bash
# Quarry benchmark: Quarry vs. a node:http + better-sqlite3 baseline, both on
# 127.0.0.1, measured in the same run. See bench/README.md.
#
# Usage: bench/run.sh            (all scenarios, 10 s per wrk run)
# Knobs (environment):
#   QUARRY_BIN      default <repo>/build/src/cli/quarry; "baseline" = use a
#                   second baseline instance in Quarry's place (self-test of
#                   the harness; also used automatically when the binary is
#                   missing)
#   DURATION=10     seconds per measured wrk run
#   WARMUP=2        seconds of unmeasured wrk load before each measured run
#   THREADS=2 CONNECTIONS=64
#   QUARRY_PORT=28080 BASELINE_PORT=28081 (the next free ports are used if busy)
#   SCENARIOS="point_select insert durable_insert percore_select percore_ws_select
#             percore_insert read_under_write memory data_find_unique data_include data_keyset"
#   NAMESPACES=10000 NS_CONCURRENCY=16   (memory scenario)
#   realtime (not in the default list: run it with SCENARIOS=realtime): RT_SUBSCRIBERS=10000
#                   RT_ACCOUNTS=1000 RT_RATE=1000 RT_SECONDS=10 (bench/realtime_load.mjs:
#                   WebSocket subscribers each filtered on one accountId, inserts per second)
#                   RT_PINNED=1 (server on SERVER_CPU, load generator on LOAD_CPU)
#   DATA_ROWS=100000 KEYSET_ROWS=1000000 KEYSET_PAGE=10000 KEYSET_LIMIT=50
#                   (data API scenarios: posts rows; events rows, the deep page
#                   and its size)
#   SERVER_CPU=1 LOAD_CPU=0 PERCORE_THREADS=1 PERCORE_ROWS=100000
#                   (per-core scenarios: the CPU the server is pinned to, the CPU wrk
#                   is pinned to, wrk's threads there, kv rows)
#   CAPTURE_ROUNDS=3 (percore_insert: rounds alternating --no-change-log and the default,
#                   compared by their medians)
#   SELECT_ROUNDS=5 (percore_select: rounds of the bare server, Quarry and Quarry with a token
#                   one after the other; the verdicts take the median of the rounds' ratios)
#   WS_DEPTH=8      (percore_ws_select: requests ws_load.mjs keeps outstanding on each of its
#                   CONNECTIONS WebSocket streams)
#   SLOW_FSYNC_MS=10 WRITER_CONNECTIONS=4   (read_under_write: every fsync of the durable
#                   servers takes at least this long, 0 = the disk's own; the writer's
#                   connections)
#   QUARRY_EXTRA_ARGS   extra arguments for `quarry serve`
#   QUARRY_TOKEN    sent as a Bearer token by the load clients of the SQL
#                   scenarios (Quarry is started with --no-auth for them anyway;
#                   the data API scenarios run with auth and mint their own)
#   FORCE_NPM_CI=1  run `npm ci` even when the baseline's modules look current
#   KEEP_TMP=1      keep the temporary data directories and logs
#
# Targets are printed for orientation; this script never fails because a
# target is missed (it exits non-zero only when the harness itself breaks).

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
QUARRY_BIN=${QUARRY_BIN:-$REPO/build/src/cli/quarry}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
QUARRY_PORT=${QUARRY_PORT:-28080}
BASELINE_PORT=${BASELINE_PORT:-28081}
SCENARIOS=${SCENARIOS:-"point_select insert durable_insert percore_select percore_ws_select percore_insert read_under_write memory data_find_unique data_include data_keyset"}
SERVER_CPU=${SERVER_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}
PERCORE_THREADS=${PERCORE_THREADS:-1}
PERCORE_ROWS=${PERCORE_ROWS:-100000}
WS_DEPTH=${WS_DEPTH:-8}
CAPTURE_ROUNDS=${CAPTURE_ROUNDS:-3}
SELECT_ROUNDS=${SELECT_ROUNDS:-5}
SLOW_FSYNC_MS=${SLOW_FSYNC_MS:-10}
WRITER_CONNECTIONS=${WRITER_CONNECTIONS:-4}
BARE_PORT=${BARE_PORT:-28082}
NAMESPACES=${NAMESPACES:-10000}
NS_CONCURRENCY=${NS_CONCURRENCY:-16}
DATA_ROWS=${DATA_ROWS:-100000}
KEYSET_ROWS=${KEYSET_ROWS:-1000000}
KEYSET_PAGE=${KEYSET_PAGE:-10000}
KEYSET_LIMIT=${KEYSET_LIMIT:-50}
QUARRY_EXTRA_ARGS=${QUARRY_EXTRA_ARGS:-}
KV_ROWS=10000
RSS_TARGET_MIB=300

RESULTS_DIR=$BENCH_DIR/results
mkdir -p "$RESULTS_DIR"
OUT=$RESULTS_DIR/latest.txt
TMP=$(mktemp -d "${TMPDIR:-/tmp}/quarry-bench.XXXXXX")
export KV_ROWS

# Everything printed from here on also goes to results/latest.txt.
exec > >(tee "$OUT") 2>&1

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { log "ERROR: $*"; exit 1; }

# ------------------------------------------------------------ processes --

PIDS=()
NOTES=()
cleanup() {
  local p
  for p in "${PIDS[@]:-}"; do
    if [[ -n "$p" ]]; then kill "$p" 2>/dev/null || true; fi
  done
  for p in "${PIDS[@]:-}"; do
    if [[ -n "$p" ]]; then wait "$p" 2>/dev/null || true; fi
  done
  if [[ "${KEEP_TMP:-0}" == 1 ]]; then
    echo "temporary files kept in $TMP"
  else
    rm -rf "$TMP"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# stop_pid PID [NAME]: SIGTERM, then SIGKILL after 10 s. A server that does
# not exit cleanly (status 0, or death by the SIGTERM itself) gets a note in
# the report.
stop_pid() {
  local pid=$1 name=${2:-} i rc=0 killed=0
  kill "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid" 2>/dev/null || true
    killed=1
  fi
  wait "$pid" 2>/dev/null || rc=$?
  if [[ -n "$name" ]]; then
    if [[ "$killed" == 1 ]]; then
      NOTES+=("$name did not exit within 10 s of SIGTERM; killed")
    elif [[ "$rc" != 0 && "$rc" != 143 ]]; then
      NOTES+=("$name exited with status $rc on SIGTERM (see $TMP/$name.log; KEEP_TMP=1 keeps it)")
      log "$name exited with status $rc on SIGTERM; last lines of its log:"
      tail -n 5 "$TMP/$name.log" 2>/dev/null | sed 's/^/    /' || true
    fi
  fi
}

# fg CMD...: runs a load client in the background and waits for it, so that
# SIGTERM / SIGINT reach the trap (and the cleanup) at once instead of after
# the client has finished. Returns the client's exit status.
fg() {
  local pid rc=0
  "$@" &
  pid=$!
  PIDS+=("$pid")
  wait "$pid" || rc=$?
  return "$rc"
}

# wait_ready PID LOGFILE: until the log says "listening on" (30 s max).
wait_ready() {
  local pid=$1 logf=$2 i
  for ((i = 0; i < 300; i++)); do
    if grep -q "listening on" "$logf" 2>/dev/null; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      log "server exited before it was ready; its log:"
      sed 's/^/    /' "$logf" || true
      return 1
    fi
    sleep 0.1
  done
  log "server not ready after 30 s; its log:"
  sed 's/^/    /' "$logf" || true
  return 1
}

SERVER_PID=
# Prepended to every server command line (the per-core scenarios set it to `taskset -c N`
# and, for the slow-disk run, `env LD_PRELOAD=...`); empty otherwise.
SERVER_PREFIX=()
# start_baseline PORT NAME [--durable]
start_baseline() {
  local port=$1 name=$2
  shift 2
  mkdir -p "$TMP/$name"
  "${SERVER_PREFIX[@]}" node "$BENCH_DIR/baseline/server.mjs" --port "$port" --db "$TMP/$name/baseline.db" "$@" \
    >"$TMP/$name.log" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  wait_ready "$SERVER_PID" "$TMP/$name.log" || die "baseline ($name) did not start"
}

# start_quarry PORT NAME [--with-auth] [--log-level LEVEL] [--durable ...]: data folder
# $TMP/NAME, log $TMP/NAME.log. Without --with-auth it runs with --no-auth; the log level
# is warn unless given.
start_quarry() {
  local port=$1 name=$2 auth=--no-auth level=warn
  shift 2
  while [[ $# -gt 0 ]]; do
    case $1 in
      --with-auth) auth= ; shift ;;
      --log-level) level=$2; shift 2 ;;
      *) break ;;
    esac
  done
  if [[ "$STANDIN" == 1 ]]; then
    start_baseline "$port" "$name" "$@"
    return
  fi
  mkdir -p "$TMP/$name"
  # shellcheck disable=SC2086
  "${SERVER_PREFIX[@]}" "$QUARRY_BIN" serve --listen "127.0.0.1:$port" --data "$TMP/$name" $auth --log-level "$level" "$@" \
    $QUARRY_EXTRA_ARGS >"$TMP/$name.log" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  wait_ready "$SERVER_PID" "$TMP/$name.log" || die "quarry ($name) did not start"
}

rss_kib() {
  awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0
}

# --------------------------------------------------------------- helpers --

# post URL JSON [TOKEN] -> response body on stdout (TOKEN, else $QUARRY_TOKEN, as Bearer)
post() {
  local auth=() tok=${3:-${QUARRY_TOKEN:-}}
  if [[ -n "$tok" ]]; then auth=(-H "Authorization: Bearer $tok"); fi
  curl -sS --max-time 120 -H 'Content-Type: application/json' "${auth[@]}" --data-binary "$2" "$1"
}

# seed_json ROWS -> the pipeline creating kv (ids 1..ROWS, values 'value-<id>') and an empty log.
seed_json() {
  printf '%s' '{"baton":null,"requests":[
 {"type":"execute","stmt":{"sql":"CREATE TABLE IF NOT EXISTS kv(id INTEGER PRIMARY KEY, v TEXT)"}},
 {"type":"execute","stmt":{"sql":"CREATE TABLE IF NOT EXISTS log(id INTEGER PRIMARY KEY, v TEXT)"}},
 {"type":"execute","stmt":{"sql":"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<'"$1"') INSERT INTO kv SELECT x, '"'value-'"'||x FROM c"}},
 {"type":"close"}]}'
}
CHECK_JSON='{"baton":null,"requests":[{"type":"execute","stmt":{"sql":"SELECT count(*) FROM kv"}},{"type":"close"}]}'

# seed PORT WHO [ROWS [TOKEN]]: same schema and rows in both servers (namespace "default");
# ROWS defaults to KV_ROWS, TOKEN to $QUARRY_TOKEN.
seed() {
  local url="http://127.0.0.1:$1/v2/pipeline" who=$2 rows=${3:-$KV_ROWS} tok=${4:-} r
  r=$(post "$url" "$(seed_json "$rows")" "$tok") || die "seeding $who failed (curl)"
  if [[ "$r" == *'"type":"error"'* || "$r" != *'"results"'* ]]; then
    die "seeding $who failed: ${r:0:400}"
  fi
  r=$(post "$url" "$CHECK_JSON" "$tok") || die "checking $who failed (curl)"
  [[ "$r" == *"\"value\":\"$rows\""* ]] || die "$who: kv does not hold $rows rows: ${r:0:400}"
}

# cpu_ticks PID: user+system CPU time of a process (all threads), in ticks.
cpu_ticks() {
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0
}
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

# ctx_switches PID: voluntary + involuntary context switches of all the process's threads
# (/proc/PID/status counts only the thread it names, so every task is summed).
ctx_switches() {
  cat /proc/"$1"/task/*/status 2>/dev/null |
    awk '/^(voluntary|nonvoluntary)_ctxt_switches:/ { n += $2 } END { print n + 0 }'
}
# cpu_busy CPU -> "BUSY TOTAL" ticks of one CPU from /proc/stat (busy excludes idle and iowait).
cpu_busy() {
  awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat
}

# run_timed FILE CMD...: CMD, with its user and system CPU seconds written to FILE by GNU time
# when /usr/bin/time exists (the `time` package; wrk's own CPU use, W_WRK_CPU).
run_timed() {
  local f=$1
  shift
  if [[ -x /usr/bin/time ]]; then /usr/bin/time -f '%U %S' -o "$f" "$@"; else "$@"; fi
}
# The load generator's command prefix and thread count; the per-core scenarios pin wrk to one
# CPU with `taskset -c N` and give it one thread.
WRK_PREFIX=()
WRK_THREADS=$THREADS

# run_wrk SCRIPT PORT TAG SERVER_PID [PATH [VAR=VALUE...]] -> sets W_RPS W_P99 W_ERR
# W_CPU (server CPU microseconds per request), W_CSW (server context switches per request),
# W_WRK_CPU (wrk's own CPU time in % of one core), W_LOAD_BUSY / W_SERVER_BUSY (% busy of
# CPUs LOAD_CPU / SERVER_CPU over the measured
# window) and W_FOREIGN (% of SERVER_CPU busy with something other than the server: other
# processes, or wrk when it is not pinned); raw output in $TMP/TAG.wrk. PATH defaults to
# /v2/pipeline; the VAR=VALUE pairs are the load script's environment (BENCH_BODY_FILE,
# QUARRY_TOKEN, KV_ROWS, ...).
run_wrk() {
  local script=$1 port=$2 tag=$3 spid=$4 url="http://127.0.0.1:$2${5:-/v2/pipeline}"
  shift 4
  if [[ $# -gt 0 ]]; then shift; fi
  if [[ "$WARMUP" -gt 0 ]]; then
    fg env "$@" "${WRK_PREFIX[@]}" wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" \
      -s "$BENCH_DIR/wrk/$script.lua" "$url" >"$TMP/$tag.warmup" 2>&1 || true
  fi
  measure_begin "$spid"
  rm -f "$TMP/$tag.time"
  fg run_timed "$TMP/$tag.time" env "$@" "${WRK_PREFIX[@]}" wrk -t"$WRK_THREADS" -c"$CONNECTIONS" \
    -d"${DURATION}s" --timeout 10s --latency -s "$BENCH_DIR/wrk/$script.lua" "$url" >"$TMP/$tag.wrk" 2>&1 || true
  measure_end "$spid" "$tag" "$TMP/$tag.wrk" "$RESULTS_DIR/$tag.wrk.txt" wrk
}

# run_ws PORT TAG SERVER_PID [PATH [VAR=VALUE...]]: run_wrk's measurement with the WebSocket
# load of ws_load.mjs instead of wrk (CONNECTIONS sockets, WS_DEPTH requests outstanding on
# each, ids random in 1..KV_ROWS of the pairs' environment): the same W_* variables, W_WRK_CPU
# being node's CPU. PATH defaults to /; raw output in $TMP/TAG.ws.
run_ws() {
  local port=$1 tag=$2 spid=$3 url="ws://127.0.0.1:$1${4:-/}"
  shift 3
  if [[ $# -gt 0 ]]; then shift; fi
  local load=(node "$BENCH_DIR/ws_load.mjs" --url "$url" --connections "$CONNECTIONS" --depth "$WS_DEPTH")
  if [[ "$WARMUP" -gt 0 ]]; then
    fg env "$@" "${WRK_PREFIX[@]}" "${load[@]}" --duration "$WARMUP" >"$TMP/$tag.warmup" 2>&1 || true
  fi
  measure_begin "$spid"
  rm -f "$TMP/$tag.time"
  fg run_timed "$TMP/$tag.time" env "$@" "${WRK_PREFIX[@]}" "${load[@]}" --duration "$DURATION" \
    >"$TMP/$tag.ws" 2>&1 || true
  measure_end "$spid" "$tag" "$TMP/$tag.ws" "$RESULTS_DIR/$tag.ws.txt" ws_load.mjs
}

# measure_begin SERVER_PID / measure_end SERVER_PID TAG RAW COPY LOADER: the counters before
# and after a measured load run (server CPU ticks and context switches, CPUs LOAD_CPU and
# SERVER_CPU busy), then the W_* variables from them and the BENCH_RESULT line of RAW (copied
# to COPY). The load generator's CPU comes from $TMP/TAG.time (run_timed).
measure_begin() {
  M_C0=$(cpu_ticks "$1")
  M_X0=$(ctx_switches "$1")
  read -r M_LB0 M_LT0 < <(cpu_busy "$LOAD_CPU")
  read -r M_SB0 M_ST0 < <(cpu_busy "$SERVER_CPU")
}
measure_end() {
  local spid=$1 tag=$2 raw=$3 copy=$4 loader=$5 line c0=$M_C0 c1 x0=$M_X0 x1
  local lb0=$M_LB0 lt0=$M_LT0 lb1 lt1 sb0=$M_SB0 st0=$M_ST0 sb1 st1
  c1=$(cpu_ticks "$spid")
  x1=$(ctx_switches "$spid")
  read -r lb1 lt1 < <(cpu_busy "$LOAD_CPU")
  read -r sb1 st1 < <(cpu_busy "$SERVER_CPU")
  cp "$raw" "$copy"
  line=$(grep '^BENCH_RESULT' "$raw" || true)
  if [[ -z "$line" ]]; then
    log "$loader produced no result for $tag:"
    sed 's/^/    /' "$raw"
    W_RPS=0 W_P99=0 W_ERR=-1 W_CPU=0 W_CSW=0 W_WRK_CPU=0 W_LOAD_BUSY=0 W_SERVER_BUSY=0 W_FOREIGN=0
    return
  fi
  W_CSW=$(awk -v x=$((x1 - x0)) -v n="$(field "$line" requests)" \
    'BEGIN { if (n > 0) printf "%.2f", x / n; else print 0 }')
  W_WRK_CPU=$(awk -v d="$DURATION" 'END { if (NF == 2) printf "%.0f", ($1 + $2) / d * 100 }' "$TMP/$tag.time" 2>/dev/null || true)
  W_WRK_CPU=${W_WRK_CPU:-?}
  W_LOAD_BUSY=$(awk -v b=$((lb1 - lb0)) -v t=$((lt1 - lt0)) 'BEGIN { printf "%.0f", (t > 0) ? 100 * b / t : 0 }')
  W_SERVER_BUSY=$(awk -v b=$((sb1 - sb0)) -v t=$((st1 - st0)) 'BEGIN { printf "%.0f", (t > 0) ? 100 * b / t : 0 }')
  W_FOREIGN=$(awk -v b=$((sb1 - sb0)) -v t=$((st1 - st0)) -v s=$((c1 - c0)) \
    'BEGIN { f = (t > 0) ? 100 * (b - s) / t : 0; printf "%.0f", (f > 0) ? f : 0 }')
  W_RPS=$(field "$line" rps)
  W_P99=$(field "$line" p99_ms)
  W_ERR=$(($(field "$line" non200) + $(field "$line" hrana_errors) + $(field "$line" socket_errors)))
  W_CPU=$(awk -v t=$((c1 - c0)) -v hz="$CLK_TCK" -v n="$(field "$line" requests)" \
    'BEGIN { if (n > 0) printf "%.1f", t / hz * 1e6 / n; else print 0 }')
  log "  $tag: $(printf '%.0f' "$W_RPS") req/s, p99 ${W_P99} ms, errors $W_ERR," \
    "server CPU $(awk -v t=$((c1 - c0)) -v hz="$CLK_TCK" -v d="$DURATION" 'BEGIN { printf "%.0f%%", t / hz / d * 100 }'), ${W_CPU} us/request"
}

# json_quote < TEXT -> TEXT as one JSON string.
json_quote() { node -e 'process.stdout.write(JSON.stringify(require("fs").readFileSync(0, "utf8")))'; }

# jget EXPR < JSON -> EXPR evaluated over the parsed input `d`: a string as is, anything else
# as JSON, nothing for null/undefined, unparsable input or a failing EXPR.
jget() {
  node -e '
    let r;
    try { r = new Function("d", "return (" + process.argv[1] + ")")(JSON.parse(require("fs").readFileSync(0, "utf8"))); } catch { r = undefined; }
    if (r !== undefined && r !== null) process.stdout.write(typeof r === "string" ? r : JSON.stringify(r));' "$1"
}

# field "k1=v1 k2=v2" KEY
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

ROWS=()
# add_row SCENARIO QRPS BRPS QP99 BP99 QERR BERR QCPU BCPU TARGET_TEXT MET
ROW_FMT='%-18s %12s %14s %7s %10s %12s %7s %12s  %s'
add_row() {
  local qr br rt qp bp
  if [[ "$2" == "-" ]]; then qr="-"; rt="n/a"; else qr=$(printf '%.0f' "$2"); rt=$(ratio "$2" "$3"); fi
  br=$(printf '%.0f' "$3")
  if [[ "$4" == "-" ]]; then qp="-"; else qp=$(printf '%.2f ms' "$4"); fi
  bp=$(printf '%.2f ms' "$5")
  # shellcheck disable=SC2059
  ROWS+=("$(printf "$ROW_FMT" "$1" "$qr" "$br" "$rt" "$qp" "$bp" "$6/$7" "$8/$9" "${10}: ${11}")")
}

# ---------------------------------------------------------- prerequisites --

# free_port START [AVOID]: START or the next port nobody listens on.
free_port() {
  local p=$1
  while (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null || [[ "$p" == "${2:-}" ]]; do
    p=$((p + 1))
  done
  echo "$p"
}
QUARRY_PORT=$(free_port "$QUARRY_PORT")
BASELINE_PORT=$(free_port "$BASELINE_PORT" "$QUARRY_PORT")
BARE_PORT=$(free_port "$BARE_PORT" "$BASELINE_PORT")
[[ "$BARE_PORT" == "$QUARRY_PORT" ]] && BARE_PORT=$(free_port $((BARE_PORT + 1)) "$BASELINE_PORT")

need_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

if ! command -v wrk >/dev/null; then
  log "installing wrk"
  need_root apt-get install -y wrk >/dev/null 2>&1 ||
    { need_root apt-get update >/dev/null && need_root apt-get install -y wrk >/dev/null; } ||
    die "could not install wrk"
fi
if ! command -v curl >/dev/null; then
  log "installing curl"
  need_root apt-get install -y curl >/dev/null 2>&1 ||
    { need_root apt-get update >/dev/null && need_root apt-get install -y curl >/dev/null; } ||
    die "could not install curl"
fi
if [[ ! -x /usr/bin/time ]]; then
  # GNU time measures wrk's own CPU in the per-core scenarios; without it that column says "?".
  log "installing time"
  need_root apt-get install -y time >/dev/null 2>&1 ||
    { need_root apt-get update >/dev/null && need_root apt-get install -y time >/dev/null; } ||
    log "could not install time; wrk's CPU is not reported"
fi
command -v node >/dev/null || die "node is required (Node.js 20+)"

# Baseline dependencies (better-sqlite3 for the baseline, ws for ws_load.mjs): `npm ci`
# unless every locked package is already installed at its version and better-sqlite3 loads
# (a from-source build takes about a minute on 2 cores).
(
  cd "$BENCH_DIR/baseline"
  stale=$(node -e '
    const lock = require("./package-lock.json").packages;
    const out = [];
    for (const name of Object.keys(require("./package.json").dependencies || {})) {
      let have = "";
      try { have = require("./node_modules/" + name + "/package.json").version; } catch {}
      if (have !== lock["node_modules/" + name].version) out.push(name);
    }
    process.stdout.write(out.join(" "));') || stale="?"
  if [[ "${FORCE_NPM_CI:-0}" == 1 || -n "$stale" ]] ||
     ! node -e "new (require('better-sqlite3'))(':memory:').close()" 2>/dev/null; then
    log "npm ci in bench/baseline${stale:+ (not installed at the locked version: $stale)}"
    # Build the native addon against the local Node headers when present
    # instead of downloading them.
    if [[ -z "${npm_config_nodedir:-}" && -f /usr/include/node/node.h ]]; then
      export npm_config_nodedir=/usr
    fi
    npm ci --no-audit --no-fund >"$TMP/npm-ci.log" 2>&1 || { cat "$TMP/npm-ci.log"; exit 1; }
  fi
) || die "npm ci failed"

STANDIN=0
if [[ "$QUARRY_BIN" == baseline ]]; then
  STANDIN=1
elif [[ ! -x "$QUARRY_BIN" ]]; then
  STANDIN=1
  log "NOTE: $QUARRY_BIN not found; a second baseline instance stands in for Quarry (harness self-test, not a Quarry measurement)"
fi

# Read once into a variable: `serve --help | grep -q` under pipefail fails whenever grep
# exits before the help is all written (SIGPIPE), which skipped scenarios at random.
SERVE_HELP=""
if [[ "$STANDIN" != 1 ]]; then
  SERVE_HELP=$("$QUARRY_BIN" serve --help 2>&1 || true)
fi
HAS_DURABLE=0
if [[ "$STANDIN" == 1 ]] || grep -q -- --durable <<<"$SERVE_HELP"; then
  HAS_DURABLE=1
fi

HAS_NO_CHANGE_LOG=0
if [[ "$STANDIN" != 1 ]] && grep -q -- --no-change-log <<<"$SERVE_HELP"; then
  HAS_NO_CHANGE_LOG=1
fi

QLABEL=Quarry
[[ "$STANDIN" == 1 ]] && QLABEL="Quarry(stand-in)"

BSQL_VER=$(cd "$BENCH_DIR/baseline" && node -p "require('better-sqlite3/package.json').version")
SQLITE_VER=$(cd "$BENCH_DIR/baseline" && node -p "new (require('better-sqlite3'))(':memory:').prepare('select sqlite_version() v').get().v")

echo "== Quarry benchmark $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "machine:   $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
if [[ "$STANDIN" == 1 ]]; then
  echo "quarry:    STAND-IN (second baseline instance) -- ratios only test the harness"
else
  echo "quarry:    $QUARRY_BIN (built $(date -u -r "$QUARRY_BIN" '+%Y-%m-%d %H:%M UTC'); source tree at $(git -C "$REPO" describe --always --dirty 2>/dev/null || echo '?'))"
fi
echo "baseline:  node $(node --version) node:http + better-sqlite3 $BSQL_VER (SQLite $SQLITE_VER), single process, WAL"
# How busy the machine is right before the run (2 s sample of /proc/stat;
# the load average lags by minutes, so it is not used).
cpu_sample() { awk '/^cpu / { printf "%d %d\n", $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat; }
read -r BUSY0 TOTAL0 < <(cpu_sample)
sleep 2
read -r BUSY1 TOTAL1 < <(cpu_sample)
BUSY_PCT=$(awk -v b=$((BUSY1 - BUSY0)) -v t=$((TOTAL1 - TOTAL0)) 'BEGIN { printf "%.0f", (t > 0) ? 100 * b / t : 0 }')
echo "idle?:     CPU ${BUSY_PCT}% busy just before the run$( ((BUSY_PCT > 15)) && echo "  -- WARNING: something else is using the CPU; figures are unreliable")"
echo "load:      $(wrk --version 2>&1 | head -1 | awk '{print $1, $2}'), -t$THREADS -c$CONNECTIONS, ${DURATION}s measured after ${WARMUP}s warm-up, 127.0.0.1 (Quarry :$QUARRY_PORT, baseline :$BASELINE_PORT)"
echo

has() { [[ " $SCENARIOS " == *" $1 "* ]]; }
B_RSS_PS=0
Q_RSS_PS=0

# ------------------------------------------------- point select + insert --

if has point_select || has insert; then
  log "starting servers (synchronous=NORMAL baseline)"
  start_quarry "$QUARRY_PORT" quarry
  QPID=$SERVER_PID
  start_baseline "$BASELINE_PORT" baseline
  BPID=$SERVER_PID
  seed "$QUARRY_PORT" quarry
  seed "$BASELINE_PORT" baseline
  log "seeded $KV_ROWS rows into kv on both"

  if has point_select; then
    log "point select"
    run_wrk point_select "$QUARRY_PORT" point_select.quarry "$QPID"
    q=("$W_RPS" "$W_P99" "$W_ERR" "$W_CPU")
    Q_RSS_PS=$(rss_kib "$QPID")
    run_wrk point_select "$BASELINE_PORT" point_select.baseline "$BPID"
    B_RSS_PS=$(rss_kib "$BPID")
    met=no
    if ge "$(awk -v a="${q[0]}" -v b="$W_RPS" 'BEGIN{print ((b>0)?a/b:0)}')" 4 && le "${q[1]}" 3; then met=yes; fi
    add_row "point select" "${q[0]}" "$W_RPS" "${q[1]}" "$W_P99" "${q[2]}" "$W_ERR" \
      "${q[3]}" "$W_CPU" ">=4x, p99<=3ms" "$met"
  fi

  if has insert; then
    log "autocommit insert"
    run_wrk insert "$QUARRY_PORT" insert.quarry "$QPID"
    q=("$W_RPS" "$W_P99" "$W_ERR" "$W_CPU")
    run_wrk insert "$BASELINE_PORT" insert.baseline "$BPID"
    met=no
    if ge "$(awk -v a="${q[0]}" -v b="$W_RPS" 'BEGIN{print ((b>0)?a/b:0)}')" 1.5; then met=yes; fi
    add_row "autocommit insert" "${q[0]}" "$W_RPS" "${q[1]}" "$W_P99" "${q[2]}" "$W_ERR" "${q[3]}" "$W_CPU" ">=1.5x" "$met"
  fi
  stop_pid "$QPID" quarry
  stop_pid "$BPID" baseline
fi

# ------------------------------------------------------- durable insert --

if has durable_insert; then
  log "durable insert (baseline synchronous=FULL: one fsync per commit)"
  if [[ "$HAS_DURABLE" == 1 ]]; then
    start_quarry "$QUARRY_PORT" quarry-durable --durable
    QPID=$SERVER_PID
    seed "$QUARRY_PORT" quarry-durable
    run_wrk insert "$QUARRY_PORT" durable_insert.quarry "$QPID"
    q=("$W_RPS" "$W_P99" "$W_ERR" "$W_CPU")
    stop_pid "$QPID" quarry-durable
  else
    q=("-" "-" "-" "-")
    NOTES+=("durable insert: '$QUARRY_BIN serve --help' does not list --durable; Quarry side skipped")
  fi
  start_baseline "$BASELINE_PORT" baseline-durable --durable
  BPID=$SERVER_PID
  seed "$BASELINE_PORT" baseline-durable
  run_wrk insert "$BASELINE_PORT" durable_insert.baseline "$BPID"
  stop_pid "$BPID" baseline-durable
  met=n/a
  if [[ "${q[0]}" != "-" ]]; then
    met=no
    if ge "$(awk -v a="${q[0]}" -v b="$W_RPS" 'BEGIN{print ((b>0)?a/b:0)}')" 5; then met=yes; fi
  fi
  add_row "durable insert" "${q[0]}" "$W_RPS" "${q[1]}" "$W_P99" "${q[2]}" "$W_ERR" "${q[3]}" "$W_CPU" ">=5x" "$met"
fi

# ------------------------------------------------------------- per core --

# Issue 8's per-core figures: the server pinned to CPU SERVER_CPU and wrk (PERCORE_THREADS
# threads) to CPU LOAD_CPU, so they never share a core; the figure to compare is the server's
# CPU time per request (all its threads, /proc/PID/stat), with its context switches per
# request. Point selects on PERCORE_ROWS rows against (a) a bare C epoll server with one
# prepared statement (bench/baseline/bare_epoll.c, the limit), (b) the Node baseline,
# (c) Quarry --no-auth, (d) Quarry with a token; autocommit and durable inserts against the
# Node baseline; reads' p99 while a durable writer runs on a slow disk.
PC_ROWS=()
PC_VERDICTS=()
PC_FMT='%-54s %9s %10s %10s %9s %8s %13s %6s'
# pc_row LABEL: the last run_wrk's figures as one row of the per-core table.
pc_row() {
  # shellcheck disable=SC2059
  PC_ROWS+=("$(printf "$PC_FMT" "$1" "$(printf '%.0f' "$W_RPS")" "$(printf '%.2f ms' "$W_P99")" \
    "$W_CPU" "$W_CSW" "${W_WRK_CPU}%" "${W_FOREIGN}%" "$W_ERR")")
  if ((W_FOREIGN > 10)); then
    PC_BUSY_RUNS=$((PC_BUSY_RUNS + 1))
    ((W_FOREIGN > PC_BUSY_MAX)) && PC_BUSY_MAX=$W_FOREIGN
  fi
  return 0
}
PC_BUSY_RUNS=0
PC_BUSY_MAX=0
# xr A B -> A / B with two decimals; 0 when B is 0.
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
xr() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print 0 }'; }
# yes_if_le A B / yes_if_ge A B -> "yes" when A > 0 and A <= B (>= B), else "no".
yes_if_le() { awk -v a="$1" -v b="$2" 'BEGIN { print (a > 0 && a <= b) ? "yes" : "no" }'; }
yes_if_ge() { awk -v a="$1" -v b="$2" 'BEGIN { print (a > 0 && a >= b) ? "yes" : "no" }'; }

probe_json() {
  printf '{"baton":null,"requests":[{"type":"execute","stmt":{"sql":"SELECT id, v FROM kv WHERE id = ?","args":[{"type":"integer","value":"%s"}]}},{"type":"close"}]}' "$1"
}
# probe_rows PORT [TOKEN] -> the rows one point select of id 4242 answers, as JSON.
probe_rows() {
  post "http://127.0.0.1:$1/v2/pipeline" "$(probe_json 4242)" "${2:-}" | jget 'd.results[0].response.result.rows'
}

# build_c SRC OUT GCC_ARGS...: compiled with gcc -O2 (Debian's gcc and libsqlite3-dev).
build_c() {
  local src=$1 out=$2
  shift 2
  gcc -O2 -Wall -o "$out" "$src" "$@" >"$TMP/gcc.log" 2>&1 || { sed 's/^/    /' "$TMP/gcc.log"; return 1; }
}

BARE_BIN=$TMP/bare_epoll
# start_bare PORT NAME ROWS: the bare C server on its own database holding kv of ROWS rows.
start_bare() {
  mkdir -p "$TMP/$2"
  "${SERVER_PREFIX[@]}" "$BARE_BIN" --port "$1" --db "$TMP/$2/bare.db" --rows "$3" >"$TMP/$2.log" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  wait_ready "$SERVER_PID" "$TMP/$2.log" || die "the bare C server ($2) did not start"
}

# mint_token NAME -> a rw token for namespace default of the Quarry whose data folder is NAME.
mint_token() { "$QUARRY_BIN" token create --data "$TMP/$1" --db default --access rw; }

PC_HEADER=
if has percore_select || has percore_insert || has read_under_write || has percore_ws_select; then
  if (($(nproc) < 2)); then
    NOTES+=("per-core scenarios: skipped (they need 2 CPUs, this machine has $(nproc))")
  elif ! command -v taskset >/dev/null; then
    NOTES+=("per-core scenarios: skipped (taskset is missing; it comes with util-linux)")
  else
    # The bare C server and slow_fsync.so (percore_ws_select alone needs neither).
    if has percore_select || has percore_insert || has read_under_write; then
      if ! command -v gcc >/dev/null || [[ ! -f /usr/include/sqlite3.h ]]; then
        log "installing gcc and libsqlite3-dev"
        need_root apt-get install -y gcc libsqlite3-dev >/dev/null 2>&1 ||
          { need_root apt-get update >/dev/null && need_root apt-get install -y gcc libsqlite3-dev >/dev/null; } ||
          die "could not install gcc and libsqlite3-dev"
      fi
      build_c "$BENCH_DIR/baseline/bare_epoll.c" "$BARE_BIN" -lsqlite3 || die "could not build bare_epoll.c"
    fi
    PC_HEADER="server pinned to CPU $SERVER_CPU, wrk -t$PERCORE_THREADS -c$CONNECTIONS pinned to CPU $LOAD_CPU (taskset); kv of $PERCORE_ROWS rows; ${DURATION}s measured after ${WARMUP}s warm-up"
    if has percore_ws_select; then
      PC_HEADER+="; WebSocket: node ws_load.mjs, $CONNECTIONS sockets x $WS_DEPTH requests outstanding, pinned to CPU $LOAD_CPU"
    fi
    SERVER_PREFIX=(taskset -c "$SERVER_CPU")
    WRK_PREFIX=(taskset -c "$LOAD_CPU")
    WRK_THREADS=$PERCORE_THREADS
    QTOKEN_AUTH=

    pc_b=() pc_n=() pc_q=() pc_a=() pc_bi=() pc_qi=()
    if has percore_select; then
      log "per core: point select, bare C epoll (the limit)"
      start_bare "$BARE_PORT" pc-bare "$PERCORE_ROWS"
      BP=$SERVER_PID
      BARE_ROWS=$(probe_rows "$BARE_PORT")
      [[ "$BARE_ROWS" == *'"value-4242"'* ]] || die "bare C server: the probe of id 4242 answered '$BARE_ROWS'"
      run_wrk point_select "$BARE_PORT" percore_select.bare "$BP" /v2/pipeline KV_ROWS="$PERCORE_ROWS"
      pc_b=("$W_RPS" "$W_P99" "$W_CPU")
      pc_row "point select: bare C epoll (limit)"
      stop_pid "$BP" pc-bare
    fi

    if has percore_select || has percore_insert; then
    log "per core: Node baseline"
    start_baseline "$BASELINE_PORT" pc-baseline
    BPID=$SERVER_PID
    seed "$BASELINE_PORT" pc-baseline "$PERCORE_ROWS"
    if has percore_select; then
      [[ "$(probe_rows "$BASELINE_PORT")" == "$BARE_ROWS" ]] ||
        NOTES+=("per core: the Node baseline's answer to the probe differs from the bare server's")
      run_wrk point_select "$BASELINE_PORT" percore_select.baseline "$BPID" /v2/pipeline KV_ROWS="$PERCORE_ROWS"
      pc_n=("$W_RPS" "$W_P99" "$W_CPU")
      pc_row "point select: Node node:http+better-sqlite3"
    fi
    if has percore_insert; then
      run_wrk insert "$BASELINE_PORT" percore_insert.baseline "$BPID"
      pc_bi=("$W_RPS" "$W_P99" "$W_CPU")
      pc_row "insert: Node (synchronous=NORMAL)"
    fi
    stop_pid "$BPID" pc-baseline

    log "per core: $QLABEL --no-auth"
    start_quarry "$QUARRY_PORT" pc-quarry
    QPID=$SERVER_PID
    seed "$QUARRY_PORT" pc-quarry "$PERCORE_ROWS"
    if has percore_select; then
      [[ "$(probe_rows "$QUARRY_PORT")" == "$BARE_ROWS" ]] ||
        NOTES+=("per core: $QLABEL's answer to the probe differs from the bare server's")
      run_wrk point_select "$QUARRY_PORT" percore_select.quarry "$QPID" /v2/pipeline KV_ROWS="$PERCORE_ROWS"
      pc_q=("$W_RPS" "$W_P99" "$W_CPU")
      pc_row "point select: $QLABEL --no-auth"
    fi
    if has percore_insert; then
      run_wrk insert "$QUARRY_PORT" percore_insert.quarry "$QPID"
      pc_qi=("$W_RPS" "$W_P99" "$W_CPU")
      pc_row "insert: $QLABEL (default durability)"
    fi
    stop_pid "$QPID" pc-quarry
    fi

    if has percore_select; then
      if [[ "$STANDIN" == 1 ]]; then
        NOTES+=("per core, token auth: skipped (the stand-in has no auth)")
      else
        log "per core: $QLABEL with token auth"
        start_quarry "$QUARRY_PORT" pc-quarry-auth --with-auth
        QPID=$SERVER_PID
        QTOKEN_AUTH=$(mint_token pc-quarry-auth) || die "could not mint a token for pc-quarry-auth"
        seed "$QUARRY_PORT" pc-quarry-auth "$PERCORE_ROWS" "$QTOKEN_AUTH"
        run_wrk point_select "$QUARRY_PORT" percore_select.quarry_auth "$QPID" /v2/pipeline \
          KV_ROWS="$PERCORE_ROWS" QUARRY_TOKEN="$QTOKEN_AUTH"
        pc_a=("$W_RPS" "$W_P99" "$W_CPU")
        pc_row "point select: $QLABEL, token auth"
        stop_pid "$QPID" pc-quarry-auth
      fi
      # The machine's speed drifts between runs a minute apart by more than the margins of
      # these goals: further rounds run the bare server, Quarry and Quarry with a token one
      # right after the other (all three started once, idle while the others are measured),
      # and the verdicts take the median of the rounds' ratios.
      sel_qb=("$(xr "${pc_q[2]}" "${pc_b[2]}")") sel_nq=("$(xr "${pc_n[2]}" "${pc_q[2]}")")
      sel_p99=("${pc_q[1]}") sel_aq=()
      [[ ${#pc_a[@]} -gt 0 ]] && sel_aq=("$(xr "${pc_a[2]}" "${pc_q[2]}")")
      if ((SELECT_ROUNDS > 1)); then
        log "per core: point select, $((SELECT_ROUNDS - 1)) more rounds of bare, $QLABEL and $QLABEL with a token"
        start_bare "$BARE_PORT" pc-bare-rounds "$PERCORE_ROWS"
        RBP=$SERVER_PID
        start_quarry "$QUARRY_PORT" pc-quarry-rounds
        RQP=$SERVER_PID
        seed "$QUARRY_PORT" pc-quarry-rounds "$PERCORE_ROWS"
        RAP=
        if [[ ${#pc_a[@]} -gt 0 ]]; then
          start_quarry "$BASELINE_PORT" pc-quarry-auth-rounds --with-auth
          RAP=$SERVER_PID
          RTOKEN=$(mint_token pc-quarry-auth-rounds) || die "could not mint a token for pc-quarry-auth-rounds"
          seed "$BASELINE_PORT" pc-quarry-auth-rounds "$PERCORE_ROWS" "$RTOKEN"
        fi
        for ((round = 2; round <= SELECT_ROUNDS; round++)); do
          run_wrk point_select "$BARE_PORT" "percore_select.bare_$round" "$RBP" /v2/pipeline KV_ROWS="$PERCORE_ROWS"
          rb=$W_CPU
          pc_row "point select: bare C epoll (limit), round $round"
          run_wrk point_select "$QUARRY_PORT" "percore_select.quarry_$round" "$RQP" /v2/pipeline KV_ROWS="$PERCORE_ROWS"
          rq=$W_CPU
          sel_p99+=("$W_P99")
          pc_row "point select: $QLABEL --no-auth, round $round"
          sel_qb+=("$(xr "$rq" "$rb")")
          sel_nq+=("$(xr "${pc_n[2]}" "$rq")")
          if [[ -n "$RAP" ]]; then
            run_wrk point_select "$BASELINE_PORT" "percore_select.quarry_auth_$round" "$RAP" /v2/pipeline \
              KV_ROWS="$PERCORE_ROWS" QUARRY_TOKEN="$RTOKEN"
            sel_aq+=("$(xr "$W_CPU" "$rq")")
            pc_row "point select: $QLABEL, token auth, round $round"
          fi
        done
        stop_pid "$RBP" pc-bare-rounds
        stop_pid "$RQP" pc-quarry-rounds
        [[ -n "$RAP" ]] && stop_pid "$RAP" pc-quarry-auth-rounds
      fi
      rounds_note="median of $SELECT_ROUNDS rounds: ${sel_qb[*]}"
      r1=$(median "${sel_qb[@]}")
      r2=$(median "${sel_nq[@]}")
      p99=$(median "${sel_p99[@]}")
      PC_VERDICTS+=("point select: $QLABEL CPU/request = ${r1}x the bare limit's ($rounds_note; goal <= 1.6x: $(yes_if_le "$r1" 1.6)); Node's CPU/request = ${r2}x $QLABEL's (goal >= 1.7x: $(yes_if_ge "$r2" 1.7)); $QLABEL p99 $(printf '%.2f' "$p99") ms (median of the rounds: ${sel_p99[*]}; goal <= 2 ms: $(yes_if_le "$p99" 2)); first round's req/s $(xr "${pc_q[0]}" "${pc_b[0]}")x bare, $(xr "${pc_q[0]}" "${pc_n[0]}")x Node")
      if [[ ${#sel_aq[@]} -gt 0 ]]; then
        r3=$(median "${sel_aq[@]}")
        PC_VERDICTS+=("token auth: CPU/request ${r3}x --no-auth's (median of $SELECT_ROUNDS rounds: ${sel_aq[*]}; goal <= 1.10x: $(yes_if_le "$r3" 1.10)); first round's req/s $(xr "${pc_a[0]}" "${pc_q[0]}")x, p99 $(printf '%.2f' "${pc_a[1]}") ms")
      fi
    fi
    if has percore_insert; then
      r1=$(xr "${pc_qi[0]}" "${pc_bi[0]}")
      PC_VERDICTS+=("autocommit insert: $QLABEL req/s ${r1}x Node's (goal >= 1.5x: $(yes_if_ge "$r1" 1.5)); CPU/request $(xr "${pc_qi[2]}" "${pc_bi[2]}")x Node's")
      # Change capture's cost to a writer: the same inserts with the change log off.
      if [[ "$HAS_NO_CHANGE_LOG" == 1 ]]; then
        # This machine's speed drifts by 20 % between runs a minute apart, more than the cost
        # measured: rounds alternate with and without the change log and the medians compare.
        log "per core: change capture, $CAPTURE_ROUNDS rounds alternating --no-change-log and the default"
        cap_on_rps=("${pc_qi[0]}")
        cap_on_cpu=("${pc_qi[2]}")
        cap_off_rps=()
        cap_off_cpu=()
        for ((round = 1; round <= CAPTURE_ROUNDS; round++)); do
          for side in off on; do
            if [[ "$side" == on && "$round" == 1 ]]; then
              continue  # the default's first round is the insert row above
            fi
            name=pc-capture-$side-$round
            start_quarry "$QUARRY_PORT" "$name" $([[ "$side" == off ]] && echo --no-change-log)
            QPID=$SERVER_PID
            seed "$QUARRY_PORT" "$name" "$PERCORE_ROWS"
            run_wrk insert "$QUARRY_PORT" "percore_insert.capture_${side}_$round" "$QPID"
            if [[ "$side" == off ]]; then
              pc_row "insert: $QLABEL --no-change-log (no capture), round $round"
              cap_off_rps+=("$W_RPS")
              cap_off_cpu+=("$W_CPU")
            else
              pc_row "insert: $QLABEL (default durability), round $round"
              cap_on_rps+=("$W_RPS")
              cap_on_cpu+=("$W_CPU")
            fi
            stop_pid "$QPID" "$name"
          done
        done
        r1=$(xr "$(median "${cap_on_rps[@]}")" "$(median "${cap_off_rps[@]}")")
        PC_VERDICTS+=("change capture: insert req/s with the change log ${r1}x without it, medians of $CAPTURE_ROUNDS alternating rounds (goal >= 0.90x: $(yes_if_ge "$r1" 0.90)); CPU/request $(xr "$(median "${cap_on_cpu[@]}")" "$(median "${cap_off_cpu[@]}")")x")
      else
        NOTES+=("per core, change capture: '$QUARRY_BIN serve --help' does not list --no-change-log; skipped")
      fi
      log "per core: durable inserts (Node synchronous=FULL: one fsync per commit)"
      if [[ "$HAS_DURABLE" == 1 ]]; then
        start_quarry "$QUARRY_PORT" pc-quarry-durable --durable
        QPID=$SERVER_PID
        seed "$QUARRY_PORT" pc-quarry-durable "$KV_ROWS"
        run_wrk insert "$QUARRY_PORT" percore_durable.quarry "$QPID"
        pc_qd=("$W_RPS" "$W_P99" "$W_CPU")
        pc_row "durable insert: $QLABEL --durable"
        stop_pid "$QPID" pc-quarry-durable
      else
        pc_qd=(0 0 0)
        NOTES+=("per core, durable insert: '$QUARRY_BIN serve --help' does not list --durable; Quarry side skipped")
      fi
      start_baseline "$BASELINE_PORT" pc-baseline-durable --durable
      BPID=$SERVER_PID
      seed "$BASELINE_PORT" pc-baseline-durable "$KV_ROWS"
      run_wrk insert "$BASELINE_PORT" percore_durable.baseline "$BPID"
      pc_row "durable insert: Node --durable (fsync/commit)"
      stop_pid "$BPID" pc-baseline-durable
      r1=$(xr "${pc_qd[0]}" "$W_RPS")
      PC_VERDICTS+=("durable insert: $QLABEL --durable req/s ${r1}x one-fsync-per-commit Node's (goal >= 5x: $(yes_if_ge "$r1" 5))")
    fi

    if has percore_ws_select; then
      # The same point selects over HTTP (wrk, one request per connection at a time) and over
      # Hrana 3 WebSocket (ws_load.mjs: one stream per socket, WS_DEPTH requests outstanding on
      # it), one after the other against one Quarry --no-auth; the figure compared is the
      # server's CPU per request.
      if [[ "$STANDIN" == 1 ]]; then
        NOTES+=("per core, WebSocket: skipped (the stand-in baseline speaks no WebSocket)")
      else
        log "per core: point select over HTTP and over WebSocket, $QLABEL --no-auth"
        start_quarry "$QUARRY_PORT" pc-quarry-ws
        QPID=$SERVER_PID
        seed "$QUARRY_PORT" pc-quarry-ws "$PERCORE_ROWS"
        r=$(probe_rows "$QUARRY_PORT")
        [[ "$r" == *'"value-4242"'* ]] || die "$QLABEL (pc-quarry-ws): the probe of id 4242 answered '$r'"
        run_wrk point_select "$QUARRY_PORT" percore_ws_select.http "$QPID" /v2/pipeline KV_ROWS="$PERCORE_ROWS"
        pc_h=("$W_RPS" "$W_P99" "$W_CPU" "$W_CSW" "$W_ERR")
        pc_row "point select over HTTP: $QLABEL"
        run_ws "$QUARRY_PORT" percore_ws_select.websocket "$QPID" / KV_ROWS="$PERCORE_ROWS"
        pc_row "point select over WebSocket (hrana3, depth $WS_DEPTH): $QLABEL"
        stop_pid "$QPID" pc-quarry-ws
        r1=$(xr "$W_CPU" "${pc_h[2]}")
        v="WebSocket: CPU/request = ${r1}x HTTP's (goal <= 1.00x: $(yes_if_le "$r1" 1.00)); req/s $(xr "$W_RPS" "${pc_h[0]}")x HTTP's"
        v+=" ($(printf '%.0f' "$W_RPS") vs $(printf '%.0f' "${pc_h[0]}")); p99 $(printf '%.2f' "$W_P99") ms"
        v+=" vs $(printf '%.2f' "${pc_h[1]}") ms; ctxsw/request $W_CSW vs ${pc_h[3]}; load generator CPU ${W_WRK_CPU}% (node)"
        if [[ "$W_ERR" != 0 || "${pc_h[4]}" != 0 ]]; then
          v+="; ERRORS (WebSocket $W_ERR, HTTP ${pc_h[4]}): not a valid measurement, see bench/results/percore_ws_select.*.txt"
        fi
        PC_VERDICTS+=("$v")
      fi
    fi

    if has read_under_write; then
      # Reads alone, then the same reads while WRITER_CONNECTIONS connections insert
      # (autocommit, durable), both wrk pinned to LOAD_CPU. With SLOW_FSYNC_MS > 0 every fsync
      # of the server takes at least that long (bench/baseline/slow_fsync.c, LD_PRELOAD).
      fsync_note="the disk's own fsync"
      pre=(taskset -c "$SERVER_CPU")
      if awk -v m="$SLOW_FSYNC_MS" 'BEGIN { exit !(m > 0) }'; then
        build_c "$BENCH_DIR/baseline/slow_fsync.c" "$TMP/slow_fsync.so" -shared -fPIC -ldl ||
          die "could not build slow_fsync.c"
        pre=(env LD_PRELOAD="$TMP/slow_fsync.so" SLOW_FSYNC_MS="$SLOW_FSYNC_MS" taskset -c "$SERVER_CPU")
        fsync_note="every fsync >= $SLOW_FSYNC_MS ms (slow_fsync.so)"
      fi
      # ruw KIND NAME PORT: reads alone and under the writer on the server just started.
      ruw() {
        local kind=$1 name=$2 port=$3 spid=$SERVER_PID wpid wline alone alone_rps
        run_wrk point_select "$port" "read_under_write.$name.alone" "$spid" /v2/pipeline KV_ROWS="$PERCORE_ROWS"
        alone=$W_P99 alone_rps=$W_RPS
        pc_row "reads alone: $kind"
        env "${WRK_PREFIX[@]}" wrk -t1 -c"$WRITER_CONNECTIONS" -d"$((WARMUP + DURATION + 2))s" --latency \
          -s "$BENCH_DIR/wrk/insert.lua" "http://127.0.0.1:$port/v2/pipeline" >"$TMP/ruw.$name.writer.wrk" 2>&1 &
        wpid=$!
        PIDS+=("$wpid")
        run_wrk point_select "$port" "read_under_write.$name.with_writer" "$spid" /v2/pipeline KV_ROWS="$PERCORE_ROWS"
        pc_row "reads + durable writer: $kind"
        wait "$wpid" || true
        cp "$TMP/ruw.$name.writer.wrk" "$RESULTS_DIR/read_under_write.$name.writer.wrk.txt"
        wline=$(grep '^BENCH_RESULT' "$TMP/ruw.$name.writer.wrk" ||
          echo "BENCH_RESULT requests=0 rps=0 p99_ms=0 non200=0 hrana_errors=0 socket_errors=-1")
        RUW_RATIO=$(xr "$W_P99" "$alone")
        RUW_LINE="$kind: reads' p99 $(printf '%.2f' "$alone") ms alone, $(printf '%.2f' "$W_P99") ms with the writer (${RUW_RATIO}x), reads/s with the writer $(xr "$W_RPS" "$alone_rps")x alone; writer $(printf '%.0f' "$(field "$wline" rps)") commits/s, its p99 $(field "$wline" p99_ms) ms, errors $(($(field "$wline" non200) + $(field "$wline" hrana_errors) + $(field "$wline" socket_errors)))"
      }
      log "per core: reads while a durable writer runs ($fsync_note)"
      SERVER_PREFIX=("${pre[@]}")
      if [[ "$HAS_DURABLE" == 1 ]]; then
        start_quarry "$QUARRY_PORT" ruw-quarry --durable
        seed "$QUARRY_PORT" ruw-quarry "$PERCORE_ROWS"
        ruw "$QLABEL --durable" quarry "$QUARRY_PORT"
        q_ratio=$RUW_RATIO q_line=$RUW_LINE
        stop_pid "$SERVER_PID" ruw-quarry
      else
        q_ratio=0 q_line="$QLABEL: no --durable, skipped"
      fi
      start_baseline "$BASELINE_PORT" ruw-baseline --durable
      seed "$BASELINE_PORT" ruw-baseline "$PERCORE_ROWS"
      ruw "Node --durable" baseline "$BASELINE_PORT"
      stop_pid "$SERVER_PID" ruw-baseline
      PC_VERDICTS+=("reads under a durable writer ($WRITER_CONNECTIONS connections, $fsync_note): $q_line; goal: a slow fsync never stalls other connections' reads, i.e. p99 with the writer <= 1.5x alone: $(yes_if_le "$q_ratio" 1.5)")
      PC_VERDICTS+=("  baseline, $RUW_LINE")
      SERVER_PREFIX=(taskset -c "$SERVER_CPU")
    fi
    SERVER_PREFIX=()
    WRK_PREFIX=()
    WRK_THREADS=$THREADS
  fi
fi

# ------------------------------------------------------------- realtime --

RT_LINES=()
if has realtime; then
  if [[ "$STANDIN" == 1 ]]; then
    NOTES+=("realtime: skipped (the stand-in baseline has no realtime)")
  else
    RT_SUBSCRIBERS=${RT_SUBSCRIBERS:-10000}
    # A descriptor per subscriber in each process, and some to spare (up to the hard limit).
    rt_want=$((RT_SUBSCRIBERS + 4096)) rt_hard=$(ulimit -Hn)
    [[ "$rt_hard" != unlimited ]] && ((rt_hard < rt_want)) && rt_want=$rt_hard
    ulimit -n "$rt_want" 2>/dev/null || true
    (($(ulimit -n) > RT_SUBSCRIBERS + 64)) ||
      NOTES+=("realtime: the open-file limit ($(ulimit -n)) is too low for $RT_SUBSCRIBERS subscribers")
    # RT_PINNED=1: the server on SERVER_CPU, the load generator on LOAD_CPU, so the writer's
    # figures are the server's alone on one core.
    rt_load=()
    if [[ "${RT_PINNED:-0}" == 1 ]]; then
      SERVER_PREFIX=(taskset -c "$SERVER_CPU")
      rt_load=(taskset -c "$LOAD_CPU")
    fi
    log "realtime: $RT_SUBSCRIBERS WebSocket subscribers, ${RT_RATE:-1000} inserts/s$([[ ${#rt_load[@]} -gt 0 ]] && echo ", server on CPU $SERVER_CPU, load on CPU $LOAD_CPU")"
    start_quarry "$QUARRY_PORT" rt-quarry
    SERVER_PREFIX=()
    QPID=$SERVER_PID
    rt_json=$("${rt_load[@]}" node "$BENCH_DIR/realtime_load.mjs" --port "$QUARRY_PORT" --pid "$QPID" \
      --subscribers "$RT_SUBSCRIBERS" --accounts "${RT_ACCOUNTS:-1000}" --rate "${RT_RATE:-1000}" \
      --seconds "${RT_SECONDS:-10}" 2>"$TMP/rt-load.log") || {
      NOTES+=("realtime: the load failed: $(tail -3 "$TMP/rt-load.log" | tr '\n' ' ')")
      rt_json=
    }
    stop_pid "$QPID" rt-quarry
    if [[ -n "$rt_json" ]]; then
      echo "$rt_json" >"$RESULTS_DIR/realtime.json" 2>/dev/null || true
      rt() { node -e "const r=JSON.parse(process.argv[1]); const v=r['$1']; console.log(typeof v==='number'?Math.round(v*100)/100:v)" "$rt_json"; }
      p99=$(rt latency_ms_p99); ratio=$(rt writer_ratio); events=$(rt events_per_s_steady); kib=$(rt kib_per_idle_subscriber)
      wrong=$(( $(rt misrouted) + $(rt duplicates) + $(rt missing) ))
      RT_LINES+=("$RT_SUBSCRIBERS subscribers on ${RT_ACCOUNTS:-1000} accountIds, $(rt inserts_per_s_steady) inserts/s: commit-to-delivery p50 $(rt latency_ms_p50) ms, p99 $p99 ms (goal <= 25 ms: $(yes_if_le "$p99" 25)), max $(rt latency_ms_max) ms")
      RT_LINES+=("delivered $events change events/s; misrouted $(rt misrouted), duplicates $(rt duplicates), missing $(rt missing) (goal 0: $( ((wrong == 0)) && echo yes || echo no))")
      RT_LINES+=("writer closed-loop inserts/s: $(rt writer_with_subscribers_per_s) with the subscribers vs $(rt writer_alone_per_s) without = ${ratio}x (goal >= 0.90x: $(yes_if_ge "$ratio" 0.90)); server CPU per insert $(rt server_cpu_us_per_insert_with_subscribers) us with them vs $(rt server_cpu_us_per_insert_alone) us without (events included)")
      RT_LINES+=("server RSS per idle subscriber: ${kib} KiB (goal <= 50 KB: $(yes_if_le "$kib" 48.8))")
    fi
  fi
fi

# --------------------------------------------------------------- memory --

MEM_LINE=
if has memory; then
  if [[ "$STANDIN" == 1 ]]; then
    NOTES+=("memory: skipped (the stand-in baseline cannot host namespaces)")
  else
    log "memory: $NAMESPACES namespaces, concurrency $NS_CONCURRENCY"
    start_quarry "$QUARRY_PORT" quarry-ns
    QPID=$SERVER_PID
    idle=$(rss_kib "$QPID")
    fg node "$BENCH_DIR/touch_namespaces.mjs" --url "http://127.0.0.1:$QUARRY_PORT" --pid "$QPID" \
      --count "$NAMESPACES" --concurrency "$NS_CONCURRENCY" --timeout-s 900 >"$TMP/touch.txt" 2>&1 || true
    sed 's/^/    /' "$TMP/touch.txt"
    cp "$TMP/touch.txt" "$RESULTS_DIR/memory.touch.txt"
    t=$(grep '^TOUCH_RESULT' "$TMP/touch.txt" || true)
    stop_pid "$QPID" quarry-ns
    if [[ -n "$t" ]]; then
      rss=$(field "$t" rss_kib)
      rss_mib=$(awk -v k="$rss" 'BEGIN{printf "%.1f", k/1024}')
      met=no
      le "$rss_mib" "$RSS_TARGET_MIB" && met=yes
      [[ "$(field "$t" touched)" == "$NAMESPACES" ]] || met="no (only $(field "$t" touched) namespaces touched)"
      MEM_LINE=$(printf '%-34s %10s MiB   target <=%d MiB: %s   (idle %.1f MiB, hwm %.1f MiB, %s ns/s, errors %s)' \
        "RSS after $NAMESPACES namespaces" "$rss_mib" "$RSS_TARGET_MIB" "$met" \
        "$(awk -v k="$idle" 'BEGIN{print k/1024}')" \
        "$(awk -v k="$(field "$t" hwm_kib)" 'BEGIN{print k/1024}')" \
        "$(field "$t" ns_per_s)" "$(field "$t" errors)")
    else
      MEM_LINE="RSS after $NAMESPACES namespaces: no result (see log above)"
    fi
  fi
fi

# ------------------------------------------------------------- data API --

# The data API scenarios share one Quarry started WITH auth (the user token and its policies
# are the point) and one namespace, bench: users/posts/comments (DATA_ROWS posts) for
# findUnique and include, events (KEYSET_ROWS rows) for findManyCursor. The baselines are
# the same queries hand-written over Hrana (a service token) on that same server, or page 1
# of the same cursor query. Setup and the one-off probes run on a debug-level server, whose
# log shows every statement the data API runs; the measured runs on a warn-level one over
# the same data folder.

DATA_SCHEMA='model users {
  id        Integer @id
  name      Text
  email     Text
  accountId Integer
  posts     posts[]
}

model posts {
  id        Integer    @id
  title     Text
  status    Text
  views     Integer
  author    users      @relation(fields: [authorId], references: [id])
  authorId  Integer
  accountId Integer
  comments  comments[]

  @@index([authorId])
  @@allow("read", status == "published" || accountId == auth().accountId)
}

model comments {
  id     Integer @id
  body   Text
  hidden Boolean
  post   posts   @relation(fields: [postId], references: [id])
  postId Integer

  @@index([postId])
  @@allow("read", hidden == false)
}

model events {
  id      Integer @id
  kind    Text
  payload Text
}'
DATA_USER='{"id":1,"accountId":5}'

# sql_args SQL REGEX VALUE [REGEX VALUE...] -> the Hrana `args` members (comma-separated) for
# the `?` placeholders of SQL, in order: each takes the VALUE of the first REGEX that matches
# the text just before it (REGEX is anchored at the placeholder). Fails, naming the
# placeholder, when none matches. SQL must hold no `?` other than placeholders.
sql_args() {
  SQL_TEXT=$1 awk 'BEGIN {
    n = split(ENVIRON["SQL_TEXT"], part, "[?]"); out = ""
    for (i = 1; i < n; i++) {
      v = ""
      for (r = 1; r + 1 < ARGC; r += 2) if (part[i] ~ (ARGV[r] "$")) { v = ARGV[r + 1]; break }
      if (v == "") {
        printf "no value for placeholder %d, after ...%s\n", i, substr(part[i], length(part[i]) - 60) > "/dev/stderr"
        exit 1
      }
      out = out (i > 1 ? "," : "") v
    }
    print out
  }' "${@:2}"
}
# hrana_stmt SQL ARGS -> a pipeline body running SQL with ARGS (sql_args' output), then close.
hrana_stmt() {
  printf '{"requests":[{"type":"execute","stmt":{"sql":%s,"args":[%s]}},{"type":"close"}]}' \
    "$(printf '%s' "$1" | json_quote)" "$2"
}
hint() { printf '{"type":"integer","value":"%s"}' "$1"; }
htext() { printf '{"type":"text","value":"%s"}' "$1"; }

# logged_sql FROM_LINE -> the statements the data API logged after line FROM_LINE of the
# debug server's log, one per line, without the "(N params)" suffix.
logged_sql() {
  tail -n +$(($1 + 1)) "$DLOG" | grep 'data api sql: ' | sed 's/^.*data api sql: //; s/ ([0-9]* params)$//' || true
}

DATA_LEGEND=()
if has data_find_unique || has data_include || has data_keyset; then
  if [[ "$STANDIN" == 1 ]]; then
    NOTES+=("data API scenarios: skipped (the stand-in baseline has no data API)")
  elif ((KEYSET_PAGE < 2 || KEYSET_PAGE * KEYSET_LIMIT > KEYSET_ROWS)); then
    die "KEYSET_PAGE ($KEYSET_PAGE) x KEYSET_LIMIT ($KEYSET_LIMIT) must fit in KEYSET_ROWS ($KEYSET_ROWS), page >= 2"
  else
    DNAME=quarry-dataapi
    DDIR=$TMP/$DNAME
    DLOG=$TMP/$DNAME.log
    QURL="http://127.0.0.1:$QUARRY_PORT"
    DURL="$QURL/db/bench"
    log "data API: setup (Quarry with auth, --log-level debug for the probes)"
    start_quarry "$QUARRY_PORT" "$DNAME" --with-auth --log-level debug
    QPID=$SERVER_PID
    mint() { "$QUARRY_BIN" token create --data "$DDIR" "$@"; }
    ADMIN_TOKEN=$(mint --access admin) || die "could not mint an admin token"
    SERVICE_TOKEN=$(mint --db bench --access rw) || die "could not mint a service token"
    USER_TOKEN=$(mint --db bench --user "$DATA_USER") || die "could not mint a user token"
    r=$(post "$QURL/admin/v1/namespaces" '{"name":"bench"}' "$ADMIN_TOKEN") || die "creating namespace bench failed (curl)"
    [[ "$r" == *'"name":"bench"'* ]] || die "creating namespace bench failed: ${r:0:400}"
    r=$(post "$QURL/admin/v1/namespaces/bench/schema/push" \
      "{\"schema\":$(printf '%s' "$DATA_SCHEMA" | json_quote)}" "$ADMIN_TOKEN") || die "schema push failed (curl)"
    [[ "$r" == *'"recorded":true'* ]] || die "schema push failed: ${r:0:400}"

    # posts: 3 of 4 published; accountId = id % 7, so the user (account 5) also sees a
    # seventh of the drafts. Two comments per post, every tenth hidden.
    seed_sql=()
    if has data_find_unique || has data_include; then
      seed_sql+=("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<1000) INSERT INTO users SELECT x, 'user '||x, 'user'||x||'@example.com', x % 10 FROM c"
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<$DATA_ROWS) INSERT INTO posts SELECT x, 'post '||x, CASE WHEN x % 4 = 0 THEN 'draft' ELSE 'published' END, (x * 7) % 1000, (x % 1000) + 1, x % 7 FROM c"
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<$((2 * DATA_ROWS))) INSERT INTO comments SELECT x, 'comment '||x, x % 10 = 0, ((x - 1) % $DATA_ROWS) + 1 FROM c")
    fi
    if has data_keyset; then
      seed_sql+=("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<$KEYSET_ROWS) INSERT INTO events SELECT x, 'kind'||(x % 7), 'payload of event '||x FROM c")
    fi
    body='{"requests":['
    for s in "${seed_sql[@]}"; do body+="{\"type\":\"execute\",\"stmt\":{\"sql\":$(printf '%s' "$s" | json_quote)}},"; done
    body+='{"type":"execute","stmt":{"sql":"SELECT (SELECT count(*) FROM posts) || '"'/'"' || (SELECT count(*) FROM events)"}},{"type":"close"}]}'
    r=$(post "$DURL/v2/pipeline" "$body" "$ADMIN_TOKEN") || die "seeding bench failed (curl)"
    if [[ "$r" == *'"type":"error"'* || "$r" != *'"results"'* ]]; then
      die "seeding bench failed: ${r:0:400}"
    fi
    log "seeded bench: posts/events = $(printf '%s' "$r" | jget 'd.results[d.results.length - 2].response.result.rows[0][0].value')"

    # findUnique: the data API under the posts read policy, and the same query by hand.
    printf '%s' '{"where":{"id":__ID__}}' >"$TMP/fu.data.json"
    printf '%s' "$(hrana_stmt "SELECT id, title, status, views, authorId, accountId FROM posts WHERE id = ? AND (status = 'published' OR accountId = ?)" \
      "$(hint __ID__),$(hint 5)")" >"$TMP/fu.hrana.json"
    FU_OK=1
    if has data_find_unique; then
      # 8: a draft of account 1 (hidden); 12: a draft of account 5 (the user's); 15: published.
      for id_want in 8:none 12:12 15:15; do
        id=${id_want%%:*} want=${id_want#*:}
        d=$(post "$DURL/v1/posts/findUnique" "$(sed "s/__ID__/$id/g" "$TMP/fu.data.json")" "$USER_TOKEN" |
          jget 'd.data === null ? "none" : d.data.id')
        h=$(post "$DURL/v2/pipeline" "$(sed "s/__ID__/$id/g" "$TMP/fu.hrana.json")" "$SERVICE_TOKEN" |
          jget 'd.results[0].response.result.rows.length === 0 ? "none" : d.results[0].response.result.rows[0][0].value')
        if [[ "$d" != "$want" || "$h" != "$want" ]]; then
          FU_OK=0
          NOTES+=("data_find_unique: id $id gives data API '$d', Hrana '$h', expected '$want': the comparison is not valid")
        fi
      done
    fi

    # include: one data-API request with a policy, a to-one and a to-many include and _count;
    # count its statements in the debug log and run its statement by hand over Hrana.
    INC_DATA='{"where":{"views":{"gte":500}},"orderBy":{"id":"desc"},"include":{"author":true,"comments":true,"_count":true},"limit":20}'
    printf '%s' "$INC_DATA" >"$TMP/inc.data.json"
    INC_STMTS=-
    INC_SAME=no
    if has data_include; then
      n0=$(wc -l <"$DLOG")
      d=$(post "$DURL/v1/posts/findMany" "$INC_DATA" "$USER_TOKEN")
      INC_STMTS=$(logged_sql "$n0" | grep -c . || true)
      sql=$(logged_sql "$n0" | tail -n 1)
      if args=$(sql_args "$sql" '"hidden" = ' "$(hint 0)" '"status" = ' "$(htext published)" \
        '"accountId" = ' "$(hint 5)" '"views" >= ' "$(hint 500)" 'LIMIT ' "$(hint 20)"); then
        hrana_stmt "$sql" "$args" >"$TMP/inc.hrana.json"
        h=$(post "$DURL/v2/pipeline" "$(cat "$TMP/inc.hrana.json")" "$SERVICE_TOKEN")
        INC_SAME=$(D="$d" H="$h" node -e '
          try {
            const d = JSON.parse(process.env.D).data, h = JSON.parse(process.env.H);
            const v = JSON.parse(h.results[0].response.result.rows[0][0].value);
            process.stdout.write(Array.isArray(d) && d.length > 0 && JSON.stringify(d) === JSON.stringify(v) ? "yes" : "no");
          } catch { process.stdout.write("no"); }')
      else
        NOTES+=("data_include: could not give the logged statement its arguments; Hrana side skipped")
      fi
      log "  include: $INC_STMTS statement(s) per request; hand-written copy answers the same: $INC_SAME"
    fi

    # keyset: page 1 and page KEYSET_PAGE of findManyCursor by id, ascending and descending.
    # The deep page's cursor is the nextCursor of page KEYSET_PAGE-1, asked for by its where
    # (a cursor is bound to the model and the orderBy, not to the where), and is checked by
    # the first id of the page it gives.
    declare -A KS_OK KS_PLAN
    if has data_keyset; then
      L=$KEYSET_LIMIT P=$KEYSET_PAGE N=$KEYSET_ROWS
      for dir in asc desc; do
        KS_OK[$dir]=0
        if [[ $dir == asc ]]; then
          prev_where="{\"id\":{\"gt\":$(((P - 2) * L))}}" first1=1 firstp=$(((P - 1) * L + 1))
          op='>' key=$((firstp - 1))
        else
          prev_where="{\"id\":{\"lt\":$((N - (P - 2) * L + 1))}}" first1=$N firstp=$((N - (P - 1) * L))
          op='<' key=$((firstp + 1))
        fi
        printf '%s' "{\"limit\":$L,\"orderBy\":{\"id\":\"$dir\"}}" >"$TMP/ks.$dir.p1.json"
        cur=$(post "$DURL/v1/events/findManyCursor" \
          "{\"where\":$prev_where,\"limit\":$L,\"orderBy\":{\"id\":\"$dir\"}}" "$USER_TOKEN" | jget 'd.data.nextCursor')
        printf '%s' "{\"limit\":$L,\"orderBy\":{\"id\":\"$dir\"},\"cursor\":\"$cur\"}" >"$TMP/ks.$dir.deep.json"
        n0=$(wc -l <"$DLOG")
        g1=$(post "$DURL/v1/events/findManyCursor" "$(cat "$TMP/ks.$dir.p1.json")" "$USER_TOKEN" | jget 'd.data.items[0].id')
        gp=$(post "$DURL/v1/events/findManyCursor" "$(cat "$TMP/ks.$dir.deep.json")" "$USER_TOKEN" | jget 'd.data.items[0].id')
        if [[ "$g1" == "$first1" && "$gp" == "$firstp" ]]; then
          KS_OK[$dir]=1
        else
          NOTES+=("data_keyset $dir: page 1 starts at '$g1' (want $first1), page $P at '$gp' (want $firstp); not measured")
        fi
        # Where the time goes: SQLite's plan for each logged statement, and one timed run.
        plans=()
        while IFS= read -r sql; do
          args=$(sql_args "$sql" "\"id\" $op " "$(hint "$key")" 'LIMIT ' "$(hint $((L + 1)))") ||
            { plans+=("?"); continue; }
          plan=$(post "$DURL/v2/pipeline" "$(hrana_stmt "EXPLAIN QUERY PLAN $sql" "$args")" "$ADMIN_TOKEN" |
            jget 'd.results[0].response.result.rows.map(r => r[3].value).join(", ")')
          ms=$(post "$DURL/v2/pipeline" "$(hrana_stmt "$sql" "$args")" "$ADMIN_TOKEN" |
            jget 'd.results[0].response.result.query_duration_ms.toFixed(2)')
          plans+=("$plan, ${ms} ms")
        done < <(logged_sql "$n0")
        KS_PLAN[$dir]="page 1: ${plans[0]:-?}; page $P: ${plans[1]:-?}"
      done
    fi

    cp "$DLOG" "$TMP/$DNAME-debug.log"
    stop_pid "$QPID" "$DNAME"
    log "data API: measuring (Quarry with auth, --log-level warn, same data)"
    start_quarry "$QUARRY_PORT" "$DNAME" --with-auth
    QPID=$SERVER_PID

    if has data_find_unique; then
      log "data findUnique (user token, row policy) vs the same SELECT over Hrana"
      run_wrk json_post "$QUARRY_PORT" data_find_unique.data "$QPID" /db/bench/v1/posts/findUnique \
        BENCH_BODY_FILE="$TMP/fu.data.json" BENCH_ID_MAX="$DATA_ROWS" QUARRY_TOKEN="$USER_TOKEN"
      q=("$W_RPS" "$W_P99" "$W_ERR" "$W_CPU")
      run_wrk json_post "$QUARRY_PORT" data_find_unique.hrana "$QPID" /db/bench/v2/pipeline \
        BENCH_BODY_FILE="$TMP/fu.hrana.json" BENCH_ID_MAX="$DATA_ROWS" QUARRY_TOKEN="$SERVICE_TOKEN"
      met=no
      ge "$(awk -v a="${q[0]}" -v b="$W_RPS" 'BEGIN{print ((b>0)?a/b:0)}')" 0.8 && met=yes
      [[ "$FU_OK" == 1 ]] || met="invalid"
      add_row "data findUnique" "${q[0]}" "$W_RPS" "${q[1]}" "$W_P99" "${q[2]}" "$W_ERR" \
        "${q[3]}" "$W_CPU" ">=0.8x" "$met"
      DATA_LEGEND+=("data findUnique: Quarry = POST /db/bench/v1/posts/findUnique {\"where\":{\"id\":<random 1..$DATA_ROWS>}} with a user token $DATA_USER under the posts read policy; baseline = the same SELECT with the policy written out, over Hrana with a service token, same server")
    fi

    if has data_include; then
      log "data include (findMany + to-one, to-many, _count, policies) vs its statement over Hrana"
      run_wrk json_post "$QUARRY_PORT" data_include.data "$QPID" /db/bench/v1/posts/findMany \
        BENCH_BODY_FILE="$TMP/inc.data.json" QUARRY_TOKEN="$USER_TOKEN"
      q=("$W_RPS" "$W_P99" "$W_ERR" "$W_CPU")
      if [[ -f "$TMP/inc.hrana.json" ]]; then
        run_wrk json_post "$QUARRY_PORT" data_include.hrana "$QPID" /db/bench/v2/pipeline \
          BENCH_BODY_FILE="$TMP/inc.hrana.json" QUARRY_TOKEN="$SERVICE_TOKEN"
      else
        W_RPS=0 W_P99=0 W_ERR=-1 W_CPU=0
      fi
      p99r=$(awk -v a="${q[1]}" -v b="$W_P99" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print 0 }')
      met=no
      if [[ "$INC_STMTS" == 1 ]] && le "$p99r" 1.3 && awk -v r="$p99r" 'BEGIN { exit !(r > 0) }'; then met=yes; fi
      [[ "$INC_SAME" == yes ]] || met="invalid"
      add_row "data include" "${q[0]}" "$W_RPS" "${q[1]}" "$W_P99" "${q[2]}" "$W_ERR" \
        "${q[3]}" "$W_CPU" "1 stmt, p99<=1.3x" "$met ($INC_STMTS stmt, p99 ${p99r}x)"
      DATA_LEGEND+=("data include: Quarry = POST /db/bench/v1/posts/findMany $INC_DATA with the user token ($DATA_ROWS posts, 1000 users, $((2 * DATA_ROWS)) comments, policies on posts and comments); baseline = that request's one logged statement, sent over Hrana with a service token. Statements per data-API request: $INC_STMTS (counted in the debug log); the hand-written copy answers the same JSON: $INC_SAME")
    fi

    if has data_keyset; then
      for dir in asc desc; do
        if [[ "${KS_OK[$dir]}" != 1 ]]; then
          add_row "keyset $dir p$KEYSET_PAGE" - 0 - 0 - - - - "p${KEYSET_PAGE}<=1.5x p1" "not measured"
          continue
        fi
        log "data keyset $dir: findManyCursor page 1 vs page $KEYSET_PAGE"
        run_wrk json_post "$QUARRY_PORT" "data_keyset.$dir.p1" "$QPID" /db/bench/v1/events/findManyCursor \
          BENCH_BODY_FILE="$TMP/ks.$dir.p1.json" QUARRY_TOKEN="$USER_TOKEN"
        b=("$W_RPS" "$W_P99" "$W_ERR" "$W_CPU")
        run_wrk json_post "$QUARRY_PORT" "data_keyset.$dir.p$KEYSET_PAGE" "$QPID" /db/bench/v1/events/findManyCursor \
          BENCH_BODY_FILE="$TMP/ks.$dir.deep.json" QUARRY_TOKEN="$USER_TOKEN"
        costr=$(awk -v a="${b[0]}" -v b="$W_RPS" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print 0 }')
        p99r=$(awk -v a="$W_P99" -v b="${b[1]}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print 0 }')
        met=no
        if le "$costr" 1.5 && le "$p99r" 1.5 && awk -v r="$costr" 'BEGIN { exit !(r > 0) }'; then met=yes; fi
        add_row "keyset $dir p$KEYSET_PAGE" "$W_RPS" "${b[0]}" "$W_P99" "${b[1]}" "$W_ERR" "${b[2]}" \
          "$W_CPU" "${b[3]}" "p${KEYSET_PAGE}<=1.5x p1" "$met (cost ${costr}x, p99 ${p99r}x)"
        DATA_LEGEND+=("keyset $dir: SQLite plan and one timed run over Hrana of the logged statements: ${KS_PLAN[$dir]}")
      done
      DATA_LEGEND=("keyset asc|desc p$KEYSET_PAGE: Quarry = findManyCursor on events ($KEYSET_ROWS rows, limit $KEYSET_LIMIT, orderBy id asc|desc, user token) at page $KEYSET_PAGE with its cursor; baseline = page 1 of the same query; cost = page-1 req/s / page-$KEYSET_PAGE req/s" "${DATA_LEGEND[@]}")
    fi
    stop_pid "$QPID" "$DNAME"
    for f in fu.data fu.hrana inc.data inc.hrana ks.asc.p1 ks.asc.deep ks.desc.p1 ks.desc.deep; do
      if [[ -f "$TMP/$f.json" ]]; then cp "$TMP/$f.json" "$RESULTS_DIR/data.$f.json"; fi
    done
  fi
fi

# ---------------------------------------------------------------- table --

echo
echo "== Results ($QLABEL vs baseline, same run; ratio = $QLABEL / baseline)"
# shellcheck disable=SC2059
printf "$ROW_FMT\n" scenario "Quarry req/s" "baseline req/s" ratio "Quarry p99" "baseline p99" \
  errors "CPU us/req" "target: met?"
for r in "${ROWS[@]:-}"; do [[ -n "$r" ]] && echo "$r"; done
if [[ "$B_RSS_PS" != 0 || "$Q_RSS_PS" != 0 ]]; then
  printf '%-34s %10.1f MiB   baseline %.1f MiB (orientation)\n' "RSS after point select ($QLABEL)" \
    "$(awk -v k="$Q_RSS_PS" 'BEGIN{print k/1024}')" "$(awk -v k="$B_RSS_PS" 'BEGIN{print k/1024}')"
fi
[[ -n "$MEM_LINE" ]] && echo "$MEM_LINE"
for n in "${DATA_LEGEND[@]:-}"; do [[ -n "$n" ]] && echo "$n"; done
if [[ ${#PC_ROWS[@]} -gt 0 ]]; then
  echo
  echo "== Per core (issue 8): $PC_HEADER"
  # shellcheck disable=SC2059
  printf "$PC_FMT\n" "scenario: server" "req/s" "p99" "CPU us/req" "ctxsw/req" "wrk CPU" "others on srv" errors
  for r in "${PC_ROWS[@]}"; do echo "$r"; done
  for v in "${PC_VERDICTS[@]:-}"; do [[ -n "$v" ]] && echo "$v"; done
  if ((PC_BUSY_RUNS > 0)); then
    echo "WARNING: in $PC_BUSY_RUNS of the ${#PC_ROWS[@]} per-core runs other processes took more than 10% of CPU $SERVER_CPU (up to ${PC_BUSY_MAX}%): the server shared its core, so its CPU/request is inflated (cache and scheduler) and its req/s low"
  fi
  echo "CPU us/req = the server's CPU time (user+system, all threads, /proc/PID/stat) per request; ctxsw/req = its threads' voluntary+involuntary context switches per request; wrk CPU = the load generator's own CPU time over the run (wrk's; node's ws_load.mjs for the WebSocket rows), in % of one core (near 100% = the load generator is the limit, so compare CPU/request rather than req/s); others on srv = share of the server's CPU used by other processes"
fi
if [[ ${#RT_LINES[@]} -gt 0 ]]; then
  echo
  echo "== Realtime (issue 9): bench/realtime_load.mjs, one namespace, $([[ "${RT_PINNED:-0}" == 1 ]] && echo "server pinned to CPU $SERVER_CPU, load generator to CPU $LOAD_CPU" || echo "unpinned")"
  for r in "${RT_LINES[@]}"; do echo "$r"; done
fi
for n in "${NOTES[@]:-}"; do [[ -n "$n" ]] && echo "note: $n"; done
echo "errors = $QLABEL/baseline: non-200 + Hrana error results + socket errors during the measured run"
echo "CPU us/req = $QLABEL/baseline server CPU time (user+system, all threads) per request; wrk shares the 2 cores"
echo "raw wrk output: bench/results/*.wrk.txt (ws_load.mjs: *.ws.txt); this report: bench/results/latest.txt"
