#!/bin/sh
# One-shot setup for the docker-compose `temporal-setup` service (temporalio/admin-tools):
# waits for the Temporal server and its namespace, then registers the custom search
# attributes the app uses. Safe to run again: existing attributes of the same type are kept.
#
# The attribute list comes from "searchAttributes" in dev-server.json (next to this script,
# or DEV_SERVER_CONFIG) when `jq` is available, as it is in the admin-tools image. Without jq
# it falls back to FALLBACK_ATTRIBUTES below, a copy that must be kept in sync by hand.
#
# Settings (environment): TEMPORAL_ADDRESS (default temporal:7233), TEMPORAL_NAMESPACE
# (default: dev-server.json's "namespace", else "default"), SETUP_TRIES (60) and
# SETUP_INTERVAL_SECONDS (2) bound every wait.
set -eu
set -f # no globbing: the attribute list is split on whitespace below

FALLBACK_ATTRIBUTES='PaymentStatus=Keyword PayoutStatus=Keyword TransferStatus=Keyword MerchantId=Keyword CustomerId=Keyword AmountMinor=Int Currency=Keyword'

TEMPORAL_ADDRESS=${TEMPORAL_ADDRESS:-temporal:7233}
SETUP_TRIES=${SETUP_TRIES:-60}
SETUP_INTERVAL_SECONDS=${SETUP_INTERVAL_SECONDS:-2}
config=${DEV_SERVER_CONFIG:-$(dirname "$0")/dev-server.json}

log() {
  printf '[temporal-setup] %s\n' "$*" >&2
}

# wait_for <what> <command...>: runs the command until it succeeds, at most SETUP_TRIES times.
wait_for() {
  what=$1
  shift
  try=1
  until "$@" >/dev/null 2>&1; do
    if [ "$try" -ge "$SETUP_TRIES" ]; then
      log "gave up waiting for $what after $try tries; last attempt:"
      "$@" >&2 || true
      exit 1
    fi
    try=$((try + 1))
    sleep "$SETUP_INTERVAL_SECONDS"
  done
  log "$what: ok"
}

if command -v jq >/dev/null 2>&1 && [ -r "$config" ]; then
  attributes=$(jq -r '.searchAttributes | to_entries[] | "\(.key)=\(.value)"' "$config")
  namespace=${TEMPORAL_NAMESPACE:-$(jq -r '.namespace // "default"' "$config")}
  log "search attributes from $config"
else
  attributes=$FALLBACK_ATTRIBUTES
  namespace=${TEMPORAL_NAMESPACE:-default}
  log "search attributes from the list in $0 (jq or $config unavailable)"
fi
if [ -z "$attributes" ]; then
  log "no search attributes to register"
  exit 1
fi

wait_for "Temporal at $TEMPORAL_ADDRESS" \
  temporal operator cluster health --address "$TEMPORAL_ADDRESS"
# temporalio/auto-setup registers the namespace only after the server is serving.
wait_for "namespace $namespace" \
  temporal operator namespace describe --address "$TEMPORAL_ADDRESS" --namespace "$namespace"
wait_for "search attributes of $namespace" \
  temporal operator search-attribute list --address "$TEMPORAL_ADDRESS" --namespace "$namespace"

# create_attribute <name> <type>: an attribute that exists with the same type is fine; with
# another type it is an error (fix it by hand, Temporal cannot change a type in place).
create_attribute() {
  try=1
  while :; do
    if output=$(temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" \
      --namespace "$namespace" --name "$1" --type "$2" 2>&1); then
      log "search attribute $1 ($2): registered"
      return 0
    fi
    case $output in
      *'different type'*)
        log "search attribute $1 exists with a type other than $2: $output"
        return 1
        ;;
      *'already exists'* | *'AlreadyExists'*)
        log "search attribute $1 ($2): already exists"
        return 0
        ;;
    esac
    if [ "$try" -ge "$SETUP_TRIES" ]; then
      log "search attribute $1 ($2): failed after $try tries: $output"
      return 1
    fi
    try=$((try + 1))
    sleep "$SETUP_INTERVAL_SECONDS"
  done
}

for pair in $attributes; do
  name=${pair%%=*}
  type=${pair#*=}
  if [ -z "$name" ] || [ -z "$type" ] || [ "$name" = "$pair" ]; then
    log "malformed search attribute entry: $pair"
    exit 1
  fi
  create_attribute "$name" "$type"
done

# Check that every attribute is now listed.
listed=$(temporal operator search-attribute list --address "$TEMPORAL_ADDRESS" --namespace "$namespace")
for pair in $attributes; do
  name=${pair%%=*}
  if ! printf '%s\n' "$listed" | grep -qw -- "$name"; then
    log "search attribute $name is missing from the list:"
    printf '%s\n' "$listed" >&2
    exit 1
  fi
done
log "done: all search attributes are registered in namespace $namespace"
