"""Build an ONNX graph for a BERT encoder from its safetensors weights.

The Hugging Face Hub is unreachable on the build machines, and the registry
packages that carry our models ship safetensors only. Exporting through torch
would mean a multi-gigabyte install, so this script writes the (small, well
known) BERT forward pass as ONNX operators and loads the real weights into it.

Heads:
  encoder              -> output `last_hidden_state` [batch, seq, hidden]
                          (sentence-transformers embedders; pooling is done
                          by the caller)
  sequence-classifier  -> output `logits` [batch, labels]
                          (cross-encoder rerankers: pooler + classifier)

Usage: bert_to_onnx.py MODEL_DIR OUT_FILE [--head encoder|sequence-classifier]
"""

import argparse
import json
import math
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load_file

OPSET = 17  # first opset with LayerNormalization


class GraphBuilder:
    def __init__(self, weights, prefix):
        self.weights = weights
        self.prefix = prefix
        self.nodes = []
        self.initializers = []
        self.counter = 0

    def fresh(self, hint):
        self.counter += 1
        return f"{hint}_{self.counter}"

    def const(self, name, array):
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def weight(self, key, transpose=False):
        array = self.weights[self.prefix + key]
        if transpose:
            array = np.ascontiguousarray(array.T)
        return self.const(key + (".T" if transpose else ""), array)

    def op(self, op_type, inputs, hint=None, **attrs):
        out = self.fresh(hint or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out

    def linear(self, x, key):
        product = self.op("MatMul", [x, self.weight(key + ".weight", transpose=True)])
        return self.op("Add", [product, self.weight(key + ".bias")])

    def layer_norm(self, x, key, eps):
        return self.op(
            "LayerNormalization",
            [x, self.weight(key + ".weight"), self.weight(key + ".bias")],
            axis=-1,
            epsilon=eps,
        )

    def gelu(self, x):
        # The exact (erf) GELU that BERT's "gelu" activation means.
        scaled = self.op("Div", [x, self.const(self.fresh("sqrt2"), np.array(math.sqrt(2.0), np.float32))])
        erf = self.op("Erf", [scaled])
        one_plus = self.op("Add", [erf, self.const(self.fresh("one"), np.array(1.0, np.float32))])
        half_x = self.op("Mul", [x, self.const(self.fresh("half"), np.array(0.5, np.float32))])
        return self.op("Mul", [half_x, one_plus])


def weight_prefix(weights):
    return "bert." if "bert.embeddings.word_embeddings.weight" in weights else ""


def build(model_dir: Path, head: str):
    config = json.loads((model_dir / "config.json").read_text())
    if config.get("model_type") != "bert":
        raise SystemExit(f"{model_dir}: only BERT models are supported, got {config.get('model_type')}")
    weights = load_file(str(model_dir / "model.safetensors"))
    g = GraphBuilder(weights, weight_prefix(weights))
    hidden = config["hidden_size"]
    heads = config["num_attention_heads"]
    head_dim = hidden // heads
    eps = config["layer_norm_eps"]

    # Embeddings: word + position + token type, then LayerNorm.
    words = g.op("Gather", [g.weight("embeddings.word_embeddings.weight"), "input_ids"], axis=0)
    ids_shape = g.op("Shape", ["input_ids"])
    seq_len = g.op("Gather", [ids_shape, g.const("one_index", np.array(1, np.int64))], axis=0)
    positions = g.op(
        "Range", [g.const("zero_i64", np.array(0, np.int64)), seq_len, g.const("one_i64", np.array(1, np.int64))]
    )
    position_emb = g.op("Gather", [g.weight("embeddings.position_embeddings.weight"), positions], axis=0)
    type_emb = g.op("Gather", [g.weight("embeddings.token_type_embeddings.weight"), "token_type_ids"], axis=0)
    summed = g.op("Add", [g.op("Add", [words, position_emb]), type_emb])
    x = g.layer_norm(summed, "embeddings.LayerNorm", eps)

    # Additive attention mask: 0 where attended, a large negative number on padding.
    mask = g.op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    mask = g.op("Unsqueeze", [mask, g.const("mask_axes", np.array([1, 2], np.int64))])
    inverted = g.op("Sub", [g.const("mask_one", np.array(1.0, np.float32)), mask])
    additive_mask = g.op("Mul", [inverted, g.const("mask_neg", np.array(-1e4, np.float32))])

    split_shape = g.const("split_heads", np.array([0, 0, heads, head_dim], np.int64))
    merge_shape = g.const("merge_heads", np.array([0, 0, hidden], np.int64))
    scale = g.const("attention_scale", np.array(1.0 / math.sqrt(head_dim), np.float32))

    for layer in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{layer}."

        def heads_of(name, perm):
            projected = g.linear(x, p + f"attention.self.{name}")
            return g.op("Transpose", [g.op("Reshape", [projected, split_shape])], perm=perm)

        query = heads_of("query", [0, 2, 1, 3])
        key_t = heads_of("key", [0, 2, 3, 1])
        value = heads_of("value", [0, 2, 1, 3])
        scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [query, key_t]), scale]), additive_mask])
        probs = g.op("Softmax", [scores], axis=-1)
        context = g.op("Transpose", [g.op("MatMul", [probs, value])], perm=[0, 2, 1, 3])
        context = g.op("Reshape", [context, merge_shape])
        attended = g.linear(context, p + "attention.output.dense")
        x = g.layer_norm(g.op("Add", [attended, x]), p + "attention.output.LayerNorm", eps)

        intermediate = g.gelu(g.linear(x, p + "intermediate.dense"))
        ffn = g.linear(intermediate, p + "output.dense")
        x = g.layer_norm(g.op("Add", [ffn, x]), p + "output.LayerNorm", eps)

    batch_seq = ["batch", "sequence"]
    inputs = [
        helper.make_tensor_value_info(name, TensorProto.INT64, batch_seq)
        for name in ("input_ids", "attention_mask", "token_type_ids")
    ]
    if head == "encoder":
        g.nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"]))
        outputs = [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, batch_seq + [hidden])]
    else:
        cls = g.op("Gather", [x, g.const("cls_index", np.array(0, np.int64))], axis=1)
        pooled = g.op("Tanh", [g.linear(cls, "pooler.dense")])
        g.prefix = ""  # the classifier sits beside `bert.`, not inside it
        logits = g.linear(pooled, "classifier")
        g.nodes.append(helper.make_node("Identity", [logits], ["logits"]))
        labels = len(config.get("id2label", {"0": "LABEL_0"}))
        outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", labels])]

    graph = helper.make_graph(g.nodes, f"bert_{head}", inputs, outputs, g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="llm-twin")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("out_file", type=Path)
    parser.add_argument("--head", choices=["encoder", "sequence-classifier"], default="encoder")
    args = parser.parse_args()
    model = build(args.model_dir, args.head)
    args.out_file.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(args.out_file))
    print(f"wrote {args.out_file} ({args.out_file.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
