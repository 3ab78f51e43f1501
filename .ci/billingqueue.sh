#!/usr/bin/env bash
# CI for the nested module billingqueue/ (River billing runs): installs
# Postgres if missing (the tests start a throwaway cluster with initdb and
# pg_ctl), then go vet, staticcheck and go test -race with the full proofs
# (IAMPORT_SOAK=1: 10,000 charges, 3 Postgres worker processes with one
# SIGKILLed, one SQLite process restarted). CI is exported as given: under
# CI=true a test that cannot get Postgres fails instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/../billingqueue"
export PATH="$PATH:$(go env GOPATH)/bin"
export GOFLAGS="${GOFLAGS:-} -mod=readonly"
export CI="${CI:-}"
export IAMPORT_SOAK="${IAMPORT_SOAK:-1}"

step() { printf '\n== billingqueue: %s\n' "$*"; }

step "install: postgresql"
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi
if ! command -v initdb >/dev/null 2>&1; then
  PATH="$PATH:$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n1)")"
  export PATH
fi
initdb --version

step "gofmt"
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

step "go vet"
go vet ./...

step "staticcheck"
staticcheck ./...

step "go test -race (IAMPORT_SOAK=$IAMPORT_SOAK)"
go test -race -count=1 -timeout 20m ./...
