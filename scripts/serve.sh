#!/usr/bin/env bash
# README command 1: installs dependencies, builds, and starts `quarry serve` on its embedded
# default: ./quarry-data, 127.0.0.1:8080. Extra arguments go to `quarry serve`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build.sh" quarry
echo "Admin token (after the first start): build/src/cli/quarry token create --access admin"
exec "$root/build/src/cli/quarry" serve "$@"
