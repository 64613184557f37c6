#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the relay's PostgreSQL tests, listening on
# 127.0.0.1 only, with a role and a database `candor` that need no password (trust, loopback
# only). Prints the URL to put in CANDOR_TEST_POSTGRES.
#
#   scripts/pg-test-cluster.sh start DIR [PORT]   # PORT defaults to 55432
#   scripts/pg-test-cluster.sh stop DIR
#
# PostgreSQL refuses to run as root: as root, the cluster runs as the `postgres` user.
set -euo pipefail

action=${1:?usage: pg-test-cluster.sh start|stop DIR [PORT] [--tls]}
dir=${2:?usage: pg-test-cluster.sh start|stop DIR [PORT] [--tls]}
port=${3:-55432}
tls=${4:-}
[ -z "$tls" ] || [ "$tls" = --tls ] || { echo "error: unknown option $tls; the only option is --tls" >&2; exit 2; }
bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}
[ -x "$bin/initdb" ] || { echo "error: no PostgreSQL binaries found; install the postgresql package or set PG_BIN" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# A CA, a server certificate for `localhost` signed by it, and a second, unrelated CA.
make_certs() {
  local t=$1
  [ -f "$t/server.crt" ] && return 0
  command -v openssl >/dev/null || { echo "error: --tls needs openssl" >&2; exit 1; }
  mkdir -p "$t"
  for ca in ca other-ca; do
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
      -subj "/CN=candor test $ca" -keyout "$t/$ca.key" -out "$t/$ca.crt" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
  done
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
    -keyout "$t/server.key" -out "$t/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$t/server.ext"
  openssl x509 -req -in "$t/server.csr" -CA "$t/ca.crt" -CAkey "$t/ca.key" -CAcreateserial \
    -days 3650 -extfile "$t/server.ext" -out "$t/server.crt" 2>/dev/null
  chmod 600 "$t/server.key"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$t/server.key" "$t/server.crt"
  return 0
}

case "$action" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --no-instructions >/dev/null
    fi
    ssl_opts=""
    if [ -n "$tls" ]; then
      make_certs "$dir/tls"
      ssl_opts="-c ssl=on -c ssl_cert_file=$dir/tls/server.crt -c ssl_key_file=$dir/tls/server.key"
    fi
    # Loopback only; no unix socket outside the cluster's directory; fsync as in production.
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_connections=200 -c log_statement=none $ssl_opts" \
      start >/dev/null
    as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qtA \
      -c "SELECT 1 FROM pg_roles WHERE rolname = 'candor'" | grep -q 1 ||
      as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -q \
        -c "CREATE ROLE candor LOGIN" -c "CREATE DATABASE candor OWNER candor"
    echo "postgres://candor@127.0.0.1:$port/candor"
    ;;
  stop)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  *)
    echo "error: unknown action $action; use start or stop" >&2
    exit 2
    ;;
esac
