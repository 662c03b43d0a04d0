#!/usr/bin/env bash
# Configures and builds Quarry into ./build (RelWithDebInfo). Extra arguments are make targets.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build" -j2 ${1:+--target "$@"}
