#!/usr/bin/env bash
# Generates the mutual-TLS material between the product and the Temporal
# frontend: a private CA, the frontend's server certificate, a client
# certificate for the worker and the API, and one for Temporal's own system
# worker (which also connects to the frontend, and so must present one).
#
#   deploy/tls/generate-certs.sh <out-dir> [server-name]
#
# server-name (default "temporal", the compose service name) goes into the
# server certificate's SANs beside localhost and 127.0.0.1; clients check it
# through TEMPORAL_TLS_SERVER_NAME. Used by the production test profile
# (scripts/production/) and for docker-compose.yml (docs/production.md).
# Certificates are valid 30 days: a test and trial CA, not a PKI. Existing
# files in <out-dir> are kept, so running it twice is harmless.
set -euo pipefail

out="${1:?usage: generate-certs.sh <out-dir> [server-name]}"
server_name="${2:-temporal}"
days="${TLS_DAYS:-30}"
mkdir -p "$out"
cd "$out"
umask 077

if [[ -f ca.crt && -f server.crt && -f client.crt && -f system-worker.crt ]]; then
  echo "generate-certs: certificates already in $out"
  exit 0
fi

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

key ca.key
openssl req -x509 -new -key ca.key -sha256 -days "$days" -subj "/CN=governance-temporal-ca" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.crt

# leaf NAME CN EXTENDED-KEY-USAGE [SUBJECT-ALT-NAMES]
leaf() {
  local name="$1" cn="$2" eku="$3" san="${4:-}"
  key "$name.key"
  openssl req -new -key "$name.key" -subj "/CN=$cn" -out "$name.csr"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    [[ -n "$san" ]] && echo "subjectAltName=$san"
  } >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days "$days" \
    -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

# clientAuth too: in compose the server presents it to its own nodes (internode mTLS).
leaf server "$server_name" serverAuth,clientAuth "DNS:$server_name,DNS:localhost,IP:127.0.0.1"
leaf client governance-app clientAuth
leaf system-worker temporal-system-worker clientAuth
rm -f ca.srl
# Readable by the processes that use them (containers run as other users);
# the CA key stays private.
chmod 0644 ./*.crt ./client.key ./system-worker.key ./server.key
chmod 0600 ca.key
echo "generate-certs: CA, server ($server_name), client and system-worker certificates in $out"
