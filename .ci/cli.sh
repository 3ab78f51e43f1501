#!/usr/bin/env bash
# CI for the iamport CLI (cmd/iamport, its own module): vet, staticcheck and
# the tests with -race, then the cross-language test: Node's test runner
# drives the built binary's fake server (cmd/iamport/testdata/fake_test.mjs).
# Called by .ci/run; runs on its own too: bash .ci/cli.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:$(go env GOPATH)/bin"
export GOFLAGS="${GOFLAGS:-} -mod=readonly"

step() { printf '\n== %s\n' "$*"; }

if ! command -v staticcheck >/dev/null 2>&1; then
  step "install: staticcheck"
  go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
fi
if ! command -v node >/dev/null 2>&1; then
  step "install: node (for the cross-language test)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq nodejs >/dev/null
fi

step "cmd/iamport: gofmt, go vet, staticcheck"
unformatted=$(gofmt -l cmd/iamport)
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
(cd cmd/iamport && go vet ./... && staticcheck ./...)

step "each module builds on its own too (GOWORK=off): go.work must not hide a missing require"
GOWORK=off go vet ./...
(cd cmd/iamport && GOWORK=off go build ./... && GOWORK=off go vet ./...)
echo "ok"

step "cmd/iamport: go run ./cmd/iamport --help (from the root, through go.work)"
go run ./cmd/iamport --help >/dev/null
echo "ok"

step "cmd/iamport: go test -race ./..."
(cd cmd/iamport && go test -race -count=1 ./...)

step "cmd/iamport: the fake driven from Node (node --test)"
bin="$(mktemp -d)/iamport"
go build -o "$bin" ./cmd/iamport
IAMPORT_BIN="$bin" node --test cmd/iamport/testdata/fake_test.mjs
rm -f "$bin"
