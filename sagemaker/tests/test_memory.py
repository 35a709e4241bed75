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
