"""The prompt layout the twin learns and is asked in. lambdas/adapters/llm/twin-prompt.ts builds
the same text at inference time; a test in the TypeScript suite checks that the two agree."""

ALPACA_TEMPLATE = (
    "Below is an instruction that describes a task. Write a response that appropriately completes the request."
    "\n\n### Instruction:\n{instruction}\n\n### Response:\n"
)


def alpaca_prompt(instruction: str) -> str:
    """The prompt for one instruction: what the model reads before it writes."""
    return ALPACA_TEMPLATE.format(instruction=instruction)


def sft_text(instruction: str, output: str, eos_token: str) -> str:
    """One supervised example: the prompt, the answer, and the end-of-sequence token so the model
    learns to stop (without it, generation runs on to the length limit)."""
    return alpaca_prompt(instruction) + output + eos_token


def dpo_example(prompt: str, chosen: str, rejected: str, eos_token: str) -> dict:
    """One preference example in TRL's prompt/chosen/rejected columns, in the same layout."""
    return {
        "prompt": alpaca_prompt(prompt),
        "chosen": chosen + eos_token,
        "rejected": rejected + eos_token,
    }
