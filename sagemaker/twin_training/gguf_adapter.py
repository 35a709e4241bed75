"""A PEFT LoRA adapter written as a llama.cpp adapter GGUF, for the Q4 base the user already serves.

No merge and no re-quantization: llama.cpp adds (alpha / r) * B @ A to each adapted weight at run
time. Each pair is named after the base tensor it adapts (`blk.3.attn_q.weight.lora_a`), with A as
(r, inputs) and B as (outputs, r). llama.cpp's converter permutes the rows of Llama's query and key
projections for its rotary layout, and transformers undoes that on import; B carries the output
rows, so it is permuted back the same way.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .gguf_import import MIN_AGREEMENT, GgufFacts, agreement, read_facts, refuse_unsupported

_PEFT_NAME = re.compile(r"^base_model\.model\.(?P<module>.+)\.lora_(?P<part>[AB])\.weight$")


class AdapterExportError(SystemExit):
    """The adapter cannot be written for this base; the message says why."""


def rotary_rows(weight, heads: int):
    """llama.cpp's row order of a Llama query/key projection: the two rotary halves of each head interleaved."""
    rows = weight.shape[0]
    return weight.reshape(heads, 2, rows // heads // 2, *weight.shape[1:]).swapaxes(1, 2).reshape(weight.shape)


def gguf_pairs(tensors: dict, facts: GgufFacts) -> dict:
    """PEFT's lora_A/lora_B tensors under llama.cpp's names, as float32 numpy arrays."""
    import gguf
    import numpy

    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH[facts.architecture.upper()], facts.layers)
    pairs = {}
    for peft_name, tensor in tensors.items():
        match = _PEFT_NAME.match(peft_name)
        if not match:
            raise AdapterExportError(f"{peft_name}: not a LoRA weight of a PEFT adapter")
        module = match["module"]
        base = names.get_name(module + ".weight", try_suffixes=(".weight",))
        if base is None:
            raise AdapterExportError(f"{module}: no tensor of a {facts.architecture} GGUF corresponds to it")
        value = tensor.float().numpy().astype(numpy.float32)
        if match["part"] == "B" and facts.architecture == "llama":
            if module.endswith("q_proj"):
                value = rotary_rows(value, facts.heads)
            elif module.endswith("k_proj"):
                value = rotary_rows(value, facts.kv_heads)
        pairs[f"{base}.lora_{match['part'].lower()}"] = value
    return pairs


def export_adapter(adapter_dir: Path, base_gguf: Path, out: Path) -> dict:
    """Writes `out` from the PEFT adapter in `adapter_dir`; returns what was written."""
    import gguf
    from safetensors.torch import load_file

    facts = read_facts(base_gguf)
    refuse_unsupported(base_gguf, facts)
    config = json.loads((adapter_dir / "adapter_config.json").read_text())
    if config.get("use_dora") or config.get("use_rslora"):
        raise AdapterExportError("DoRA and rsLoRA adapters have no llama.cpp form; train plain LoRA")
    pairs = gguf_pairs(load_file(str(adapter_dir / "adapter_model.safetensors")), facts)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".partial")
    writer = gguf.GGUFWriter(str(partial), facts.architecture)
    writer.add_string("general.type", "adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", float(config["lora_alpha"]))
    for name in sorted(pairs):
        writer.add_tensor(name, pairs[name])
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    partial.replace(out)  # never a half-written adapter under the final name
    return {"tensors": len(pairs), "rank": int(config["r"]), "alpha": float(config["lora_alpha"]), "architecture": facts.architecture}


# The base's own import agreement measures how far llama.cpp's quantized arithmetic is from full
# precision; the adapter, applied in llama.cpp's arithmetic too, may add this much more.
SERVING_ALLOWANCE = 0.05


def check_adapter(model_dir: Path, adapter_dir: Path, reference: dict, base_agreement: float) -> dict:
    """The trained model (base + PEFT adapter, as trained) against llama.cpp serving the exported GGUF
    adapter on the Q4 base: top-1 agreement on llama.cpp's own greedy continuations, which the adapter
    steers, within SERVING_ALLOWANCE of the base's import agreement. A wrong tensor name, orientation
    or row order in the export, or a different prompt layout or BOS in serving, fails here."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32)
    model = PeftModel.from_pretrained(base, str(adapter_dir)).eval()
    agreed, compared = agreement(model, reference["cases"], torch)
    share = agreed / compared if compared else 0.0
    needed = min(MIN_AGREEMENT, base_agreement) - SERVING_ALLOWANCE
    if share < needed:
        raise AdapterExportError(
            f"llama.cpp with the exported adapter agrees with the trained model on {share:.3f} of {compared} greedy tokens "
            f"(needs {needed:.3f}: the base's own agreement {base_agreement:.3f} less {SERVING_ALLOWANCE}): the adapter GGUF does not serve what was trained"
        )
    return {"top1_agreement": share, "positions": compared}
