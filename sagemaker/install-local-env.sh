#!/usr/bin/env bash
# The Python environment of the training job code on this machine (`twin train --local`, the CPU
# rehearsal): every package of requirements.lock (the training container's libraries and the jobs'
# extras, vLLM aside: it needs a GPU) plus requirements-local.lock (gguf-py, sentencepiece), installed
# with their hashes checked into a virtual environment keyed by both locks, once, and kept. torch from
# PyPI brings its CUDA libraries: about 7 GB in all. Prints the environment's python on stdout; pip's
# progress goes to stderr.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
key=$(cat "$here/requirements.lock" "$here/requirements-local.lock" | sha256sum | cut -c1-12)
venv="${TWIN_TRAINING_ENV:-$HOME/.cache/llm-twin/training-env-$key}"
if [ ! -f "$venv/.complete" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --disable-pip-version-check --progress-bar off --require-hashes -r "$here/requirements.lock" >&2
  "$venv/bin/pip" install --disable-pip-version-check --progress-bar off --require-hashes --no-deps -r "$here/requirements-local.lock" >&2
  touch "$venv/.complete"
fi
echo "$venv/bin/python"
