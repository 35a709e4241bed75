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
from .hyperparameters import TrainingHyperparameters, read_job_hyperparameters
from .secrets import read_secret

INPUT = Path(os.environ.get("SM_INPUT_DIR", "/opt/ml/input")) / "data"
MODEL_DIR = Path(os.environ.get("SM_MODEL_DIR", "/opt/ml/model"))
CHECKPOINTS = Path("/opt/ml/checkpoints")


def base_model_path(params: TrainingHyperparameters) -> str:
    """DPO starts from the SFT job's output (unpacked from its model.tar.gz); SFT from the Hub id."""
    archive = INPUT / "base" / "model.tar.gz"
    if params.mode == "sft" or not archive.exists():
        return params.base_model
    target = Path("/tmp/base-model")
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
    from transformers import BitsAndBytesConfig

    return {
        "quantization_config": BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16,
        )
    }


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
        source, torch_dtype=torch.bfloat16, token=token, device_map="cpu", low_cpu_mem_usage=True
    )
    return PeftModel.from_pretrained(base, str(adapter)).merge_and_unload()


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
    tokenizer = AutoTokenizer.from_pretrained(source, token=token)
    tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(
        source, torch_dtype=torch.bfloat16, token=token, **quantization(params, torch)
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
        bf16=True,
        # Activations are recomputed in the backward pass instead of kept (memory.py counts both ways).
        gradient_checkpointing=params.gradient_checkpointing,
        gradient_checkpointing_kwargs={"use_reentrant": False},
        logging_steps=1,
        save_strategy="steps",
        save_steps=50,
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
            args=SFTConfig(**shared, max_length=params.max_seq_length, packing=params.packing, dataset_text_field="text"),
        )
    else:
        examples = [dpo_example(row["prompt"], row["chosen"], row["rejected"], tokenizer.eos_token) for row in rows]
        trainer = DPOTrainer(
            model=model,
            processing_class=tokenizer,
            train_dataset=Dataset.from_list(examples),
            peft_config=lora,
            args=DPOConfig(
                **shared,
                beta=params.beta,
                max_length=params.max_length,
                max_prompt_length=params.max_prompt_length,
            ),
        )
    trainer.train(resume_from_checkpoint=resume or None)

    merged = merged_model(trainer, params, source, token)
    merged.save_pretrained(MODEL_DIR, safe_serialization=True)
    tokenizer.save_pretrained(MODEL_DIR)
    (MODEL_DIR / "twin_training.json").write_text(
        json.dumps({"mode": params.mode, "dataset": manifest["version"], "base_model": params.base_model, "smoke": params.smoke})
    )
    if params.push_to_hub:
        merged.push_to_hub(params.hub_model_id, token=token, private=True)
        tokenizer.push_to_hub(params.hub_model_id, token=token, private=True)


if __name__ == "__main__":
    main()
