#!/usr/bin/env bash
# Runs cfn-lint (from .ci/install-aws-linters.sh) on synthesized templates. Errors fail; warnings and
# informational findings are printed. Rules switched off here are listed with the reason.
#   bash .ci/cfn-lint.sh cdk.out/stages/*/*.template.json
set -euo pipefail
venv="${TWIN_AWS_LINTERS:-$(bash "$(dirname "$0")/install-aws-linters.sh")}"
# W3005: CDK writes DependsOn that the references already imply; harmless and not ours to edit.
exec "$venv/bin/cfn-lint" --format parseable --non-zero-exit-code error --ignore-checks W3005 -- "$@"
