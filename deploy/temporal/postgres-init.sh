#!/usr/bin/env bash
# Creates the database roles of the production stack. Mounted into the
# postgres image's /docker-entrypoint-initdb.d/, so it runs exactly once: when
# the `pgdata` volume is initialised. Changing the passwords in the
# environment afterwards does NOT change the roles (use ALTER ROLE, see
# docs/production.md).
#
#   ${TEMPORAL_DB_USER}        LOGIN CREATEDB, no superuser. The `temporal-schema`
#                              job creates and owns the `temporal` and
#                              `temporal_visibility` databases with this role;
#                              the Temporal server connects with it.
#   ${GOVERNANCE_DB_OWNER}     LOGIN only; owns ${GOVERNANCE_DB_NAME}, the app's
#                              database, and every table in it. Only the
#                              one-shot `migrate` service connects as it.
#   ${GOVERNANCE_DB_USER}      LOGIN only; the runtime role of the worker and
#                              the api. It may connect; what it may do inside
#                              is granted by the migrations (db/migrate.ts):
#                              read and write the tables, but only read and
#                              append to the audit log, never rewrite it.
#
# No role can read another's tables: tables belong to the role that created
# them and PUBLIC gets no table privileges (and, on PostgreSQL 15+, no CREATE
# on the public schema). CONNECT on the application database is revoked from
# PUBLIC. The production test profile (scripts/production/postgres.ts) sets
# up the same three roles.
set -euo pipefail

: "${TEMPORAL_DB_USER:?TEMPORAL_DB_USER must be set}"
: "${TEMPORAL_DB_PASSWORD:?TEMPORAL_DB_PASSWORD must be set}"
: "${GOVERNANCE_DB_OWNER:?GOVERNANCE_DB_OWNER must be set}"
: "${GOVERNANCE_DB_OWNER_PASSWORD:?GOVERNANCE_DB_OWNER_PASSWORD must be set}"
: "${GOVERNANCE_DB_USER:?GOVERNANCE_DB_USER must be set}"
: "${GOVERNANCE_DB_PASSWORD:?GOVERNANCE_DB_PASSWORD must be set}"
: "${GOVERNANCE_DB_NAME:?GOVERNANCE_DB_NAME must be set}"

# psql variables (:"name" for identifiers, :'name' for literals) do the
# quoting, so passwords may contain any character.
psql --no-psqlrc -v ON_ERROR_STOP=1 \
  --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
  -v temporal_user="${TEMPORAL_DB_USER}" \
  -v temporal_password="${TEMPORAL_DB_PASSWORD}" \
  -v owner_user="${GOVERNANCE_DB_OWNER}" \
  -v owner_password="${GOVERNANCE_DB_OWNER_PASSWORD}" \
  -v app_user="${GOVERNANCE_DB_USER}" \
  -v app_password="${GOVERNANCE_DB_PASSWORD}" \
  -v app_db="${GOVERNANCE_DB_NAME}" <<'EOSQL'
CREATE ROLE :"temporal_user" WITH LOGIN CREATEDB PASSWORD :'temporal_password';
CREATE ROLE :"owner_user" WITH LOGIN PASSWORD :'owner_password';
CREATE ROLE :"app_user" WITH LOGIN PASSWORD :'app_password';

CREATE DATABASE :"app_db" OWNER :"owner_user";
REVOKE ALL ON DATABASE :"app_db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"app_db" TO :"app_user";
-- The `postgres` database stays connectable for everyone: temporal-sql-tool
-- connects to it to run CREATE DATABASE.
EOSQL

echo "postgres-init: created roles ${TEMPORAL_DB_USER}, ${GOVERNANCE_DB_OWNER}, ${GOVERNANCE_DB_USER} and database ${GOVERNANCE_DB_NAME}"
