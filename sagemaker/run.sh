#!/usr/bin/env bash
# Entry point of the training and evaluation jobs: SageMaker mounts this folder as the `code` input
# channel and runs `bash run.sh finetune|evaluate`. It installs the job's packages from their hash
# locks (npm run lock:training writes them from the requirements files), then runs the job module.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
job="${1:?usage: run.sh finetune|evaluate}"
case "$job" in
  # The container brings torch, transformers, datasets and accelerate with their dependencies; the
  # extras lock holds the rest, so pip must not resolve again over the container's own releases.
  finetune) install=(--no-deps -r "$here/requirements-extras.lock") ;;
  evaluate) install=(-r "$here/requirements-evaluate.lock") ;;
  *) echo "unknown job: $job" >&2; exit 2 ;;
esac
python="python3"
if [ "$job" = evaluate ]; then
  # vLLM needs the torch build it was compiled against (requirements-evaluate.txt): an environment of
  # its own, so that the container's torch is neither used nor replaced.
  python3 -m venv /tmp/twin-evaluate-env
  python="/tmp/twin-evaluate-env/bin/python"
fi
"$python" -m pip install --quiet --no-cache-dir --require-hashes "${install[@]}"
cd "$here"
exec "$python" -m "twin_training.$job"
