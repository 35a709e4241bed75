#!/usr/bin/env bash
# Entry point of the training and evaluation jobs: SageMaker mounts this folder as the `code` input
# channel and runs `bash run.sh finetune|evaluate`. It installs the pinned extras into the Hugging
# Face training container, then runs the job module.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
job="${1:?usage: run.sh finetune|evaluate}"
case "$job" in
  finetune) requirements="$here/requirements.txt" ;;
  evaluate) requirements="$here/requirements-evaluate.txt" ;;
  *) echo "unknown job: $job" >&2; exit 2 ;;
esac
python="python3"
if [ "$job" = evaluate ]; then
  # vLLM needs the torch build it was compiled against (requirements-evaluate.txt): an environment of
  # its own, so that the container's torch is neither used nor replaced.
  python3 -m venv /tmp/twin-evaluate-env
  python="/tmp/twin-evaluate-env/bin/python"
fi
"$python" -m pip install --quiet --no-cache-dir -r "$requirements"
cd "$here"
exec "$python" -m "twin_training.$job"
