#!/usr/bin/env bash
# Regenerate gen/ (Go code of the linktor.adapter.v1 contract) from proto/.
# The generators are pinned and installed into .tools/bin with `go install`; buf runs them
# locally (no registry). The generated code is committed so that building the example needs
# only the Go toolchain.
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$root"
PROTOC_GEN_GO_VERSION=v1.36.12
PROTOC_GEN_GO_GRPC_VERSION=v1.6.2
have() { [ -x ".tools/bin/$1" ] && ".tools/bin/$1" --version 2>/dev/null | grep -q "${2#v}"; }
have protoc-gen-go "$PROTOC_GEN_GO_VERSION" ||
  GOBIN="$root/.tools/bin" go install "google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO_VERSION"
have protoc-gen-go-grpc "$PROTOC_GEN_GO_GRPC_VERSION" ||
  GOBIN="$root/.tools/bin" go install "google.golang.org/grpc/cmd/protoc-gen-go-grpc@$PROTOC_GEN_GO_GRPC_VERSION"
out=adapters/examples/go-echo/gen
find "$out" -name '*.pb.go' -delete 2>/dev/null || true
tools/node_modules/.bin/buf generate --template adapters/examples/go-echo/buf.gen.messages.yaml
tools/node_modules/.bin/buf generate --template adapters/examples/go-echo/buf.gen.service.yaml
echo "generated $(find "$out" -name '*.pb.go' | wc -l) files under $out"
