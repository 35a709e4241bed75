"""Peak GPU memory of a fine-tuning job, estimated before paying for one (README, "Training on SageMaker").

Deliberately simple arithmetic, the same the README shows, so that a default that cannot fit its
instance fails a test instead of a job:
  weights      parameters x bytes per weight (bf16: 2; NF4 with double quantization: ~0.53), with the
               embeddings and the output head kept in bf16 either way
  LoRA         adapter parameters x 12 bytes (fp32 weight, fp32 gradient, two fp32 Adam moments...
               8-bit Adam keeps them at 2 bytes, counted as 4 to stay on the safe side)
  activations  without checkpointing: 34 x hidden bytes per token per layer (Korthikanti et al., 2022,
               with fused attention); with checkpointing: one bf16 hidden state per token per layer,
               plus one layer recomputed at a time
  logits       tokens x vocabulary x 4 bytes (fp32 for the loss), twice (values and gradient)
  overhead     CUDA context, allocator fragmentation, kernels: 1.5 GiB
"""

from __future__ import annotations

from dataclasses import dataclass

from .hyperparameters import TrainingHyperparameters

GiB = 1024**3


@dataclass(frozen=True)
class ModelShape:
    parameters: float
    hidden: int
    intermediate: int
    layers: int
    vocabulary: int
    kv_hidden: int


# meta-llama/Llama-3.1-8B (config.json): 8.03 B parameters, 32 layers, 8 KV heads of 128.
LLAMA_31_8B = ModelShape(parameters=8.03e9, hidden=4096, intermediate=14336, layers=32, vocabulary=128256, kv_hidden=1024)

# GPU memory of one GPU of the instance types the training workflow offers (what CUDA can allocate).
GPU_GIB = {"ml.g5.2xlarge": 22.0, "ml.g5.4xlarge": 22.0, "ml.g6.2xlarge": 22.0, "ml.g6e.2xlarge": 44.0, "ml.p4d.24xlarge": 39.0}

_PROJECTIONS = {
    "q_proj": lambda s: (s.hidden, s.hidden),
    "k_proj": lambda s: (s.hidden, s.kv_hidden),
    "v_proj": lambda s: (s.hidden, s.kv_hidden),
    "o_proj": lambda s: (s.hidden, s.hidden),
    "gate_proj": lambda s: (s.hidden, s.intermediate),
    "up_proj": lambda s: (s.hidden, s.intermediate),
    "down_proj": lambda s: (s.intermediate, s.hidden),
}


def lora_parameters(params: TrainingHyperparameters, shape: ModelShape) -> float:
    per_layer = sum(params.lora_r * sum(_PROJECTIONS[name](shape)) for name in params.lora_target_modules)
    return per_layer * shape.layers


def shape_from_config(config: dict) -> ModelShape:
    """A model's shape from its config.json (what a local base model folder holds)."""
    hidden = int(config["hidden_size"])
    heads = int(config["num_attention_heads"])
    head_dim = int(config.get("head_dim") or hidden // heads)
    layers = int(config["num_hidden_layers"])
    intermediate = int(config["intermediate_size"])
    vocabulary = int(config["vocab_size"])
    kv_hidden = int(config.get("num_key_value_heads", heads)) * head_dim
    attention = hidden * heads * head_dim * 2 + hidden * kv_hidden * 2
    body = layers * (attention + 3 * hidden * intermediate)
    embeddings = vocabulary * hidden * (1 if config.get("tie_word_embeddings") else 2)
    return ModelShape(parameters=body + embeddings, hidden=hidden, intermediate=intermediate, layers=layers, vocabulary=vocabulary, kv_hidden=kv_hidden)


def available_memory_gib() -> float:
    """Memory the job can still take on this machine: Linux's MemAvailable, else the physical total."""
    try:
        for line in open("/proc/meminfo", encoding="ascii"):
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024 / GiB
    except OSError:
        pass
    import os

    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / GiB


def estimate_cpu_peak_gib(params: TrainingHyperparameters, shape: ModelShape) -> dict[str, float]:
    """The same parts in a CPU's fp32: weights and activations take twice their bf16 bytes (the
    logits are fp32 already), and there is no CUDA context (the Python process with torch loaded:
    about 1 GiB)."""
    estimate = estimate_peak_gib(params, shape)
    weights = shape.parameters * 4 / GiB
    parts = {"weights": weights, "lora": estimate["lora"], "activations": estimate["activations"] * 2, "logits": estimate["logits"], "overhead": 1.0}
    parts["total"] = sum(parts.values())
    return parts


def estimate_peak_gib(params: TrainingHyperparameters, shape: ModelShape = LLAMA_31_8B) -> dict[str, float]:
    tokens = params.per_device_train_batch_size * (params.max_seq_length if params.mode == "sft" else params.max_length * 2)
    embeddings = 2 * shape.vocabulary * shape.hidden
    body = shape.parameters - embeddings
    weights = embeddings * 2 + body * (0.53 if params.load_in_4bit else 2)
    lora = lora_parameters(params, shape) * 12
    if params.gradient_checkpointing:
        layer = tokens * (34 * shape.hidden + 3 * shape.intermediate)
        activations = tokens * shape.hidden * 2 * shape.layers + layer
    else:
        activations = tokens * 34 * shape.hidden * shape.layers
    logits = tokens * shape.vocabulary * 4 * 2
    parts = {"weights": weights, "lora": lora, "activations": activations, "logits": logits}
    estimate = {name: value / GiB for name, value in parts.items()}
    estimate["overhead"] = 1.5
    estimate["total"] = sum(estimate.values())
    return estimate
