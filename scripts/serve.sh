#!/usr/bin/env bash
# Installs dependencies, builds, and starts `quarry serve` on its embedded default:
# ./quarry-data, 127.0.0.1:8080 (QUARRY_DATA and QUARRY_LISTEN, or --data and --listen, change
# them). Extra arguments go to `quarry serve`.
#
#   ./scripts/serve.sh                 runs the server in the foreground (Ctrl-C stops it)
#   ./scripts/serve.sh --background    returns once the server listens; it keeps running,
#                                      its output in <data folder>/serve.log. When a Quarry
#                                      server already listens there, it says so and returns.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
background=0
args=()
for arg in "$@"; do
  if [[ "$arg" == --background ]]; then background=1; else args+=("$arg"); fi
done
"$root/scripts/build.sh" quarry
bin="$root/build/src/cli/quarry"

# The address the server will listen on: --listen, else QUARRY_LISTEN, else the default.
listen=${QUARRY_LISTEN:-127.0.0.1:8080}
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
    --listen=*) listen=${args[$i]#--listen=} ;;
    --listen) listen=${args[$((i + 1))]:-$listen} ;;
  esac
done

# True when a Quarry server answers GET /version on $listen (plain bash: no curl needed).
quarry_listening() {
  local host=${listen%:*} port=${listen##*:} answer=""
  host=${host#[}
  host=${host%]}
  exec 4<>"/dev/tcp/$host/$port" 2>/dev/null || return 1
  printf 'GET /version HTTP/1.0\r\nHost: %s\r\n\r\n' "$listen" >&4
  answer=$(timeout 5 cat <&4 || true)
  exec 4<&-
  [[ "$answer" == *"quarry "* ]]
}

if ((background == 1)) && quarry_listening; then
  echo "A Quarry server already listens on $listen; using it."
  exit 0
fi
if ((background == 0)); then
  exec "$bin" serve ${args[@]+"${args[@]}"}
fi

# The server's output comes through a pipe: the lines up to "listening on" are shown here,
# which is how this script knows the server is ready (no polling); a background cat then
# appends the rest to the log. If the server stops first (port in use, bad flag), its output
# is shown and the script fails.
exec 3< <(exec "$bin" serve ${args[@]+"${args[@]}"} 2>&1)
pid=$!
while IFS= read -r line <&3; do
  echo "$line"
  if [[ "$line" == "quarry: listening on "* ]]; then
    data=${line##*(data folder }
    data=${data%%[,)]*}
    cat <&3 >>"$data/serve.log" 2>&1 &  # no fd of the caller kept open: a pipe from it ends
    exec 3<&-
    echo "quarry serve is running in the background (pid $pid; stop it with: kill $pid)."
    echo "Its output goes to $data/serve.log."
    exit 0
  fi
done
wait "$pid" || true
echo "serve.sh: quarry serve stopped before it was ready" >&2
exit 1
