#!/usr/bin/env bash
# README command 2: installs dependencies (Debian packages, npm packages pinned by
# package-lock.json), builds everything, and runs every test with ctest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
(cd "$root/tests/compat" && npm ci --no-audit --no-fund --loglevel=error)
(cd "$root/clients/js" && npm ci --no-audit --no-fund --loglevel=error)
"$root/scripts/build.sh"
cd "$root/build"
# No test is retried: a test that fails once is a bug to fix, not noise.
ctest --output-on-failure -j2 --timeout 900
