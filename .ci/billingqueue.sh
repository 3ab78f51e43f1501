#!/usr/bin/env bash
# CI for the nested module billingqueue/ (River billing runs): installs
# Postgres if missing (the tests start a throwaway cluster with initdb and
# pg_ctl), then gofmt, go vet, staticcheck, and the tests in two steps:
#
#  1. go test -race ./... without the kill proofs: the in-process tests on
#     SQLite and Postgres (faults, dunning on the fake's clock, refunds and
#     refusals, a ctx that ends) under the race detector;
#  2. the full kill proofs with IAMPORT_SOAK=1 (10,000 charges with faults:
#     3 Postgres worker processes with one SIGKILLed and restarted; one SQLite
#     process restarted), built WITHOUT -race: the worker processes are the
#     re-executed test binary, and under -race the two proofs took 12 min on
#     the shared 2-core machine against ~3 min without. BQ_SOAK_RACE=1 runs
#     them under -race too. IAMPORT_SOAK=0 runs the 500-charge version instead.
#
# CI is exported as given: under CI=true a test that cannot get Postgres
# fails instead of skipping.
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

step "go test -race (in-process tests; the kill proofs follow)"
go test -race -count=1 -timeout 10m -skip 'TestProof' ./...

race=""
if [ "${BQ_SOAK_RACE:-}" = 1 ]; then race="-race"; fi
step "kill proofs: go test $race -run TestProof (IAMPORT_SOAK=$IAMPORT_SOAK)"
go test $race -count=1 -timeout 20m -run 'TestProof' -v ./...
