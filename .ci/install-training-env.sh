#!/usr/bin/env bash
# The training jobs' Python environment for the CPU rehearsal: every package of sagemaker/requirements.lock
# (the training container's libraries, the training job's extras and the evaluation job's but vLLM,
# which needs a GPU; on a CPU the evaluation generates with transformers), installed with their
# hashes checked, in a virtual environment keyed by the lock and kept between runs. torch from PyPI
# brings its CUDA libraries (about 3 GB); the rehearsal uses none of them. Prints the environment's python.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
lock="$here/sagemaker/requirements.lock"
key=$(sha256sum "$lock" | cut -c1-12)
venv="${TWIN_TRAINING_ENV:-$HOME/.cache/llm-twin/training-env-$key}"
if [ ! -f "$venv/.complete" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check --require-hashes -r "$lock" >&2
  touch "$venv/.complete"
fi
echo "$venv/bin/python"
