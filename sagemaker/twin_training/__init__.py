"""LLM Twin training and evaluation, run inside SageMaker's Hugging Face training containers.

The modules without a heavy import (hyperparameters, formatting, data, judge) are plain Python and
unit-tested in CI; finetune and evaluate import torch, TRL, PEFT and vLLM only inside their main().
"""
