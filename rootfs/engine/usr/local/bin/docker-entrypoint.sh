#!/usr/bin/env bash
# docker-entrypoint.sh: first start initialises the data directory, every start
# runs the engine in the foreground.
#
#   docker-entrypoint.sh [postgres [SERVER OPTIONS...]]   run the engine
#   docker-entrypoint.sh -c name=value ...                 the same, options only
#   docker-entrypoint.sh COMMAND [ARGS...]                 run any other command
#
# Environment (POLARDB_* first, then the name the postgres image uses):
#   POLARDB_DATA_DIR   volume holding the instance (default /var/polardb); the
#                      cluster lives in its subdirectory primary_datadir, as in
#                      PolarDB's local instance image. PGDATA overrides the
#                      cluster directory itself.
#   POLARDB_USER       superuser created at initialisation (POSTGRES_USER;
#                      default postgres)
#   POLARDB_PASSWORD   its password (POSTGRES_PASSWORD); or POLARDB_PASSWORD_FILE
#                      (POSTGRES_PASSWORD_FILE) naming a file that holds it
#   POLARDB_PORT       port to listen on (PGPORT; default 5432)
#   POLARDB_HOST_AUTH_METHOD  pg_hba method for network connections
#                      (POSTGRES_HOST_AUTH_METHOD; default scram-sha-256).
#                      Without a password it must be set to trust explicitly.
#   POLARDB_INITDB_ARGS       extra initdb arguments (POSTGRES_INITDB_ARGS)
#   POLARDB_CONFIG_TEMPLATE   configuration template copied into the new
#                      cluster as postgresql.conf (default
#                      /etc/polardb/postgresql.conf, staged from the engine
#                      repository when the image was built)
#
# The engine replaces this script's process (exec), so the runtime's stop
# signal reaches the postmaster directly: SIGTERM is a smart shutdown, SIGINT
# (the image's STOPSIGNAL) a fast one.
set -Eeuo pipefail

readonly RUN_USER=postgres

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { printf '%s: error: %s\n' "${0##*/}" "$*" >&2; exit 1; }

# first_set prints the value of the first named variable that is set and not
# empty.
first_set() {
	local name
	for name in "$@"; do
		if [[ -n ${!name-} ]]; then
			printf '%s' "${!name}"
			return
		fi
	done
}

load_settings() {
	DATA_ROOT=${POLARDB_DATA_DIR:-/var/polardb}
	CLUSTER_DIR=${PGDATA:-$DATA_ROOT/primary_datadir}
	SUPERUSER=$(first_set POLARDB_USER POSTGRES_USER)
	SUPERUSER=${SUPERUSER:-postgres}
	PORT=$(first_set POLARDB_PORT PGPORT)
	PORT=${PORT:-5432}
	HOST_AUTH=$(first_set POLARDB_HOST_AUTH_METHOD POSTGRES_HOST_AUTH_METHOD)
	INITDB_ARGS=$(first_set POLARDB_INITDB_ARGS POSTGRES_INITDB_ARGS)
	CONFIG_TEMPLATE=${POLARDB_CONFIG_TEMPLATE:-/etc/polardb/postgresql.conf}

	if ! [[ $PORT =~ ^[0-9]{1,5}$ ]] || ((10#$PORT < 1 || 10#$PORT > 65535)); then
		die "POLARDB_PORT must be a port number from 1 to 65535, not \"$PORT\""
	fi
}

# read_password prints the superuser password from the first of
# POLARDB_PASSWORD, POLARDB_PASSWORD_FILE, POSTGRES_PASSWORD,
# POSTGRES_PASSWORD_FILE that is set.
read_password() {
	local var file_var file value
	for var in POLARDB_PASSWORD POSTGRES_PASSWORD; do
		file_var=${var}_FILE
		value=${!var-}
		file=${!file_var-}
		if [[ -n $value && -n $file ]]; then
			die "set either $var or $file_var, not both"
		fi
		if [[ -n $file ]]; then
			[[ -r $file ]] || die "$file_var names \"$file\", which cannot be read"
			# A trailing newline in a secret file is not part of the password.
			value=$(<"$file")
		fi
		if [[ -n $value ]]; then
			printf '%s' "$value"
			return
		fi
	done
}

# drop_privileges re-runs this script as the database user when started as
# root, after giving that user the data volume.
drop_privileges() {
	[[ $(id -u) -eq 0 ]] || return 0
	mkdir -p "$DATA_ROOT"
	find "$DATA_ROOT" -xdev \! -user "$RUN_USER" -exec chown "$RUN_USER:" {} + 2>/dev/null || true
	chmod 0700 "$DATA_ROOT"
	if command -v setpriv >/dev/null; then
		exec setpriv --reuid="$RUN_USER" --regid="$RUN_USER" --init-groups "$0" "$@"
	fi
	exec runuser -u "$RUN_USER" -- "$0" "$@"
}

# initdb_settings prints the settings initdb chose for this machine (memory,
# locale, time zone), so the template only has to name what it changes.
initdb_settings() {
	grep -E '^[[:space:]]*[a-z_.]+[[:space:]]*=' "$1" || true
}

write_config() {
	local generated=$CLUSTER_DIR/postgresql.conf.initdb
	mv "$CLUSTER_DIR/postgresql.conf" "$generated"
	{
		printf '# Settings initdb chose for this machine.\n'
		initdb_settings "$generated"
		printf '\n# Configuration template: %s\n' "$CONFIG_TEMPLATE"
		cat "$CONFIG_TEMPLATE"
		printf '\n# Container settings (the port comes from POLARDB_PORT at each start).\n'
		printf "listen_addresses = '*'\n"
	} >"$CLUSTER_DIR/postgresql.conf"
	rm -f "$generated"
	printf 'host all all all %s\n' "$HOST_AUTH" >>"$CLUSTER_DIR/pg_hba.conf"
}

initialise() {
	local password
	password=$(read_password)
	if [[ -z $password && $HOST_AUTH != trust ]]; then
		die "no superuser password: set POLARDB_PASSWORD (or POLARDB_PASSWORD_FILE)," \
			"or set POLARDB_HOST_AUTH_METHOD=trust to allow password-less network logins"
	fi
	HOST_AUTH=${HOST_AUTH:-scram-sha-256}
	[[ -r $CONFIG_TEMPLATE ]] || die "configuration template $CONFIG_TEMPLATE is missing"

	if [[ -d $CLUSTER_DIR && -n $(ls -A "$CLUSTER_DIR") ]]; then
		die "$CLUSTER_DIR is not empty but holds no cluster (no PG_VERSION);" \
			"empty it or point POLARDB_DATA_DIR at an empty volume"
	fi
	mkdir -p "$CLUSTER_DIR"
	chmod 0700 "$CLUSTER_DIR"

	# The directory was empty, so a failed initialisation empties it again:
	# the next start then initialises afresh instead of running a cluster
	# that lacks its configuration.
	PWFILE=''
	trap abandon_initialisation EXIT
	# The password reaches initdb through a private file, never the command line.
	if [[ -n $password ]]; then
		PWFILE=$(mktemp)
		printf '%s\n' "$password" >"$PWFILE"
	fi
	log "initialising $CLUSTER_DIR (superuser \"$SUPERUSER\", network auth $HOST_AUTH)"
	# shellcheck disable=SC2086 # POLARDB_INITDB_ARGS is a list of arguments
	initdb --pgdata="$CLUSTER_DIR" --username="$SUPERUSER" --data-checksums \
		--auth-local=trust --auth-host="$HOST_AUTH" ${PWFILE:+--pwfile="$PWFILE"} \
		$INITDB_ARGS >&2
	write_config
	[[ -z $PWFILE ]] || rm -f "$PWFILE"
	trap - EXIT
	log "initialised $CLUSTER_DIR"
}

abandon_initialisation() {
	[[ -z $PWFILE ]] || rm -f "$PWFILE"
	log "initialisation failed; emptying $CLUSTER_DIR"
	find "$CLUSTER_DIR" -mindepth 1 -delete
}

main() {
	if [[ $# -eq 0 || ${1:0:1} == - ]]; then
		set -- postgres "$@"
	fi
	if [[ $1 != postgres ]]; then
		exec "$@"
	fi

	load_settings
	drop_privileges "$@"
	if [[ ! -s $CLUSTER_DIR/PG_VERSION ]]; then
		initialise
	fi
	shift
	exec postgres -D "$CLUSTER_DIR" -p "$PORT" "$@"
}

main "$@"
