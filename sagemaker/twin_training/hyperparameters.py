"""Job hyperparameters: SageMaker hands every value over as a string; these are parsed strictly."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Mapping

from .paths import HYPERPARAMETERS

LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")

# A tiny model for smoke runs: minutes on any GPU, no gated download, nothing worth deploying.
SMOKE_BASE_MODEL = "HuggingFaceTB/SmolLM2-135M"


class HyperparameterError(ValueError):
    """A hyperparameter that is unknown or cannot be read as its type; the message names it."""


def parse_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no", ""):
        return False
    # bool("False") is True in Python: the book's smoke flag was always on because of that.
    raise HyperparameterError(f"{name}: expected true or false, got {value!r}")


@dataclass(frozen=True)
class TrainingHyperparameters:
    """SFT and DPO settings (SYSTEM.md §4). Every field can be overridden by a job hyperparameter."""

    mode: str = "sft"
    base_model: str = "meta-llama/Llama-3.1-8B"
    smoke: bool = False
    seed: int = 0
    # LoRA, on every projection of the attention and MLP blocks.
    lora_r: int = 32
    lora_alpha: int = 32
    lora_dropout: float = 0.0
    lora_target_modules: tuple[str, ...] = LORA_TARGETS
    # Memory: the 8 B base in 4-bit NF4 (QLoRA) with activations recomputed, so SFT of 2 x 2048 tokens
    # fits the default ml.g5.2xlarge's 24 GB A10G (twin_training/memory.py; README, "Training on
    # SageMaker"). Both need a GPU: a CPU rehearsal turns them off.
    load_in_4bit: bool = True
    gradient_checkpointing: bool = True
    # Optimisation.
    learning_rate: float = 3e-4
    lr_scheduler_type: str = "linear"
    per_device_train_batch_size: int = 2
    gradient_accumulation_steps: int = 8
    num_train_epochs: float = 3.0
    optim: str = "adamw_8bit"
    weight_decay: float = 0.01
    warmup_steps: int = 10
    max_steps: int = -1
    # SFT data: our instruction dataset plus a slice of a general instruction set.
    max_seq_length: int = 2048
    packing: bool = True
    extra_dataset: str = "mlabonne/FineTome-Alpaca-100k"
    extra_samples: int = 10000
    # DPO.
    beta: float = 0.5
    # Prompt and completion together (TRL 0.29 has no separate prompt limit).
    max_length: int = 1024
    # Output. `adapter_only`: the LoRA adapter alone (a local twin, exported as a GGUF adapter for the
    # Q4 base the user serves), not the merged 16-bit model that TGI serves.
    adapter_only: bool = False
    # Checkpoints every `save_steps` steps; a re-run resumes from the last one.
    save_steps: int = 50
    # Stop (with a checkpoint) once this many minutes of training have passed; 0: no limit.
    time_budget_minutes: float = 0.0
    push_to_hub: bool = False
    hub_model_id: str = ""
    hf_token_secret_arn: str = ""
    max_samples: int = 0

    def __post_init__(self) -> None:
        if self.mode not in ("sft", "dpo"):
            raise HyperparameterError(f"mode: expected sft or dpo, got {self.mode!r}")
        if self.push_to_hub and not self.hub_model_id:
            raise HyperparameterError("hub_model_id: required when push_to_hub is true")
        if self.save_steps < 1:
            raise HyperparameterError(f"save_steps: expected at least 1, got {self.save_steps}")
        if self.time_budget_minutes < 0:
            raise HyperparameterError(f"time_budget_minutes: expected 0 or more, got {self.time_budget_minutes}")
        if not 0 <= self.lora_dropout < 1:
            raise HyperparameterError(f"lora_dropout: expected a value in [0, 1), got {self.lora_dropout}")

    @classmethod
    def defaults_for(cls, mode: str) -> "TrainingHyperparameters":
        """The book's settings for a mode: DPO starts from SFT's with its own optimisation."""
        base = cls(mode=mode)
        if mode == "dpo":
            base = replace(base, learning_rate=2e-6, num_train_epochs=1.0, packing=False, extra_samples=0)
        return base

    def for_smoke(self) -> "TrainingHyperparameters":
        """A few steps on a tiny model, to check the job end to end. Only ever explicit."""
        return replace(
            self,
            base_model=SMOKE_BASE_MODEL if self.mode == "sft" else self.base_model,
            max_steps=5,
            max_samples=32,
            extra_samples=0,
            max_seq_length=min(self.max_seq_length, 512),
            max_length=min(self.max_length, 512),
            optim="adamw_torch",
            push_to_hub=False,
        )


def _convert(name: str, kind: Any, value: Any) -> Any:
    try:
        if kind in (bool, "bool"):
            return parse_bool(name, value)
        if kind in (int, "int"):
            return int(str(value).strip())
        if kind in (float, "float"):
            return float(str(value).strip())
        if kind in ("tuple[str, ...]",) or kind == tuple[str, ...]:
            items = value if isinstance(value, (list, tuple)) else str(value).split(",")
            parsed = tuple(str(item).strip() for item in items if str(item).strip())
            if not parsed:
                raise HyperparameterError(f"{name}: expected a comma-separated list, got {value!r}")
            return parsed
        return str(value)
    except HyperparameterError:
        raise
    except (TypeError, ValueError) as error:
        raise HyperparameterError(f"{name}: expected {kind}, got {value!r}") from error


def parse_hyperparameters(raw: Mapping[str, Any]) -> TrainingHyperparameters:
    """The defaults for the mode, overridden by `raw`; an unknown or unreadable key is an error."""
    known = {item.name: item.type for item in fields(TrainingHyperparameters)}
    # SageMaker's own entries (sagemaker_*) are not ours to read.
    ours = {key: value for key, value in raw.items() if not key.startswith("sagemaker_")}
    unknown = sorted(set(ours) - set(known))
    if unknown:
        raise HyperparameterError(f"unknown hyperparameters: {', '.join(unknown)}")
    mode = str(ours.get("mode", "sft")).strip()
    values = {key: _convert(key, known[key], value) for key, value in ours.items()}
    parsed = replace(TrainingHyperparameters.defaults_for(mode), **values)
    return parsed.for_smoke() if parsed.smoke else parsed


def read_job_hyperparameters(path: Path = HYPERPARAMETERS) -> TrainingHyperparameters:
    raw = json.loads(path.read_text()) if path.exists() else {}
    # SageMaker JSON-encodes each value once more when the caller passed strings through its SDK.
    decoded = {key: _unquote(value) for key, value in raw.items()}
    return parse_hyperparameters(decoded)


def _unquote(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


@dataclass(frozen=True)
class EvaluationHyperparameters:
    """The evaluation job (SYSTEM.md §5): sampling for the candidate, and the judge."""

    model_name: str = "candidate"
    # The approved model, judged beside the candidate on the same rows (its model.tar.gz is the
    # `baseline` channel); empty when no model is approved yet.
    baseline_name: str = ""
    dataset_version: str = ""
    judge_model: str = "gpt-4o-mini"
    openai_base_url: str = ""
    openai_key_secret_arn: str = ""
    metrics_s3_uri: str = ""
    temperature: float = 0.8
    top_p: float = 0.95
    min_p: float = 0.05
    max_tokens: int = 2048
    judge_concurrency: int = 8
    max_samples: int = 0
    smoke: bool = False


def parse_evaluation_hyperparameters(raw: Mapping[str, Any]) -> EvaluationHyperparameters:
    known = {item.name: item.type for item in fields(EvaluationHyperparameters)}
    ours = {key: _unquote(value) for key, value in raw.items() if not key.startswith("sagemaker_")}
    unknown = sorted(set(ours) - set(known))
    if unknown:
        raise HyperparameterError(f"unknown hyperparameters: {', '.join(unknown)}")
    values = {key: _convert(key, known[key], value) for key, value in ours.items()}
    parsed = EvaluationHyperparameters(**values)
    # Empty only for a local run (`twin train evaluate --local`): metrics.json stays in the job's output.
    if parsed.metrics_s3_uri and not parsed.metrics_s3_uri.startswith("s3://"):
        raise HyperparameterError("metrics_s3_uri: an s3:// URI, or empty for a local run")
    return replace(parsed, max_samples=parsed.max_samples or (16 if parsed.smoke else 0))
