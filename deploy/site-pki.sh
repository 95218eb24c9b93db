#!/usr/bin/env bash
# Makes a site's own certificate authority and one server certificate signed by it, for the
# broker's TLS listener and the gateway's HTTPS. Used by provision.sh --with-tls; a chain with
# certificates of its own skips this (docs/security.md).
#
#   deploy/site-pki.sh DIR NAME [NAME...]
#
# NAMEs are the host names and IP addresses screens use to reach this server (the certificate's
# subjectAltName). Writes DIR/ca.key, DIR/ca.pem (10 years), DIR/server.key, DIR/server.pem
# (825 days). What already exists is kept: the CA is made once; the server certificate is made
# again only when a NAME is missing from it or it expires within 30 days. Prints one line per
# file it wrote.
set -euo pipefail

[[ $# -ge 2 ]] || { echo "usage: $0 DIR NAME [NAME...]" >&2; exit 2; }
dir=$1
shift
umask 077
mkdir -p "$dir"

san=""
for name in "$@"; do
    if [[ "$name" =~ ^[0-9.]+$ || "$name" == *:* ]]; then
        san+="${san:+,}IP:$name"
    else
        san+="${san:+,}DNS:$name"
    fi
done

if [[ ! -s "$dir/ca.key" || ! -s "$dir/ca.pem" ]]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
        -subj "/CN=KDS site CA $(hostname -s 2>/dev/null || echo site) $(date +%Y%m%d)" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
    rm -f "$dir/server.pem"
    echo "wrote $dir/ca.pem"
fi

current() { # the server certificate exists, is the CA's, names every NAME, lasts 30 more days
    [[ -s "$dir/server.pem" && -s "$dir/server.key" ]] || return 1
    openssl verify -CAfile "$dir/ca.pem" "$dir/server.pem" >/dev/null 2>&1 || return 1
    openssl x509 -in "$dir/server.pem" -noout -checkend $((30 * 86400)) >/dev/null || return 1
    local have
    have=$(openssl x509 -in "$dir/server.pem" -noout -ext subjectAltName 2>/dev/null | tail -n +2 | tr -d ' ')
    local IFS=,
    for entry in $san; do
        [[ ",$have," == *",${entry/IP:/IPAddress:},"* ]] || return 1
    done
}

if ! current; then
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -subj "/CN=$1" -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
    printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' \
        "$san" >"$dir/server.ext"
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
        -CAcreateserial -days 825 -sha256 -extfile "$dir/server.ext" -out "$dir/server.pem" 2>/dev/null
    rm -f "$dir/server.csr" "$dir/server.ext"
    echo "wrote $dir/server.pem"
fi
chmod 0644 "$dir/ca.pem" "$dir/server.pem"
