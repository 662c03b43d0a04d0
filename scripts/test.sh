#!/usr/bin/env bash
# README command 2: installs dependencies (Debian packages, npm packages pinned by
# package-lock.json), builds everything, and runs every test with ctest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
(cd "$root/tests/compat" && npm ci --no-audit --no-fund --loglevel=error)
"$root/scripts/build.sh"
cd "$root/build"
# A test that fails is run once more, its first output kept in the log: a rare timing failure
# must be seen and fixed, not block every run. A real failure fails both attempts. (The one
# such crash found so far, a race on the HTTP acceptor at shutdown, is fixed.)
ctest --output-on-failure -j2 --timeout 900 --repeat until-pass:2
