import json

import pytest

from twin_training.hyperparameters import (
    SMOKE_BASE_MODEL,
    HyperparameterError,
    parse_evaluation_hyperparameters,
    parse_hyperparameters,
    read_job_hyperparameters,
)


def test_defaults_are_the_books_sft_settings_and_never_smoke():
    params = parse_hyperparameters({})
    assert params.mode == "sft"
    assert params.smoke is False
    assert params.base_model == "meta-llama/Llama-3.1-8B"
    assert (params.lora_r, params.lora_alpha, params.lora_dropout) == (32, 32, 0.0)
    assert params.lora_target_modules == ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
    assert (params.learning_rate, params.num_train_epochs, params.max_seq_length) == (3e-4, 3.0, 2048)
    assert (params.per_device_train_batch_size, params.gradient_accumulation_steps) == (2, 8)
    assert (params.optim, params.weight_decay, params.warmup_steps, params.seed) == ("adamw_8bit", 0.01, 10, 0)
    assert params.extra_samples == 10000


def test_dpo_has_its_own_optimisation():
    params = parse_hyperparameters({"mode": "dpo"})
    assert (params.beta, params.learning_rate, params.num_train_epochs) == (0.5, 2e-6, 1.0)
    assert params.max_length == 1024


@pytest.mark.parametrize("text", ["False", "false", "0", "no", ""])
def test_false_strings_are_false(text):
    # The book's bug: bool("False") is True, so every run was a dummy run.
    assert parse_hyperparameters({"smoke": text}).smoke is False


def test_smoke_is_explicit_and_tiny():
    params = parse_hyperparameters({"smoke": "true"})
    assert params.smoke is True
    assert params.base_model == SMOKE_BASE_MODEL
    assert params.max_steps == 5 and params.max_samples == 32 and params.extra_samples == 0


def test_every_setting_can_be_overridden_from_strings():
    params = parse_hyperparameters(
        {"learning_rate": "1e-4", "lora_r": "16", "packing": "false", "lora_target_modules": "q_proj, v_proj"}
    )
    assert (params.learning_rate, params.lora_r, params.packing) == (1e-4, 16, False)
    assert params.lora_target_modules == ("q_proj", "v_proj")


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"smoke": "maybe"}, "smoke: expected true or false"),
        ({"lora_r": "thirty-two"}, "lora_r: expected int"),
        ({"epochs": "3"}, "unknown hyperparameters: epochs"),
        ({"mode": "ppo"}, "mode: expected sft or dpo"),
        ({"push_to_hub": "true"}, "hub_model_id: required"),
    ],
)
def test_bad_values_name_the_hyperparameter(raw, message):
    with pytest.raises(HyperparameterError, match=message):
        parse_hyperparameters(raw)


def test_reads_the_job_file_ignoring_sagemakers_own_entries(tmp_path):
    path = tmp_path / "hyperparameters.json"
    path.write_text(json.dumps({"mode": '"dpo"', "smoke": "False", "sagemaker_region": '"eu-west-1"'}))
    params = read_job_hyperparameters(path)
    assert params.mode == "dpo" and params.smoke is False


def test_evaluation_writes_metrics_to_s3_or_only_locally():
    with pytest.raises(HyperparameterError, match="metrics_s3_uri"):
        parse_evaluation_hyperparameters({"metrics_s3_uri": "file:///tmp/metrics.json"})
    assert parse_evaluation_hyperparameters({}).metrics_s3_uri == ""
    params = parse_evaluation_hyperparameters({"metrics_s3_uri": "s3://b/evaluations/x/metrics.json", "smoke": "true"})
    assert (params.temperature, params.top_p, params.min_p) == (0.8, 0.95, 0.05)
    assert params.max_samples == 16


def test_the_local_twins_settings_are_read_strictly():
    params = parse_hyperparameters({"adapter_only": "true", "save_steps": "10", "time_budget_minutes": "2.5"})
    assert params.adapter_only and params.save_steps == 10 and params.time_budget_minutes == 2.5
    with pytest.raises(HyperparameterError, match="save_steps"):
        parse_hyperparameters({"save_steps": "0"})
    with pytest.raises(HyperparameterError, match="time_budget_minutes"):
        parse_hyperparameters({"time_budget_minutes": "-1"})
