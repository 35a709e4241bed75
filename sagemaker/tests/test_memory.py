from dataclasses import replace

import pytest

from twin_training.hyperparameters import parse_hyperparameters
from twin_training.memory import GPU_GIB, LLAMA_31_8B, estimate_peak_gib, lora_parameters


@pytest.mark.parametrize("mode", ["sft", "dpo"])
def test_the_defaults_fit_the_default_instance_gpu(mode):
    params = parse_hyperparameters({"mode": mode})
    assert params.load_in_4bit and params.gradient_checkpointing
    # 10% left for what the arithmetic does not see.
    assert estimate_peak_gib(params)["total"] <= 0.9 * GPU_GIB["ml.g5.2xlarge"]


def test_the_books_bf16_run_without_checkpointing_does_not_fit_an_a10g():
    old = replace(parse_hyperparameters({}), load_in_4bit=False, gradient_checkpointing=False)
    estimate = estimate_peak_gib(old)
    assert estimate["total"] > GPU_GIB["ml.g5.2xlarge"]
    assert estimate["weights"] == pytest.approx(15.0, abs=0.3)  # 8 B parameters in bf16


def test_lora_on_every_projection_of_llama_8b_is_about_84_million_parameters():
    assert lora_parameters(parse_hyperparameters({}), LLAMA_31_8B) == pytest.approx(83.9e6, rel=0.01)


SMOLLM2_135M_CONFIG = {
    "hidden_size": 576,
    "intermediate_size": 1536,
    "num_attention_heads": 9,
    "num_key_value_heads": 3,
    "num_hidden_layers": 30,
    "vocab_size": 49152,
    "tie_word_embeddings": True,
}


def test_a_local_base_models_shape_comes_from_its_config():
    from twin_training.memory import shape_from_config

    shape = shape_from_config(SMOLLM2_135M_CONFIG)
    assert shape.kv_hidden == 3 * 64
    # SmolLM2-135M has 134.5 M parameters (its model card); norms are left out of the count.
    assert shape.parameters == pytest.approx(134.5e6, rel=0.01)


def test_the_local_twins_cpu_run_is_estimated_in_fp32_and_refused_when_it_cannot_fit():
    from twin_training.memory import estimate_cpu_peak_gib, shape_from_config

    params = parse_hyperparameters(
        {"load_in_4bit": "false", "gradient_checkpointing": "false", "per_device_train_batch_size": "2", "max_seq_length": "512", "lora_r": "16"}
    )
    estimate = estimate_cpu_peak_gib(params, shape_from_config(SMOLLM2_135M_CONFIG))
    assert estimate["weights"] == pytest.approx(134.5e6 * 4 / 2**30, rel=0.02)
    assert 1.5 < estimate["total"] < 4.0
    bigger = estimate_cpu_peak_gib(replace(params, per_device_train_batch_size=64), shape_from_config(SMOLLM2_135M_CONFIG))
    assert bigger["total"] > 24  # more than this 24 GB machine: finetune.py refuses it before loading
