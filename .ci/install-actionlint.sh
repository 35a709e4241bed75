#!/usr/bin/env bash
# Builds actionlint (the GitHub Actions workflow linter) from the Go module proxy, once, into
# ~/.cache/llm-twin/bin, and prints its path.
set -euo pipefail
version=v1.7.12
bin_dir="$HOME/.cache/llm-twin/bin"
target="$bin_dir/actionlint"
if [ ! -x "$target" ] || ! "$target" -version 2>/dev/null | grep -q "${version#v}"; then
  mkdir -p "$bin_dir"
  GOBIN="$bin_dir" GOFLAGS=-mod=mod go install "github.com/rhysd/actionlint/cmd/actionlint@$version" >&2
fi
echo "$target"
