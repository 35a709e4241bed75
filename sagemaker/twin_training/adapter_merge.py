"""The SFT adapter merged into the imported base: the model a local DPO stage starts from.

DPO trains a second LoRA on the SFT model, as the book's workflow does. Because a LoRA only adds
B·A to each weight, the served twin is the Q4 base with the SFT adapter and then the DPO adapter
(llama.cpp applies both), which equals the merged SFT model with the DPO adapter that was trained.
"""

from __future__ import annotations

import shutil
from pathlib import Path


def merge_adapter(model_dir: Path, adapter_dir: Path, out: Path) -> dict:
    """Writes base + adapter, merged, with the base's tokenizer, to `out` (complete or not at all)."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32)
    merged = PeftModel.from_pretrained(base, str(adapter_dir)).merge_and_unload()
    partial = out.with_name(out.name + ".partial")
    merged.save_pretrained(partial, safe_serialization=True)
    AutoTokenizer.from_pretrained(str(model_dir)).save_pretrained(partial)
    if out.exists():
        shutil.rmtree(out)
    partial.replace(out)
    return {"merged": str(out), "parameters": sum(p.numel() for p in merged.parameters())}
