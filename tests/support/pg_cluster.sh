#!/usr/bin/env bash
# pg_cluster: a throwaway PostgreSQL for tests (Debian's server binaries), on a unix socket in its
# own temporary directory, so tests never touch a port or a server someone else runs.
#
#   read -r pgdir pgurl < <(pg_cluster.sh start) || exit   # status 77: no PostgreSQL here, skip
#   ... use "$pgurl" (postgresql://cairn@/cairn?host=$pgdir) ...
#   pg_cluster.sh stop "$pgdir"                             # stops it and removes the directory
#   pg_cluster.sh run CMD...   # CMD with a fresh cluster: PG_URL and CAIRN_SERVER_STORE are its
#                              # URL (every cairn-server CMD starts uses it); CMD's status
#
# `start` prints the directory and the URL of the database `cairn` (user `cairn`, trust auth:
# only this machine's users who can reach the socket directory can connect). PostgreSQL refuses
# to run as root, so as root the server runs as `nobody` (setpriv), owning the directory; `stop`
# is needed as the same user. fsync is off: a test cluster is thrown away, never recovered.
# PG_BINDIR overrides where the binaries are (default: the newest /usr/lib/postgresql/*/bin).
# For benchmarks (bench/run.py): PG_DURABLE=1 keeps fsync on (PostgreSQL's defaults: every
# commit flushed, as in production), and PG_PARENT=DIR makes the cluster under DIR instead of
# /tmp (which may be a tmpfs, where a flush costs nothing).
set -u
bindir=${PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ] || [ ! -x "$bindir/pg_ctl" ]; then
  echo "pg_cluster: no PostgreSQL server binaries (initdb, pg_ctl) under" \
       "/usr/lib/postgresql/*/bin or \$PG_BINDIR; install Debian's postgresql package" >&2
  exit 77
fi

as_pg() {
  if [ "$(id -u)" = 0 ]; then
    setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
  else
    "$@"
  fi
}

case "${1:-}" in
  start)
    nofsync=-F
    [ "${PG_DURABLE:-}" = 1 ] && nofsync=
    dir=$(mktemp -d "${PG_PARENT:-/tmp}/cairn-pg-XXXXXX") || exit 1
    chmod 0755 "$dir"
    [ "$(id -u)" = 0 ] && chown nobody:nogroup "$dir"
    cd "$dir" || exit 1  # the server's user must be able to stand in its working directory
    if ! as_pg "$bindir/initdb" -D "$dir/data" -U cairn --auth=trust -E UTF8 --locale=C.UTF-8 \
           --no-sync >"$dir/initdb.log" 2>&1; then
      echo "pg_cluster: initdb failed:" >&2; cat "$dir/initdb.log" >&2; rm -rf "$dir"; exit 1
    fi
    # No TCP (listen_addresses empty): the socket in $dir is the only way in.
    if ! as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
           -o "-k $dir -c listen_addresses= ${nofsync} -c max_connections=64" start >/dev/null; then
      echo "pg_cluster: the server did not start:" >&2; cat "$dir/server.log" >&2
      rm -rf "$dir"; exit 1
    fi
    if ! as_pg "$bindir/createdb" -h "$dir" -U cairn cairn; then
      as_pg "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null; rm -rf "$dir"; exit 1
    fi
    echo "$dir postgresql://cairn@/cairn?host=$dir"
    ;;
  stop)
    dir=${2:?usage: pg_cluster.sh stop DIR}
    case "$dir" in
      /tmp/cairn-pg-*|*/cairn-pg-*) ;;
      *) echo "pg_cluster: $dir is not a test cluster" >&2; exit 2 ;;
    esac
    cd "$dir" 2>/dev/null || exit 0
    as_pg "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1
    cd / && rm -rf "$dir"
    ;;
  run)
    shift
    started=$(bash "${BASH_SOURCE[0]}" start) || exit $?
    read -r dir url <<<"$started"
    PG_URL=$url CAIRN_SERVER_STORE=$url "$@"
    status=$?
    bash "${BASH_SOURCE[0]}" stop "$dir"
    exit $status
    ;;
  *)
    echo "usage: pg_cluster.sh start | stop DIR | run CMD..." >&2
    exit 2
    ;;
esac
