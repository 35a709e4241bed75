#!/usr/bin/env bash
# The training jobs' Python environment for the CPU rehearsal: the training container's libraries
# (sagemaker/requirements-container.txt), the training job's pinned extras (requirements.txt) and
# the evaluation job's, but vLLM (requirements-evaluate.txt; vLLM needs a GPU, and on a CPU the job
# generates with transformers), in a virtual environment keyed by those files, kept between runs. torch from PyPI brings its CUDA
# libraries (about 3 GB); the rehearsal uses none of them. Prints the environment's python.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
requirements=(
  "$here/sagemaker/requirements-container.txt"
  "$here/sagemaker/requirements.txt"
  "$here/sagemaker/requirements-evaluate.txt"
)
key=$(cat "${requirements[@]}" | sha256sum | cut -c1-12)
venv="${TWIN_TRAINING_ENV:-$HOME/.cache/llm-twin/training-env-$key}"
if [ ! -f "$venv/.complete" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  evaluate_without_vllm=$(mktemp)
  grep -v '^vllm==' "${requirements[2]}" >"$evaluate_without_vllm"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "${requirements[0]}" -r "${requirements[1]}" \
    -r "$evaluate_without_vllm" >&2
  rm -f "$evaluate_without_vllm"
  touch "$venv/.complete"
fi
echo "$venv/bin/python"
