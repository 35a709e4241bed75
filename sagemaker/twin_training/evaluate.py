"""Evaluation of a candidate twin as a SageMaker training job (SYSTEM.md §5): answers for the
instruction test split from the candidate (vLLM), graded by the LLM judge, metrics.json to S3.
When a model is already approved, its answers to the same rows are judged in the same run by the
same judge, so the gate compares like with like, row by row.

Channels: `dataset` (an instruct dataset version folder), `model` (the candidate's model.tar.gz) and,
optionally, `baseline` (the approved model's model.tar.gz).
"""

from __future__ import annotations

import json
import os
import tarfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

from .data import read_manifest, read_split
from .formatting import alpaca_prompt
from .hyperparameters import EvaluationHyperparameters, parse_evaluation_hyperparameters
from .paths import CHECKPOINTS, HYPERPARAMETERS, INPUT_DATA, OUTPUT_DATA
from .secrets import read_secret
from .model_folder import check_model_folder
from .fidelity import style_metrics, style_model
from .judge import Verdict, judge_prompt, paired_scores, parse_verdict, summarize, verdict_record

INPUT = INPUT_DATA
CONFIG = HYPERPARAMETERS


def unpack_model(channel: str) -> str:
    target = CHECKPOINTS.parent / "unpacked" / channel
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(INPUT / channel / "model.tar.gz") as packed:
        packed.extractall(target, filter="data")
    check_model_folder(str(target), f"the {channel} channel's model.tar.gz")
    return str(target)


def generation_backend() -> str:
    """vLLM on a GPU, where the job runs on SageMaker; transformers' generate elsewhere (a CPU
    rehearsal, `twin evaluate --local` without a GPU). Same prompts, same sampling settings."""
    import torch

    if torch.cuda.is_available():
        try:
            import vllm  # noqa: F401

            return "vllm"
        except ImportError:
            pass
    return "transformers"


def _generate(model_dir: str, prompts: list[str], sampling: dict) -> list[str]:
    if generation_backend() == "transformers":
        return _generate_with_transformers(model_dir, prompts, sampling)
    from vllm import LLM, SamplingParams

    llm = LLM(model=model_dir, max_model_len=4096)
    outputs = llm.generate(prompts, SamplingParams(**sampling))
    return [output.outputs[0].text for output in outputs]


def _generate_with_transformers(model_dir: str, prompts: list[str], sampling: dict) -> list[str]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    torch.manual_seed(0)
    answers = []
    for prompt in prompts:
        inputs = tokenizer(prompt, return_tensors="pt")
        output = model.generate(
            **inputs,
            do_sample=sampling["temperature"] > 0,
            temperature=sampling["temperature"],
            top_p=sampling["top_p"],
            min_p=sampling["min_p"],
            max_new_tokens=sampling["max_tokens"],
            pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id,
        )
        answers.append(tokenizer.decode(output[0][inputs["input_ids"].shape[1] :], skip_special_tokens=True))
    return answers


def generate_answers(channel: str, prompts: list[str], sampling: dict) -> list[str]:
    """One model's answers, in a process of its own: its GPU memory is free again when it ends, so
    the candidate and the approved model take turns on one GPU."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_generate, (unpack_model(channel), prompts, sampling))


def judge_all(params: EvaluationHyperparameters, pairs: list[tuple[str, str]]) -> list[Verdict]:
    from openai import OpenAI

    key = read_secret(params.openai_key_secret_arn, "OPENAI_API_KEY") if params.openai_key_secret_arn else None
    client = OpenAI(api_key=key or os.environ.get("OPENAI_API_KEY"), base_url=params.openai_base_url or None, max_retries=4)

    def judge(pair: tuple[str, str]) -> Verdict:
        try:
            reply = client.chat.completions.create(
                model=params.judge_model,
                messages=[{"role": "user", "content": judge_prompt(*pair)}],
                response_format={"type": "json_object"},
                temperature=0,
                max_tokens=500,
            )
            return parse_verdict(reply.choices[0].message.content or "")
        except Exception as error:  # a failed verdict is missing, not zero; the run goes on
            print(json.dumps({"judge_error": str(error)[:200]}))
            return Verdict(accuracy=None, style=None)

    with ThreadPoolExecutor(max_workers=params.judge_concurrency) as pool:
        return list(pool.map(judge, pairs))


def upload(uri: str, body: str) -> None:
    import boto3

    parsed = urlparse(uri)
    boto3.client("s3").put_object(
        Bucket=parsed.netloc, Key=parsed.path.lstrip("/"), Body=body.encode(), ContentType="application/json"
    )


def main() -> None:
    raw = json.loads(CONFIG.read_text()) if CONFIG.exists() else {}
    params = parse_evaluation_hyperparameters(raw)
    manifest = read_manifest(INPUT / "dataset")
    rows = read_split(INPUT / "dataset" / "test.jsonl", "instruct", limit=params.max_samples)
    prompts = [alpaca_prompt(row["instruction"]) for row in rows]
    sampling = {"temperature": params.temperature, "top_p": params.top_p, "min_p": params.min_p, "max_tokens": params.max_tokens}
    answers = generate_answers("model", prompts, sampling)
    pairs = [(row["instruction"], answer) for row, answer in zip(rows, answers)]
    verdicts = judge_all(params, pairs)
    has_baseline = (INPUT / "baseline" / "model.tar.gz").exists()
    baseline_verdicts = None
    baseline = None
    baseline_answers = None
    if has_baseline:
        baseline_answers = generate_answers("baseline", prompts, sampling)
        baseline_pairs = [(row["instruction"], answer) for row, answer in zip(rows, baseline_answers)]
        baseline_verdicts = judge_all(params, baseline_pairs)
        baseline = {"model": params.baseline_name or "approved", **summarize(baseline_verdicts)}
    metrics = {
        "model": params.model_name,
        "dataset_version": manifest["version"] if not params.dataset_version else params.dataset_version,
        "judge_model": params.judge_model,
        "sampling": {"temperature": params.temperature, "top_p": params.top_p, "min_p": params.min_p},
        **summarize(verdicts),
        **({"baseline": baseline} if baseline else {}),
        "paired": paired_scores(verdicts, baseline_verdicts),
        # The author's voice, measured without a judge: the gate also rejects a clearly worse writer.
        **style_metrics(style_model(read_split(INPUT / "dataset" / "train.jsonl", "instruct")), rows, answers, baseline_answers),
        "per_sample": [verdict_record(i, a, v) for (i, a), v in zip(pairs, verdicts)],
    }
    body = json.dumps(metrics, indent=2)
    # Also the job's output (SageMaker keeps it as output.tar.gz), so a local run has it at hand.
    OUTPUT_DATA.mkdir(parents=True, exist_ok=True)
    (OUTPUT_DATA / "metrics.json").write_text(body)
    if params.metrics_s3_uri:
        upload(params.metrics_s3_uri, body)
    print(json.dumps({"backend": generation_backend(), **{key: metrics[key] for key in ("samples", "accuracy", "style")}}))


if __name__ == "__main__":
    main()
