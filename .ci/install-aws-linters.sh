#!/usr/bin/env bash
# Installs, once, into a virtual environment under ~/.cache/llm-twin: cfn-lint (CloudFormation's own
# template rules) and botocore (AWS's service models: the authority on the error names an SDK
# integration can raise). Prints the environment's folder.
set -euo pipefail
cfn_lint=1.58.0
botocore=1.44.18
venv="$HOME/.cache/llm-twin/aws-linters-$cfn_lint-$botocore"
if [ ! -x "$venv/bin/cfn-lint" ] || ! "$venv/bin/python" -c "import botocore" 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check "cfn-lint==$cfn_lint" "botocore==$botocore" >&2
fi
echo "$venv"
