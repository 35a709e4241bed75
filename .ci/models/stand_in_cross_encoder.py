"""Builds a STAND-IN cross-encoder for testing the reranker adapter's mechanics, nothing more.

The real reranker, cross-encoder/ms-marco-MiniLM-L-4-v2, is published only on the Hugging Face Hub,
which this build cannot reach, and no package registry carries its weights. This script puts a
sequence-classification head (pooler + one-logit classifier, the cross-encoder layout) on the real
all-MiniLM-L6-v2 encoder. Its pooler is the model's own; its classifier is seeded random numbers, so
its scores mean nothing about relevance. Tests use it to check what does not depend on the weights:
pairs are encoded as pairs, padding does not change a score, batches come back in order.

Usage: stand_in_cross_encoder.py SOURCE_MODEL_DIR OUT_DIR
"""

import json
import shutil
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file


def main() -> None:
    source, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    config = json.loads((source / "config.json").read_text())
    config.update(
        architectures=["BertForSequenceClassification"],
        id2label={"0": "LABEL_0"},
        label2id={"LABEL_0": 0},
        _comment="STAND-IN for tests: all-MiniLM-L6-v2 encoder with a seeded random classifier head",
    )
    (out / "config.json").write_text(json.dumps(config, indent=2))
    weights = load_file(str(source / "model.safetensors"))
    rng = np.random.RandomState(20261128)
    weights["classifier.weight"] = rng.normal(0.0, 0.2, (1, config["hidden_size"])).astype(np.float32)
    weights["classifier.bias"] = np.zeros((1,), np.float32)
    save_file(weights, str(out / "model.safetensors"))
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"):
        if (source / name).exists():
            shutil.copy(source / name, out / name)


if __name__ == "__main__":
    main()
