#!/usr/bin/env bash
# Runs the README's "Quick start" block, then its "Data API" block, as written, line by line under `set -e`, from the
# repository's folder, and checks what it printed. Only where it runs differs from a user's
# first run: a free loopback port instead of 8080 (the one literal address in the block is
# rewritten; the commands' defaults are moved with QUARRY_LISTEN and QUARRY_URL), a fresh data
# folder (QUARRY_DATA) and a fresh HOME, so it cannot meet a server or profile already there.
# The shell on its last line reads this script's SQL from stdin.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
group=""
cleanup() {
  if [[ -n "$group" ]]; then kill -TERM -- "-$group" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The first ```sh block after "## Quick start".
awk '/^## Quick start/ { section = 1; next }
     section && /^```sh$/ { inside = 1; next }
     inside && /^```$/ { exit }
     inside { print }' "$root/README.md" >"$work/quickstart.sh"
[[ -s "$work/quickstart.sh" ]] || { echo "no quick start block in README.md" >&2; exit 1; }
# Then the "## Data API" block, against the same server.
awk '/^## Data API/ { section = 1; next }
     section && /^```sh$/ { inside = 1; next }
     inside && /^```$/ { exit }
     inside { print }' "$root/README.md" >"$work/data_api.sh"
[[ -s "$work/data_api.sh" ]] || { echo "no data API block in README.md" >&2; exit 1; }
cat "$work/data_api.sh" >>"$work/quickstart.sh"

if command -v python3 >/dev/null; then
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
else
  port=$((20000 + RANDOM % 20000))
fi
sed -i "s/127\.0\.0\.1:8080/127.0.0.1:$port/g" "$work/quickstart.sh"
printf 'select 41 + 1 as answer;\n.tables\n' >"$work/stdin"

# npm keeps using the real cache; everything else a user's home holds starts empty.
export npm_config_cache="${npm_config_cache:-$HOME/.npm}"
export HOME="$work/home" QUARRY_DATA="$work/quarry-data"
export QUARRY_LISTEN="127.0.0.1:$port" QUARRY_URL="http://127.0.0.1:$port"
mkdir -p "$HOME"
unset QUARRY_TOKEN XDG_CONFIG_HOME TOKEN

cd "$root"
# Its own session, so the background server it starts is stopped with it by cleanup.
setsid bash -e "$work/quickstart.sh" <"$work/stdin" >"$work/out" 2>&1 &
group=$!
status=0
wait "$group" || status=$?
cat "$work/out"
fail() { echo "quickstart: $*" >&2; exit 1; }
((status == 0)) || fail "the quick start failed (exit $status)"
grep -q "Created database 'shop'" "$work/out" || fail "quarry db create did not report the database"
grep -q "one: 1" "$work/out" || fail "the node -e line did not print its row"
grep -q " 42" "$work/out" || fail "quarry db shell did not answer the query"
[[ -f "$QUARRY_DATA/serve.log" ]] || fail "serve.sh --background wrote no log"
grep -q '"title": "Hello"' "$work/out" || fail "quarry data did not print the created post"
grep -q '{"data":\[{"id":1,"title":"Hello","status":"draft"' "$work/out" ||
  fail "the data API's findMany did not answer the user's draft"
echo "quickstart: every line ran"
