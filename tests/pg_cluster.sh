#!/bin/sh
# tests/pg_cluster.sh - a throwaway PostgreSQL cluster for the tests and the
# benchmark, on loopback, in a temporary directory owned by the postgres user.
#
#   sh tests/pg_cluster.sh start DIR [PORT]   initdb DIR (if new) and start it on
#                                             127.0.0.1:PORT (default: a free
#                                             port); prints the LB_TEST_PG
#                                             conninfo
#   sh tests/pg_cluster.sh stop DIR           stop it (fast shutdown); start
#                                             again later on the same port
#
# Run as root (the server runs as the postgres user, through runuser) or as
# the user who owns DIR.  Uses Debian's /usr/lib/postgresql/VERSION/bin.
# The cluster trusts local connections: it is for tests on loopback only.
set -eu

cmd=${1:-}
dir=${2:-}
port=${3:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
    echo "usage: sh tests/pg_cluster.sh start|stop DIR [PORT]" >&2
    exit 2
fi

bindir=""
for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/pg_ctl" ] && bindir=$d
done
if [ -z "$bindir" ]; then
    echo "pg_cluster: no PostgreSQL server found (apt-get install postgresql)" >&2
    exit 1
fi

# as_pg CMD...: run CMD as the postgres user when root, else as ourselves.
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case $cmd in
start)
    if [ -z "$port" ] && [ -f "$dir/port" ]; then
        port=$(cat "$dir/port")
    fi
    if [ -z "$port" ]; then
        port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    fi
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
    chmod 700 "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_pg "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 \
            --no-locale >"$dir/initdb.log" 2>&1 ||
            { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    # Loopback only; the socket in DIR; fsync stays on (durability is tested).
    as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200" \
        start >/dev/null ||
        { tail -n 20 "$dir/server.log" >&2; exit 1; }
    echo "$port" >"$dir/port"
    echo "host=127.0.0.1 port=$port user=postgres"
    ;;
stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
    fi
    ;;
*)
    echo "pg_cluster: unknown command $cmd (start or stop)" >&2
    exit 2
    ;;
esac
