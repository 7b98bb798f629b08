#!/bin/sh
# One-shot job (service `temporal-schema`, image temporalio/admin-tools):
# creates the Temporal persistence and visibility databases on PostgreSQL and
# brings both schemas to the version shipped with the admin-tools image.
#
# Idempotent: safe on every `docker compose up`, and the way to migrate the
# schema after bumping the Temporal version (bump server and admin-tools
# together, the schema job runs before the server starts).
#
# POSIX sh on purpose: the admin-tools image is Alpine-based.
#
# Connection settings are read by temporal-sql-tool itself from
#   SQL_PLUGIN, SQL_HOST, SQL_PORT, SQL_USER, SQL_PASSWORD
# (set by docker-compose.yml), so the password never shows up in `ps`.
set -eu

: "${SQL_PLUGIN:=postgres12}"
: "${SQL_HOST:?SQL_HOST must be set}"
: "${SQL_USER:?SQL_USER must be set}"
: "${SQL_PASSWORD:?SQL_PASSWORD must be set}"
export SQL_PLUGIN SQL_HOST SQL_USER SQL_PASSWORD

TEMPORAL_DBNAME="${TEMPORAL_DBNAME:-temporal}"
TEMPORAL_VISIBILITY_DBNAME="${TEMPORAL_VISIBILITY_DBNAME:-temporal_visibility}"
SCHEMA_ROOT="${TEMPORAL_SCHEMA_ROOT:-/etc/temporal/schema/postgresql/v12}"
TEMPORAL_SCHEMA_DIR="${TEMPORAL_SCHEMA_DIR:-${SCHEMA_ROOT}/temporal/versioned}"
VISIBILITY_SCHEMA_DIR="${VISIBILITY_SCHEMA_DIR:-${SCHEMA_ROOT}/visibility/versioned}"
# How long to keep retrying the first connection (postgres is usually already
# healthy thanks to depends_on, this covers restarts and slow volumes).
CONNECT_TIMEOUT_SECONDS="${CONNECT_TIMEOUT_SECONDS:-120}"

log() { echo "[temporal-schema] $*"; }

for dir in "$TEMPORAL_SCHEMA_DIR" "$VISIBILITY_SCHEMA_DIR"; do
  if [ ! -d "$dir" ]; then
    log "schema directory $dir not found in this image" >&2
    exit 1
  fi
done

# create_database NAME: CREATE DATABASE, treating "already exists" as success.
create_database() {
  db="$1"
  waited=0
  while :; do
    if out=$(temporal-sql-tool --db "$db" create-database 2>&1); then
      log "created database $db"
      return 0
    fi
    case "$out" in
      *"already exists"*)
        log "database $db already exists"
        return 0
        ;;
    esac
    if [ "$waited" -ge "$CONNECT_TIMEOUT_SECONDS" ]; then
      echo "$out" >&2
      log "could not create database $db (gave up after ${waited}s)" >&2
      return 1
    fi
    log "database server not ready yet, retrying in 2s"
    sleep 2
    waited=$((waited + 2))
  done
}

# migrate NAME DIR: version tables (no-op when present) + versioned updates.
migrate() {
  db="$1"
  dir="$2"
  log "setting up schema versioning in $db"
  temporal-sql-tool --db "$db" setup-schema -v 0.0
  log "updating $db from $dir"
  temporal-sql-tool --db "$db" update-schema -d "$dir"
}

log "plugin=${SQL_PLUGIN} host=${SQL_HOST}:${SQL_PORT:-default} user=${SQL_USER}"

create_database "$TEMPORAL_DBNAME"
migrate "$TEMPORAL_DBNAME" "$TEMPORAL_SCHEMA_DIR"

create_database "$TEMPORAL_VISIBILITY_DBNAME"
migrate "$TEMPORAL_VISIBILITY_DBNAME" "$VISIBILITY_SCHEMA_DIR"

log "schema setup complete"
