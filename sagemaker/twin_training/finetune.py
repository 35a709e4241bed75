"""SFT or DPO fine-tuning of the twin, as a SageMaker training job (SYSTEM.md §4).

Channels: `dataset` (a dataset version folder: train.jsonl, test.jsonl, manifest.json) and, for DPO,
`base` (the SFT job's model.tar.gz). The merged 16-bit model goes to /opt/ml/model, which SageMaker
uploads; checkpoints go to /opt/ml/checkpoints so that a spot interruption resumes, not restarts.
"""

from __future__ import annotations

import json
import os
import tarfile
from pathlib import Path
from typing import Any

from .data import read_manifest, read_split
from .formatting import dpo_example, sft_text
from .hyperparameters import HyperparameterError, TrainingHyperparameters, read_job_hyperparameters
from .memory import available_memory_gib, estimate_cpu_peak_gib, shape_from_config
from .model_folder import check_model_folder
from .paths import CHECKPOINTS, INPUT_DATA, MODEL_DIR
from .progress import progress_callback
from .secrets import read_secret

INPUT = INPUT_DATA


def base_model_path(params: TrainingHyperparameters) -> str:
    """DPO starts from the SFT job's output (unpacked from its model.tar.gz); SFT from the Hub id."""
    archive = INPUT / "base" / "model.tar.gz"
    if params.mode == "sft" or not archive.exists():
        return params.base_model
    target = CHECKPOINTS.parent / "base-model"
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as packed:
        packed.extractall(target, filter="data")
    return str(target)


def hf_token(params: TrainingHyperparameters) -> str | None:
    if not params.hf_token_secret_arn:
        return os.environ.get("HF_TOKEN")
    return read_secret(params.hf_token_secret_arn, "HF_TOKEN")


def quantization(params: TrainingHyperparameters, torch: Any) -> dict[str, Any]:
    """QLoRA: the frozen base in 4-bit NF4 (double-quantized), computing in bf16; LoRA stays in full precision."""
    if not params.load_in_4bit:
        return {}
    if not torch.cuda.is_available():
        raise HyperparameterError("load_in_4bit: 4-bit quantization (bitsandbytes) needs a CUDA GPU; set load_in_4bit=false on a CPU")
    from transformers import BitsAndBytesConfig

    return {
        "quantization_config": BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16,
        )
    }


def precision(torch: Any) -> tuple[Any, dict[str, bool]]:
    """bf16 where the hardware computes in it (the A10G and newer), else fp32: a CPU, or an older GPU."""
    if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return torch.bfloat16, {"bf16": True}
    return torch.float32, {"bf16": False, "fp16": False}


def packing_plan(params: TrainingHyperparameters) -> tuple[bool, dict[str, Any], str]:
    """Whether SFT packs samples, the attention that makes it safe, and why.

    Packed samples share a sequence; only flash-attention reads TRL's per-sample position ids and keeps
    one sample from attending to another. Without it packing would train across sample boundaries,
    so packing is turned off (padding each sample instead costs time, not correctness).
    """
    if not params.packing:
        return False, {}, "packing off by hyperparameter"
    try:
        import flash_attn  # noqa: F401
        import torch

        if torch.cuda.is_available():
            return True, {"attn_implementation": "flash_attention_2"}, "packing with flash-attention 2"
    except ImportError:
        pass
    return False, {}, "packing off: flash-attention is not installed here, and without it packed samples attend to each other"


def trl_config(config_class: Any, **settings: Any) -> Any:
    """A TRL config from our settings; a setting the installed TRL does not have is named, not a crash."""
    import dataclasses

    known = {field.name for field in dataclasses.fields(config_class)}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise HyperparameterError(f"{config_class.__name__} of the installed TRL has no {', '.join(unknown)}")
    return config_class(**settings)


def merged_model(trainer: Any, params: TrainingHyperparameters, source: str, token: str | None) -> Any:
    """The base with the adapter merged in, in bf16: what TGI serves and DPO starts from.

    A 4-bit base cannot take the adapter without rounding it away, so the adapter is saved, the base
    is loaded again in bf16 on the CPU (16 GB of the instance's memory, not the GPU's) and merged there.
    """
    if not params.load_in_4bit:
        return trainer.model.merge_and_unload()
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    adapter = CHECKPOINTS / "adapter"
    trainer.model.save_pretrained(adapter)
    base = AutoModelForCausalLM.from_pretrained(
        source, dtype=torch.bfloat16, token=token, device_map="cpu", low_cpu_mem_usage=True
    )
    return PeftModel.from_pretrained(base, str(adapter)).merge_and_unload()


def refuse_what_cannot_fit(params: TrainingHyperparameters, source: str, torch: Any) -> None:
    """On a CPU, the job's peak memory (estimated from the base's config) against what is free, before loading."""
    config = Path(source) / "config.json"
    if torch.cuda.is_available() or not config.exists():
        return
    estimate = estimate_cpu_peak_gib(params, shape_from_config(json.loads(config.read_text())))
    free = available_memory_gib()
    print(json.dumps({"memory_estimate_gib": {name: round(value, 2) for name, value in estimate.items()}, "available_gib": round(free, 1)}), flush=True)
    if estimate["total"] > free:
        parts = ", ".join(f"{name} {value:.1f}" for name, value in estimate.items() if name != "total")
        raise SystemExit(
            f"training needs about {estimate['total']:.1f} GiB ({parts}) and {free:.1f} GiB are available; "
            "lower per_device_train_batch_size or max_seq_length, or pick a smaller base model"
        )


def save_output(trainer: Any, params: TrainingHyperparameters, source: str, token: str | None, tokenizer: Any) -> None:
    """The adapter alone (a local twin), or the merged model that TGI serves and DPO starts from."""
    if params.adapter_only:
        trainer.model.save_pretrained(MODEL_DIR / "adapter")
        return
    merged = merged_model(trainer, params, source, token)
    merged.save_pretrained(MODEL_DIR, safe_serialization=True)
    tokenizer.save_pretrained(MODEL_DIR)
    if params.push_to_hub:
        merged.push_to_hub(params.hub_model_id, token=token, private=True)
        tokenizer.push_to_hub(params.hub_model_id, token=token, private=True)


def peak_rss_mib() -> float:
    """This process's peak resident memory (Linux reports KiB, macOS bytes)."""
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def main() -> None:
    import torch
    from datasets import Dataset, load_dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer, SFTConfig, SFTTrainer

    params = read_job_hyperparameters()
    token = hf_token(params)
    manifest = read_manifest(INPUT / "dataset")
    kind = "instruct" if params.mode == "sft" else "preference"
    if manifest["kind"] != kind:
        raise SystemExit(f"{params.mode} needs a {kind} dataset; the dataset channel holds {manifest['kind']}")
    rows = read_split(INPUT / "dataset" / "train.jsonl", kind, limit=params.max_samples)
    print(json.dumps({"mode": params.mode, "smoke": params.smoke, "dataset": manifest["version"], "rows": len(rows)}))

    source = base_model_path(params)
    check_model_folder(source, "base model" if params.mode == "sft" else "base model (the base channel's model.tar.gz)")
    refuse_what_cannot_fit(params, source, torch)
    tokenizer = AutoTokenizer.from_pretrained(source, token=token)
    tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token
    dtype, precision_flags = precision(torch)
    packing, attention, packing_reason = packing_plan(params) if params.mode == "sft" else (False, {}, "")
    print(json.dumps({"precision": str(dtype).removeprefix("torch."), "packing": packing, "why": packing_reason}))
    model = AutoModelForCausalLM.from_pretrained(
        source, dtype=dtype, token=token, **attention, **quantization(params, torch)
    )
    lora = LoraConfig(
        r=params.lora_r,
        lora_alpha=params.lora_alpha,
        lora_dropout=params.lora_dropout,
        target_modules=list(params.lora_target_modules),
        task_type="CAUSAL_LM",
    )
    shared = dict(
        output_dir=str(CHECKPOINTS),
        learning_rate=params.learning_rate,
        lr_scheduler_type=params.lr_scheduler_type,
        per_device_train_batch_size=params.per_device_train_batch_size,
        gradient_accumulation_steps=params.gradient_accumulation_steps,
        num_train_epochs=params.num_train_epochs,
        max_steps=params.max_steps,
        optim=params.optim,
        weight_decay=params.weight_decay,
        warmup_steps=params.warmup_steps,
        seed=params.seed,
        **precision_flags,
        # Activations are recomputed in the backward pass instead of kept (memory.py counts both ways).
        gradient_checkpointing=params.gradient_checkpointing,
        gradient_checkpointing_kwargs={"use_reentrant": False},
        logging_steps=1,
        save_strategy="steps",
        save_steps=params.save_steps,
        save_total_limit=2,
        report_to=["tensorboard"],
    )
    resume = any(CHECKPOINTS.glob("checkpoint-*"))

    if params.mode == "sft":
        texts = [sft_text(row["instruction"], row["output"], tokenizer.eos_token) for row in rows]
        if params.extra_samples:
            extra = load_dataset(params.extra_dataset, split=f"train[:{params.extra_samples}]", token=token)
            texts += [sft_text(row["instruction"], row["output"], tokenizer.eos_token) for row in extra]
        trainer = SFTTrainer(
            model=model,
            processing_class=tokenizer,
            train_dataset=Dataset.from_dict({"text": texts}),
            peft_config=lora,
            args=trl_config(
                SFTConfig, **shared, max_length=params.max_seq_length, packing=packing, dataset_text_field="text"
            ),
            callbacks=[progress_callback(params.time_budget_minutes)],
        )
    else:
        examples = [dpo_example(row["prompt"], row["chosen"], row["rejected"], tokenizer.eos_token) for row in rows]
        trainer = DPOTrainer(
            model=model,
            processing_class=tokenizer,
            train_dataset=Dataset.from_list(examples),
            peft_config=lora,
            # TRL 0.29 truncates prompt and completion together to max_length (keeping the start);
            # its separate max_prompt_length is gone.
            args=trl_config(DPOConfig, **shared, beta=params.beta, max_length=params.max_length),
            callbacks=[progress_callback(params.time_budget_minutes)],
        )
    result = trainer.train(resume_from_checkpoint=resume or None)

    save_output(trainer, params, source, token, tokenizer)
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    (MODEL_DIR / "twin_training.json").write_text(
        json.dumps(
            {
                "mode": params.mode,
                "dataset": manifest["version"],
                "base_model": params.base_model,
                "smoke": params.smoke,
                "precision": str(dtype).removeprefix("torch."),
                "packing": packing,
                "steps": trainer.state.global_step,
                "train_loss": result.training_loss,
                "first_loss": losses[0] if losses else None,
                "last_loss": losses[-1] if losses else None,
                "resumed": resume,
                "peak_rss_mib": peak_rss_mib(),
            }
        )
    )


if __name__ == "__main__":
    main()
