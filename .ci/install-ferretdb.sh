#!/usr/bin/env bash
# Builds FerretDB (a MongoDB wire-protocol server with an SQLite backend) from the Go module proxy.
# The published module lacks build/version/version.txt, which the binary needs at start-up, so we build
# from a writable copy of the module with that file added.
set -euo pipefail
version="${FERRETDB_VERSION:-v1.24.2}"
dest="${FERRETDB_BIN:-$HOME/.cache/llm-twin/ferretdb-$version}"
if [ -x "$dest" ] && "$dest" --version >/dev/null 2>&1; then
  echo "$dest"
  exit 0
fi
module_dir=$(go mod download -json "github.com/FerretDB/FerretDB@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$module_dir" ] || { echo "FerretDB module $version not found in the Go module cache" >&2; exit 1; }
work=$(mktemp -d)
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
cp -r "$module_dir/." "$work/"
chmod -R u+w "$work"
echo "$version" > "$work/build/version/version.txt"
mkdir -p "$(dirname "$dest")"
(cd "$work" && GOFLAGS=-mod=mod go build -tags ferretdb_no_postgresql -o "$dest" ./cmd/ferretdb) >&2
echo "$dest"
