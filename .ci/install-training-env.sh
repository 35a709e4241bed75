#!/usr/bin/env bash
# The training jobs' Python environment for the CPU rehearsal and the local twin: the same one
# `twin train --local` sets up for a user (sagemaker/install-local-env.sh), quiet here. Prints its python.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bash "$here/sagemaker/install-local-env.sh" 2> >(grep -v -E '^(Collecting|Downloading|Using cached|  )' >&2 || true)
