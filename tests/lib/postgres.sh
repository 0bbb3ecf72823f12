#!/bin/bash
# A throwaway PostgreSQL 15 server for tests of the PostgreSQL store.
#   postgres.sh start DIR PORT   initdb DIR/data (as user postgres when run as
#                                root, else as the current user; not again on
#                                a second start), trust auth,
#                                listening on 127.0.0.1:PORT only (socket in
#                                DIR/sock), fsync on; waits up to 30 s for it
#   postgres.sh url DIR          creates a fresh database and prints its URI
#                                postgresql://postgres@127.0.0.1:PORT/NAME
#   postgres.sh stop DIR         fast shutdown (waits up to 30 s)
# Prints nothing but errors. A missing PostgreSQL is an error (exit 1), never
# a skip. PGBIN overrides /usr/lib/postgresql/15/bin.
set -eu
cmd=${1:?usage: postgres.sh start DIR PORT | url DIR | stop DIR}
dir=${2:?usage: postgres.sh start DIR PORT | url DIR | stop DIR}
bin=${PGBIN:-/usr/lib/postgresql/15/bin}
for b in initdb pg_ctl createdb; do
	[ -x "$bin/$b" ] || { echo "postgres.sh: $bin/$b not found (apt-get install postgresql)" >&2; exit 1; }
done
as_owner() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case $cmd in
start)
	port=${3:?usage: postgres.sh start DIR PORT}
	mkdir -p "$dir/sock"
	# the server's user must reach DIR: its parents need to be traversable
	chmod 0755 "$dir"
	if [ "$(id -u)" = 0 ]; then
		chown -R postgres:postgres "$dir"
		runuser -u postgres -- test -w "$dir" || {
			echo "postgres.sh: user postgres cannot reach $dir (a parent is not traversable)" >&2
			exit 1
		}
	fi
	echo "$port" > "$dir/port"
	# a second start on the same DIR starts the same cluster again
	if [ ! -e "$dir/data/PG_VERSION" ] && ! as_owner "$bin/initdb" -D "$dir/data" -A trust \
	    -U postgres --no-sync >"$dir/initdb.log" 2>&1; then
		echo "postgres.sh: initdb failed:" >&2
		cat "$dir/initdb.log" >&2
		exit 1
	fi
	if ! as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/pg.log" -w -t 30 \
	    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/sock -c fsync=on" \
	    start >/dev/null 2>&1; then
		echo "postgres.sh: the server did not start on 127.0.0.1:$port:" >&2
		tail -20 "$dir/pg.log" >&2
		exit 1
	fi
	;;
url)
	[ -r "$dir/port" ] || { echo "postgres.sh: no server started in $dir" >&2; exit 1; }
	port=$(cat "$dir/port")
	n=$(cat "$dir/dbcount" 2>/dev/null || echo 0)
	n=$((n + 1))
	echo "$n" > "$dir/dbcount"
	name=oc_test_$n
	"$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$name" >&2
	echo "postgresql://postgres@127.0.0.1:$port/$name"
	;;
stop)
	[ -d "$dir/data" ] || exit 0
	as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 || {
		[ -e "$dir/data/postmaster.pid" ] || exit 0
		echo "postgres.sh: stop failed" >&2
		exit 1
	}
	;;
*)
	echo "usage: postgres.sh start DIR PORT | url DIR | stop DIR" >&2
	exit 1
	;;
esac
