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
#   SCENARIOS="point_select insert durable_insert memory"
#   NAMESPACES=10000 NS_CONCURRENCY=16   (memory scenario)
#   QUARRY_EXTRA_ARGS   extra arguments for `quarry serve`
#   QUARRY_TOKEN    sent as a Bearer token by the load clients (Quarry is
#                   started with --no-auth anyway)
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
SCENARIOS=${SCENARIOS:-"point_select insert durable_insert memory"}
NAMESPACES=${NAMESPACES:-10000}
NS_CONCURRENCY=${NS_CONCURRENCY:-16}
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
# start_baseline PORT NAME [--durable]
start_baseline() {
  local port=$1 name=$2
  shift 2
  mkdir -p "$TMP/$name"
  node "$BENCH_DIR/baseline/server.mjs" --port "$port" --db "$TMP/$name/baseline.db" "$@" \
    >"$TMP/$name.log" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  wait_ready "$SERVER_PID" "$TMP/$name.log" || die "baseline ($name) did not start"
}

# start_quarry PORT NAME [--durable]
start_quarry() {
  local port=$1 name=$2
  shift 2
  if [[ "$STANDIN" == 1 ]]; then
    start_baseline "$port" "$name" "$@"
    return
  fi
  mkdir -p "$TMP/$name"
  # shellcheck disable=SC2086
  "$QUARRY_BIN" serve --listen "127.0.0.1:$port" --data "$TMP/$name" --no-auth --log-level warn "$@" \
    $QUARRY_EXTRA_ARGS >"$TMP/$name.log" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  wait_ready "$SERVER_PID" "$TMP/$name.log" || die "quarry ($name) did not start"
}

rss_kib() {
  awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0
}

# --------------------------------------------------------------- helpers --

# post URL JSON -> response body on stdout
post() {
  local auth=()
  if [[ -n "${QUARRY_TOKEN:-}" ]]; then auth=(-H "Authorization: Bearer $QUARRY_TOKEN"); fi
  curl -sS --max-time 120 -H 'Content-Type: application/json' "${auth[@]}" --data-binary "$2" "$1"
}

SEED_JSON='{"baton":null,"requests":[
 {"type":"execute","stmt":{"sql":"CREATE TABLE IF NOT EXISTS kv(id INTEGER PRIMARY KEY, v TEXT)"}},
 {"type":"execute","stmt":{"sql":"CREATE TABLE IF NOT EXISTS log(id INTEGER PRIMARY KEY, v TEXT)"}},
 {"type":"execute","stmt":{"sql":"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<'$KV_ROWS') INSERT INTO kv SELECT x, '"'value-'"'||x FROM c"}},
 {"type":"close"}]}'
CHECK_JSON='{"baton":null,"requests":[{"type":"execute","stmt":{"sql":"SELECT count(*) FROM kv"}},{"type":"close"}]}'

# seed PORT WHO: same schema and rows in both servers (namespace "default").
seed() {
  local url="http://127.0.0.1:$1/v2/pipeline" who=$2 r
  r=$(post "$url" "$SEED_JSON") || die "seeding $who failed (curl)"
  if [[ "$r" == *'"type":"error"'* || "$r" != *'"results"'* ]]; then
    die "seeding $who failed: ${r:0:400}"
  fi
  r=$(post "$url" "$CHECK_JSON") || die "checking $who failed (curl)"
  [[ "$r" == *"\"value\":\"$KV_ROWS\""* ]] || die "$who: kv does not hold $KV_ROWS rows: ${r:0:400}"
}

# cpu_ticks PID: user+system CPU time of a process (all threads), in ticks.
cpu_ticks() {
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0
}
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

# run_wrk SCRIPT PORT TAG SERVER_PID -> sets W_RPS W_P99 W_ERR W_CPU (server
# CPU microseconds per request); raw output in $TMP/TAG.wrk
run_wrk() {
  local script=$1 port=$2 tag=$3 spid=$4 url="http://127.0.0.1:$2/v2/pipeline" line c0 c1
  if [[ "$WARMUP" -gt 0 ]]; then
    fg wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s "$BENCH_DIR/wrk/$script.lua" "$url" \
      >"$TMP/$tag.warmup" 2>&1 || true
  fi
  c0=$(cpu_ticks "$spid")
  fg wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s --latency \
    -s "$BENCH_DIR/wrk/$script.lua" "$url" >"$TMP/$tag.wrk" 2>&1 || true
  c1=$(cpu_ticks "$spid")
  cp "$TMP/$tag.wrk" "$RESULTS_DIR/$tag.wrk.txt"
  line=$(grep '^BENCH_RESULT' "$TMP/$tag.wrk" || true)
  if [[ -z "$line" ]]; then
    log "wrk produced no result for $tag:"
    sed 's/^/    /' "$TMP/$tag.wrk"
    W_RPS=0 W_P99=0 W_ERR=-1 W_CPU=0
    return
  fi
  W_RPS=$(field "$line" rps)
  W_P99=$(field "$line" p99_ms)
  W_ERR=$(($(field "$line" non200) + $(field "$line" hrana_errors) + $(field "$line" socket_errors)))
  W_CPU=$(awk -v t=$((c1 - c0)) -v hz="$CLK_TCK" -v n="$(field "$line" requests)" \
    'BEGIN { if (n > 0) printf "%.1f", t / hz * 1e6 / n; else print 0 }')
  log "  $tag: $(printf '%.0f' "$W_RPS") req/s, p99 ${W_P99} ms, errors $W_ERR," \
    "server CPU $(awk -v t=$((c1 - c0)) -v hz="$CLK_TCK" -v d="$DURATION" 'BEGIN { printf "%.0f%%", t / hz / d * 100 }'), ${W_CPU} us/request"
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
command -v node >/dev/null || die "node is required (Node.js 20+)"

# Baseline dependencies: `npm ci` unless the locked better-sqlite3 is already
# installed and loads (a from-source build takes about a minute on 2 cores).
(
  cd "$BENCH_DIR/baseline"
  want=$(node -p "require('./package-lock.json').packages['node_modules/better-sqlite3'].version")
  have=$(node -p "try { require('./node_modules/better-sqlite3/package.json').version } catch { '' }")
  if [[ "${FORCE_NPM_CI:-0}" == 1 || "$want" != "$have" ]] ||
     ! node -e "new (require('better-sqlite3'))(':memory:').close()" 2>/dev/null; then
    log "npm ci in bench/baseline"
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

HAS_DURABLE=0
if [[ "$STANDIN" == 1 ]]; then
  HAS_DURABLE=1
elif "$QUARRY_BIN" serve --help 2>&1 | grep -q -- --durable; then
  HAS_DURABLE=1
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
for n in "${NOTES[@]:-}"; do [[ -n "$n" ]] && echo "note: $n"; done
echo "errors = $QLABEL/baseline: non-200 + Hrana error results + socket errors during the measured run"
echo "CPU us/req = $QLABEL/baseline server CPU time (user+system, all threads) per request; wrk shares the 2 cores"
echo "raw wrk output: bench/results/*.wrk.txt; this report: bench/results/latest.txt"
