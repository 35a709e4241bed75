"""The same LoRA step as `twin train --local`, in bare PEFT and torch: no TRL, no Trainer, no callbacks.

npm run bench:train runs it beside the job to show what the job's machinery costs per step.
Prints one JSON line: the median seconds per optimizer step (the first one left out: warm-up) and
the tokens per step, and this process's peak resident memory.

  python bare_peft_step.py MODEL_FOLDER TRAIN_JSONL STEPS BATCH MAX_LENGTH
"""

import json
import resource
import statistics
import sys
import time

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer

sys.path.insert(0, "sagemaker")
from twin_training.formatting import sft_text  # noqa: E402  (the same text the job trains on)
from twin_training.hyperparameters import LORA_TARGETS  # noqa: E402


def main() -> None:
    folder, train, steps, batch, max_length = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, target_modules=list(LORA_TARGETS), task_type="CAUSAL_LM"))
    model.train()
    rows = [json.loads(line) for line in open(train, encoding="utf-8") if line.strip()]
    texts = [sft_text(row["instruction"], row["output"], tokenizer.eos_token) for row in rows]
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-4, weight_decay=0.01)
    times, tokens = [], []
    for step in range(steps):
        chosen = [texts[(step * batch + i) % len(texts)] for i in range(batch)]
        encoded = tokenizer(chosen, truncation=True, max_length=max_length, padding=True, return_tensors="pt")
        labels = encoded["input_ids"].masked_fill(encoded["attention_mask"] == 0, -100)
        started = time.perf_counter()
        loss = model(**encoded, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        times.append(time.perf_counter() - started)
        tokens.append(int(encoded["attention_mask"].sum()))
    print(json.dumps({
        "median_step_s": statistics.median(times[1:]),
        "tokens_per_step": statistics.median(tokens),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }))


if __name__ == "__main__":
    main()
