#!/bin/sh
# One-shot job (service `temporal-setup`, image temporalio/admin-tools):
#   1. waits for the Temporal frontend to report SERVING,
#   2. creates the namespace if it is missing,
#   3. registers the product's custom search attributes,
#   4. waits until the frontend accepts a visibility query over all of them,
#      so the worker and api (which start after this job) never see
#      "search attribute ... is not defined".
#
# Idempotent: existing namespace / attributes are left alone, so it runs on
# every `docker compose up`. Adding an attribute = add it to SEARCH_ATTRIBUTES.
#
# POSIX sh on purpose: the admin-tools image is Alpine-based.
set -eu

ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
RETENTION="${TEMPORAL_NAMESPACE_RETENTION:-720h}"
WAIT_TIMEOUT_SECONDS="${WAIT_TIMEOUT_SECONDS:-300}"
# Extra pause after everything checks out, so the history/matching services'
# namespace caches (refreshed every ~10s) have caught up with the new
# search-attribute mapping as well, not only the frontend.
SETTLE_SECONDS="${SETTLE_SECONDS:-10}"

# NAME:TYPE pairs. Keep in sync with the search attributes the workflows
# upsert (GovDueAt is a timestamp, everything else an exact-match keyword).
SEARCH_ATTRIBUTES="${SEARCH_ATTRIBUTES:-GovProcess:Keyword GovStage:Keyword GovRiskLevel:Keyword GovDueAt:Datetime GovOwnerRole:Keyword GovOutcome:Keyword GovGrade:Keyword GovAuditType:Keyword GovWarningLevel:Keyword GovPeriod:Keyword}"

log() { echo "[temporal-setup] $*"; }

t() { temporal --address "$ADDRESS" "$@"; }

# wait_for DESCRIPTION COMMAND...: retry COMMAND every 2s until it succeeds.
wait_for() {
  what="$1"
  shift
  waited=0
  until "$@" >/dev/null 2>&1; do
    if [ "$waited" -ge "$WAIT_TIMEOUT_SECONDS" ]; then
      log "timed out after ${waited}s waiting for: $what" >&2
      "$@" || true # show the last error
      return 1
    fi
    sleep 2
    waited=$((waited + 2))
  done
  log "ok: $what"
}

cluster_serving() { t operator cluster health | grep -q SERVING; }
namespace_exists() { t operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; }
list_search_attributes() { t operator search-attribute list --namespace "$NAMESPACE"; }

log "server=${ADDRESS} namespace=${NAMESPACE}"

# 1. Server --------------------------------------------------------------------
wait_for "Temporal frontend at ${ADDRESS} is SERVING" cluster_serving

# 2. Namespace -----------------------------------------------------------------
if namespace_exists; then
  log "namespace ${NAMESPACE} already exists"
else
  log "creating namespace ${NAMESPACE} (retention ${RETENTION})"
  if ! t operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION" \
    --description "Governance platform workflows"; then
    # Lost a race with a concurrent run, or the create went through but the
    # reply did not: fine as long as the namespace is there now.
    namespace_exists || { log "could not create namespace ${NAMESPACE}" >&2; exit 1; }
  fi
fi
# A new namespace becomes usable once the frontend's namespace cache refreshes.
wait_for "namespace ${NAMESPACE} is usable" list_search_attributes

# 3. Search attributes ---------------------------------------------------------
current="$(list_search_attributes)"
query=""
for spec in $SEARCH_ATTRIBUTES; do
  name="${spec%%:*}"
  type="${spec#*:}"
  if printf '%s\n' "$current" | grep -qw "$name"; then
    # Type column reads e.g. "Keyword" (or INDEXED_VALUE_TYPE_KEYWORD).
    if printf '%s\n' "$current" | grep -w "$name" | grep -qiwE "${type}|INDEXED_VALUE_TYPE_${type}"; then
      log "search attribute ${name} (${type}) already registered"
    else
      # A search attribute's type cannot be changed in place; workflows
      # upserting the wrong type would fail, so stop here.
      log "ERROR: search attribute ${name} exists with another type than ${type}:" >&2
      printf '%s\n' "$current" | grep -w "$name" >&2
      exit 1
    fi
  else
    log "registering search attribute ${name} (${type})"
    if ! out="$(t operator search-attribute create --namespace "$NAMESPACE" \
      --name "$name" --type "$type" 2>&1)"; then
      case "$out" in
        *"already exists"* | *"already registered"*)
          log "search attribute ${name} already exists" ;;
        *)
          if list_search_attributes 2>/dev/null | grep -qw "$name"; then
            log "search attribute ${name} present after a failed create; continuing"
          else
            printf '%s\n' "$out" >&2
            log "could not register search attribute ${name}" >&2
            exit 1
          fi
          ;;
      esac
    fi
  fi
  case "$type" in
    Datetime) clause="${name} > '2000-01-01T00:00:00Z'" ;;
    Int | Double) clause="${name} > 0" ;;
    Bool) clause="${name} = true" ;;
    *) clause="${name} = '__temporal_setup_probe__'" ;;
  esac
  query="${query:+${query} AND }${clause}"
done

# 4. Readiness -----------------------------------------------------------------
# The frontend validates query fields against its cached search-attribute
# mapping: once this query is accepted, starting a workflow that upserts these
# attributes is accepted too.
probe_query() { t workflow list --namespace "$NAMESPACE" --query "$query" --limit 1; }
wait_for "visibility accepts: ${query}" probe_query

if [ "$SETTLE_SECONDS" -gt 0 ]; then
  sleep "$SETTLE_SECONDS"
fi
log "done"
