#!/usr/bin/env bash
# Installs what Quarry needs to build and test on Debian 12, from Debian's packages. Idempotent:
# does nothing when everything is already installed.
set -euo pipefail

packages=(
  build-essential cmake pkg-config ccache git
  libsqlite3-dev libssl-dev
  libboost1.81-dev libboost-json1.81-dev
  libcli11-dev libtomlplusplus-dev libspdlog-dev libfmt-dev libedit-dev
  libprotobuf-dev protobuf-compiler zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  nodejs npm
)

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
# A newer Node from outside Debian counts as installed.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  filtered=()
  for pkg in "${missing[@]}"; do
    [[ "$pkg" == nodejs || "$pkg" == npm ]] || filtered+=("$pkg")
  done
  missing=("${filtered[@]}")
fi

if ((${#missing[@]} > 0)); then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
