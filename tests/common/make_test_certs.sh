#!/usr/bin/env bash
# Makes throwaway TLS material for tests with the `openssl` command (P-256 keys, valid 2 days):
#   make_test_certs.sh ca DIR
#       a certificate authority: DIR/ca.key, DIR/ca.crt
#   make_test_certs.sh server DIR NAME COMMON_NAME SERIAL
#       a server key and certificate for 127.0.0.1 and localhost, signed by DIR's CA, with
#       that subject CN and serial number: DIR/NAME.key, DIR/NAME.crt
# Quiet on success; on failure prints openssl's output to stderr and exits non-zero.
set -euo pipefail
quiet() {
  local out
  if ! out=$("$@" 2>&1); then
    printf '%s\n' "$out" >&2
    exit 1
  fi
}
kind=$1
dir=$2
case "$kind" in
  ca)
    quiet openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
      -keyout "$dir/ca.key" -out "$dir/ca.crt" -subj "/CN=Quarry test CA" \
      -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign"
    ;;
  server)
    name=$3
    cn=$4
    serial=$5
    quiet openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -keyout "$dir/$name.key" -out "$dir/$name.csr" -subj "/CN=$cn"
    printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
      "extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost" \
      "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" >"$dir/$name.ext"
    quiet openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
      -set_serial "$serial" -days 2 -extfile "$dir/$name.ext" -out "$dir/$name.crt"
    rm -f "$dir/$name.csr" "$dir/$name.ext"
    ;;
  *)
    echo "usage: make_test_certs.sh ca DIR | server DIR NAME COMMON_NAME SERIAL" >&2
    exit 2
    ;;
esac
