#!/usr/bin/env bash
# check.sh ENGINE_IMAGE MANAGER_IMAGE
#
# Runs an engine image and a manager image as containers with the buildah
# command (chroot isolation, host network: no daemon needed) and checks what
# they promise: the entrypoint initialises a volume from the staged
# configuration template and runs the engine as a non-root user in the
# foreground; SQL works over the network with the configured superuser and
# password; every polardb-ctl command has its effect on the live server; the
# engine shuts down cleanly on SIGTERM and restarts from its volume.
#
# Prints one "ok"/"not ok" line per check and exits 1 if any failed, 2 on bad
# usage. Containers and files it made are removed on exit (E2E_KEEP=1 keeps
# the work directory for inspection). E2E_PORT picks the port (default: a free
# one); E2E_DEBUG_ASSERTIONS=on|off adds a check that the engine was built
# with or without assertions; lib.sh tells how to choose the buildah store.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

readonly SUPERUSER=admin
readonly SECRETS=/run/polardb-secrets
# The volume is mounted away from the image's VOLUME path: buildah 1.28 at
# times mounts its own anonymous volume over a -v mount of that path.
readonly VOLUME=/srv/polardb
# Where run_in and the server leave their output.
readonly OUT=/run/e2e-out

PASSED=0
FAILED=0
CONTAINERS=()
SERVER_PID=''
WORK=''

# check DESCRIPTION COMMAND...: runs COMMAND, prints its result as one line,
# and shows the command's output when it failed.
check() {
	local description=$1 output status=0
	shift
	output=$("$@" 2>&1) || status=$?
	if ((status == 0)); then
		PASSED=$((PASSED + 1))
		printf 'ok - %s\n' "$description"
	else
		FAILED=$((FAILED + 1))
		printf 'not ok - %s\n' "$description"
		[[ -z $output ]] || printf '%s\n' "$output" | sed -e 's/^/    # /'
	fi
}

# record DESCRIPTION STATUS: records the result of a check run outside check.
record() {
	if (($2 == 0)); then
		PASSED=$((PASSED + 1))
		printf 'ok - %s\n' "$1"
	else
		FAILED=$((FAILED + 1))
		printf 'not ok - %s\n    # exit status %s\n' "$1" "$2"
	fi
}

# lacks PATTERN FILE: succeeds when no line of FILE matches PATTERN.
lacks() {
	if grep -E -- "$1" "$2"; then
		return 1
	fi
}

# expect_status CODE COMMAND...: succeeds when COMMAND exits with CODE; prints
# the command's output either way so that callers can match it.
expect_status() {
	local want=$1 status=0
	shift
	"$@" || status=$?
	((status == want)) || {
		printf 'exit status %s, want %s\n' "$status" "$want"
		return 1
	}
}

# expect_output PATTERN COMMAND...: succeeds when COMMAND succeeds and its
# output matches the extended regular expression PATTERN.
expect_output() {
	local pattern=$1 output
	shift
	output=$("$@" 2>&1) || {
		printf '%s\n' "$output"
		return 1
	}
	grep -Eq -- "$pattern" <<<"$output" || {
		printf 'output does not match /%s/:\n%s\n' "$pattern" "$output"
		return 1
	}
}

# expect_failure PATTERN COMMAND...: succeeds when COMMAND fails and its output
# matches PATTERN.
expect_failure() {
	local pattern=$1 output
	shift
	if output=$("$@" 2>&1); then
		printf 'succeeded, want a failure:\n%s\n' "$output"
		return 1
	fi
	grep -Eq -- "$pattern" <<<"$output" || {
		printf 'output does not match /%s/:\n%s\n' "$pattern" "$output"
		return 1
	}
}

cleanup() {
	local status=$?
	stop_server QUIT >/dev/null 2>&1 || true
	local container
	for container in "${CONTAINERS[@]}"; do
		bh rm "$container" >/dev/null 2>&1 || true
	done
	if [[ -n $WORK && ${E2E_KEEP-} != 1 ]]; then
		rm -rf "$WORK"
	elif [[ -n $WORK ]]; then
		log "kept $WORK"
	fi
	exit "$status"
}

free_port() {
	local port tries
	for tries in $(seq 1 50); do
		port=$((20000 + (RANDOM % 20000)))
		if ! (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			printf '%s' "$port"
			return
		fi
		: "$tries"
	done
	die "found no free port"
}

# new_container VAR IMAGE: creates a container from IMAGE and stores its name
# in VAR. Each container has one job: the buildah command serialises runs in
# one container, so the server gets a container of its own.
new_container() {
	local container
	container=$(bh from --pull=never "$2") || die "cannot create a container from $2"
	CONTAINERS+=("$container")
	printf -v "$1" '%s' "$container"
}

# run_in CONTAINER [RUN OPTIONS...] -- COMMAND...: runs COMMAND in CONTAINER,
# prints its output and returns its exit status. Output and status go through
# files in a mounted directory: the buildah command's forwarding of a short
# command's output is not reliable enough to assert on.
run_in() {
	local container=$1 capture
	local -a options=()
	shift
	while [[ $1 != -- ]]; do
		options+=("$1")
		shift
	done
	shift
	capture=$(mktemp -u "$WORK/out/run.XXXXXX")
	capture=${capture##*/}
	# shellcheck disable=SC2016 # expanded by the shell in the container
	bh run --isolation chroot "${options[@]}" -v "$WORK/out:$OUT" "$container" -- \
		sh -c '"$@" >"$0.out" 2>&1; echo $? >"$0.status"' "$OUT/$capture" "$@" \
		>/dev/null 2>&1 || true
	cat "$WORK/out/$capture.out" 2>/dev/null || true
	if [[ ! -s $WORK/out/$capture.status ]]; then
		printf 'the container did not run: %s\n' "$*"
		return 125
	fi
	return "$(cat "$WORK/out/$capture.status")"
}

# in_client runs a command in a second container of the engine image, beside
# the server; in_manager runs one in the manager container.
in_client() { run_in "$CLIENT" "${CLIENT_ENV[@]}" "${SECRET_VOLUME[@]}" -- "$@"; }
in_manager() { run_in "$MANAGER" "${MANAGER_ENV[@]}" "${SECRET_VOLUME[@]}" -- "$@"; }

# sql_as USER SECRET SQL: runs SQL in a client container, over TCP, as USER
# with the password in secret file SECRET. SQL travels as an argument, not on
# standard input, for the same reason as in run_in.
sql_as() {
	# shellcheck disable=SC2016 # expanded by the shell in the container
	in_client sh -c \
		'PGPASSWORD=$(cat "$0") exec psql -X -q -At -v ON_ERROR_STOP=1 \
			-h 127.0.0.1 -p "$POLARDB_PORT" -U "$1" -d postgres -c "$2"' \
		"$SECRETS/$2" "$1" "$3"
}
sql() { sql_as "$SUPERUSER" superuser "$1"; }
ctl() { in_manager polardb-ctl "$@"; }
# ctl_from FILE ARGS...: runs polardb-ctl with FILE, a path in the manager
# container, as its standard input.
ctl_from() {
	# shellcheck disable=SC2016 # expanded by the shell in the container
	in_manager sh -c 'exec polardb-ctl "$@" <"$0"' "$@"
}

postmaster_pid() {
	head -n 1 "$WORK/data/primary_datadir/postmaster.pid" 2>/dev/null
}

# start_server runs the entrypoint as root (it drops to the database user
# itself) in the background and waits for the health check to pass.
start_server() {
	# shellcheck disable=SC2016 # expanded by the shell in the container
	bh run --isolation chroot --user root "${SERVER_ENV[@]}" "${SECRET_VOLUME[@]}" \
		-v "$WORK/data:$VOLUME" -v "$WORK/out:$OUT" "$SERVER" -- \
		sh -c 'exec "$@" >>"$0" 2>&1' "$OUT/server.log" docker-entrypoint.sh postgres \
		>>"$WORK/out/buildah.log" 2>&1 &
	SERVER_PID=$!
	local deadline=$((SECONDS + 120))
	until in_client polardb-healthcheck >/dev/null 2>&1; do
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			SERVER_PID=''
			sed -e 's/^/    # /' "$WORK/out/server.log" >&2
			die "the engine container exited during start-up"
		fi
		((SECONDS < deadline)) || die "the engine did not become healthy in 120s"
		sleep 0.5
	done
}

# descendants PID: prints the process ids below PID, deepest first.
descendants() {
	local child
	for child in $(ps -o pid= --ppid "$1"); do
		descendants "$child"
		printf '%s\n' "$child"
	done
}

# stop_server SIGNAL: signals the postmaster and waits up to 60 seconds for
# the container's process to end; returns the container's exit status. What
# still runs then (or when no postmaster started) is killed.
stop_server() {
	local signal=$1 pid status=0 deadline=$((SECONDS + 60))
	[[ -n $SERVER_PID ]] || return 0
	pid=$(postmaster_pid) || true
	[[ -z $pid ]] || kill "-$signal" "$pid" 2>/dev/null || true
	while [[ -n $pid ]] && kill -0 "$SERVER_PID" 2>/dev/null && ((SECONDS < deadline)); do
		sleep 0.2
	done
	if kill -0 "$SERVER_PID" 2>/dev/null; then
		log "the engine container did not stop; killing it"
		# shellcheck disable=SC2046 # one process id per word
		kill -KILL $(descendants "$SERVER_PID") "$SERVER_PID" 2>/dev/null || true
	fi
	wait "$SERVER_PID" || status=$?
	SERVER_PID=''
	return "$status"
}

prepare() {
	WORK=$(mktemp -d /tmp/polardb-e2e.XXXXXX)
	mkdir -p "$WORK/data" "$WORK/empty" "$WORK/failed" "$WORK/secrets" "$WORK/out"
	chmod 1777 "$WORK/out" "$WORK/failed"
	PORT=${E2E_PORT:-$(free_port)}
	new_container SERVER "$ENGINE_IMAGE"
	new_container CLIENT "$ENGINE_IMAGE"
	new_container MANAGER "$MANAGER_IMAGE"
	new_container REFUSED "$MANAGER_IMAGE"
	# Settings reach the containers with each run (-e) rather than through
	# buildah config, which would change the containers between runs.
	SERVER_ENV=(-e POLARDB_PORT="$PORT" -e POLARDB_USER="$SUPERUSER"
		-e POLARDB_PASSWORD_FILE="$SECRETS/superuser" -e POLARDB_DATA_DIR="$VOLUME")
	CLIENT_ENV=(-e POLARDB_PORT="$PORT")
	MANAGER_ENV=(-e PGHOST=127.0.0.1 -e PGPORT="$PORT" -e PGUSER="$SUPERUSER"
		-e PGPASSFILE="$SECRETS/pgpass")
	SECRET_VOLUME=(-v "$WORK/secrets:$SECRETS:ro")

	local uid
	uid=$(run_in "$CLIENT" -- id -u postgres) ||
		die "the engine image has no postgres user"
	# Test passwords, random per run; they reach the containers only as files.
	head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$WORK/secrets/superuser"
	head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$WORK/secrets/app"
	# Quotes, a backslash and psql's variable sigil, to test polardb-ctl's quoting.
	printf '%s\n' "it's a \\ :'pw' \"x\"" >"$WORK/secrets/tricky"
	printf '127.0.0.1:%s:*:%s:%s\n' "$PORT" "$SUPERUSER" \
		"$(cat "$WORK/secrets/superuser")" >"$WORK/secrets/pgpass"
	chown -R "$uid" "$WORK/secrets"
	chmod 0700 "$WORK/secrets"
	chmod 0600 "$WORK/secrets"/*
}

check_image() {
	local labels='{{index .OCIv1.Config.Labels "PolarVersion"}}'
	labels+=' {{index .OCIv1.Config.Labels "CodeVersion"}}'
	check "engine image records the engine and project commits as labels" \
		expect_output '^[0-9a-f]{7,} [0-9a-f]{7,}$' \
		bh inspect --type image --format "$labels" "$ENGINE_IMAGE"
	check "manager image carries polardb-ctl and its help" \
		expect_output 'Exit codes:' in_manager polardb-ctl --help
	check "entrypoint refuses an empty volume without a password" \
		expect_failure 'POLARDB_PASSWORD' run_in "$REFUSED" \
		-e POLARDB_DATA_DIR="$VOLUME" -v "$WORK/empty:$VOLUME" -- \
		docker-entrypoint.sh postgres
	check "entrypoint wrote nothing to the refused volume" \
		test -z "$(ls -A "$WORK/empty")"
	check "entrypoint stops when initdb fails" \
		expect_failure 'initialisation failed' run_in "$REFUSED" "${SECRET_VOLUME[@]}" \
		-e POLARDB_DATA_DIR="$VOLUME" -e POLARDB_PASSWORD_FILE="$SECRETS/superuser" \
		-e POLARDB_INITDB_ARGS=--no-such-initdb-option -v "$WORK/failed:$VOLUME" -- \
		docker-entrypoint.sh postgres
	check "a failed initialisation leaves no partial cluster behind" \
		test -z "$(ls -A "$WORK/failed/primary_datadir")"
}

check_engine() {
	local pid
	pid=$(postmaster_pid)
	check "postmaster runs as a non-root user" \
		test "$(stat -c %u "/proc/$pid")" -ne 0
	check "the postmaster is the process the container started" \
		expect_output '^postgres' tr '\0' ' ' <"/proc/$pid/cmdline"
	check "no entrypoint shell stays behind the postmaster (exec)" \
		lacks '^(bash|sh|dash|setpriv|runuser)$' "/proc/$(ps -o ppid= -p "$pid" | tr -d ' ')/comm"
	check "new cluster uses the staged configuration template" \
		grep -q '^# Configuration template: /etc/polardb/postgresql.conf' \
		"$WORK/data/primary_datadir/postgresql.conf"
	check "server listens on the network with the container settings" \
		expect_output "^\\*$" sql "SHOW listen_addresses;"
	check "superuser logs in with its password over TCP" \
		expect_output "^$SUPERUSER\$" sql "SELECT current_user;"
	check "a wrong password is refused" \
		expect_failure 'password authentication failed' sql_as "$SUPERUSER" app "SELECT 1;"
	if [[ -n ${E2E_DEBUG_ASSERTIONS-} ]]; then
		check "engine built with debug_assertions $E2E_DEBUG_ASSERTIONS" \
			expect_output "^$E2E_DEBUG_ASSERTIONS\$" sql "SHOW debug_assertions;"
	fi
	check "create a table, insert and read a row" \
		expect_output '^1\|first$' sql "CREATE TABLE e2e (id int, note text);
INSERT INTO e2e VALUES (1, 'first'); SELECT id, note FROM e2e;"
}

check_manager_health() {
	check "polardb-ctl health reports a healthy writable primary" \
		expect_output '^status: ok$' ctl health
	check "polardb-ctl health names the role" \
		expect_output '^role: primary$' ctl health
	check "polardb-ctl with an unknown command is a usage error (2)" \
		expect_status 2 ctl frobnicate
}

check_manager_users() {
	# shellcheck disable=SC2016 # expanded by the shell in the container
	check "polardb-ctl create-user reads the password from an environment variable" \
		expect_output 'created user "app"' in_manager sh -c \
		'APP_PASSWORD=$(cat "$0") exec polardb-ctl create-user app --password-env APP_PASSWORD' \
		"$SECRETS/app"
	check "the created user logs in with its password" \
		expect_output '^app$' sql_as app app "SELECT current_user;"
	check "the created user is not a superuser" \
		expect_output '^f$' sql "SELECT rolsuper FROM pg_roles WHERE rolname = 'app';"
	check "creating the same user again is a conflict (3)" \
		expect_status 3 ctl_from "$SECRETS/app" create-user app --password-stdin
	check "polardb-ctl create-user --password-stdin --superuser" \
		expect_output 'created user "ops"' \
		ctl_from "$SECRETS/app" create-user ops --password-stdin --superuser
	check "the user created from standard input logs in as a superuser" \
		expect_output '^t$' sql_as ops app "SELECT rolsuper FROM pg_roles
WHERE rolname = current_user;"
	check "polardb-ctl create-user quotes names and passwords" \
		expect_output "created user \"o'brien \"x\"\"" \
		ctl_from "$SECRETS/tricky" create-user "o'brien \"x\"" --password-stdin
	check "that user logs in with its password" \
		expect_output "^o'brien \"x\"\$" sql_as "o'brien \"x\"" tricky "SELECT current_user;"
	check "a missing password variable is a usage error (2)" \
		expect_status 2 ctl create-user nobody --password-env E2E_UNSET_VARIABLE
}

check_manager_read_only() {
	check "polardb-ctl read-only on" expect_output '^read-only: on$' ctl read-only on
	check "writes fail while the instance is read-only" \
		expect_failure 'read-only transaction' sql "INSERT INTO e2e VALUES (2, 'locked');"
	check "polardb-ctl read-only status reports on" \
		expect_output '^read-only: on$' ctl read-only status
	check "polardb-ctl health reports read_only: on" \
		expect_output '^read_only: on$' ctl health
	check "polardb-ctl read-only off" expect_output '^read-only: off$' ctl read-only off
	check "writes work again after read-only off" \
		expect_output '^2$' sql "INSERT INTO e2e VALUES (2, 'unlocked');
SELECT count(*) FROM e2e;"
}

slot_count() {
	sql "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'e2e_slot';"
}

check_manager_slots() {
	check "polardb-ctl replication-slot create" \
		expect_output 'created replication slot "e2e_slot"' \
		ctl replication-slot create e2e_slot --reserve-wal
	check "the slot appears in pg_replication_slots" expect_output '^1$' slot_count
	check "polardb-ctl replication-slot list shows it" \
		expect_output '^e2e_slot physical inactive$' ctl replication-slot list
	check "creating the same slot again is a conflict (3)" \
		expect_status 3 ctl replication-slot create e2e_slot
	check "an invalid slot name is a usage error (2)" \
		expect_status 2 ctl replication-slot create 'Bad-Name'
	check "polardb-ctl replication-slot drop" \
		expect_output 'dropped replication slot "e2e_slot"' ctl replication-slot drop e2e_slot
	check "the slot is gone from pg_replication_slots" expect_output '^0$' slot_count
	check "dropping a missing slot is a conflict (3)" \
		expect_status 3 ctl replication-slot drop e2e_slot
}

auto_conf_sum() {
	sha256sum "$WORK/data/primary_datadir/postgresql.auto.conf" | cut -d' ' -f1
}

check_manager_params() {
	check "SHOW work_mem starts at the default" expect_output '^4MB$' sql "SHOW work_mem;"
	check "polardb-ctl set-param work_mem 8MB" \
		expect_output '^work_mem = 8MB$' ctl set-param work_mem 8MB
	check "a new session sees the new work_mem" expect_output '^8MB$' sql "SHOW work_mem;"

	local before
	before=$(auto_conf_sum)
	check "an unknown parameter is a usage error (2)" \
		expect_status 2 ctl set-param no_such_parameter 1
	check "a value the server rejects is a usage error (2)" \
		expect_status 2 ctl set-param work_mem lots
	check "rejected changes leave postgresql.auto.conf untouched" \
		test "$(auto_conf_sum)" = "$before"
	check "work_mem is still 8MB after the rejected changes" \
		expect_output '^8MB$' sql "SHOW work_mem;"

	check "polardb-ctl set-param with a restart-only parameter says so" \
		expect_output 'restart required' ctl set-param max_connections 120
	# shellcheck disable=SC2016 # $user is a literal list element
	check "polardb-ctl set-param with a list parameter" \
		expect_output "^search_path = app, \"\\\$user\", public$" \
		ctl set-param search_path app '$user' public
	check "polardb-ctl reset-param work_mem" \
		expect_output '^work_mem = 4MB$' ctl reset-param work_mem
	check "polardb-ctl reload" expect_output '^configuration reloaded at ' ctl reload
}

check_lifecycle() {
	# The server is a background job of this shell, so it is stopped here and
	# not inside check's command substitution.
	local status=0
	stop_server TERM || status=$?
	record "SIGTERM shuts the engine down cleanly (exit status 0)" "$status"
	check "the server log records the shutdown" \
		grep -q 'database system is shut down' "$WORK/out/server.log"
	: >"$WORK/out/server.log"
	start_server
	check "a restart reuses the volume without initialising again" \
		lacks 'initialising' "$WORK/out/server.log"
	check "rows written before the restart are still there" \
		expect_output '^2$' sql "SELECT count(*) FROM e2e;"
	check "settings made with set-param survive the restart" \
		expect_output '^120$' sql "SHOW max_connections;"
	status=0
	stop_server INT || status=$?
	record "SIGINT (the image's stop signal) shuts the engine down (exit status 0)" "$status"
}

main() {
	if [[ $# -ne 2 ]]; then
		printf 'usage: check.sh ENGINE_IMAGE MANAGER_IMAGE\n' >&2
		exit 2
	fi
	ENGINE_IMAGE=$1
	MANAGER_IMAGE=$2
	require_buildah
	[[ $(id -u) -eq 0 ]] || die "must run as root (buildah chroot isolation needs it)"
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	# Nothing reads this script's input; containers get none either.
	exec </dev/null

	prepare
	log "engine $ENGINE_IMAGE, manager $MANAGER_IMAGE, port $PORT"
	check_image
	start_server
	check_engine
	check_manager_health
	check_manager_users
	check_manager_read_only
	check_manager_slots
	check_manager_params
	check_lifecycle

	printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
	((FAILED == 0)) || exit 1
}

main "$@"
