"""Builds the rehearsal base model: a tiny causal LM in Hugging Face format, offline, in seconds.

It stands in for the twin's 8 B base model in the CPU rehearsal of the training jobs (SFT, DPO and
evaluation run for real on it), as the stand-in cross-encoder does for the reranker: the mechanics
are real, the quality is not. Llama architecture (2 layers, 64 wide), a byte-level BPE tokenizer
trained on the reference corpus, weights from a fixed seed: the same folder every time.

usage: python rehearsal_model.py ARTICLES_JSON OUTPUT_DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

VOCABULARY = 2048
SEED = 1234


def corpus_texts(articles: Path) -> list[str]:
    documents = json.loads(articles.read_text(encoding="utf-8"))
    return [text for document in documents if (text := (document.get("content") or {}).get("Content"))]


def build(articles: Path, output: Path) -> None:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.train_from_iterator(
        corpus_texts(articles),
        trainers.BpeTrainer(
            vocab_size=VOCABULARY,
            special_tokens=["<s>", "</s>", "<pad>"],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        ),
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", pad_token="<pad>", model_max_length=512
    )

    torch.manual_seed(SEED)
    config = LlamaConfig(
        vocab_size=fast.vocab_size if len(fast) <= fast.vocab_size else len(fast),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
        tie_word_embeddings=True,
    )
    model = LlamaForCausalLM(config)
    output.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output, safe_serialization=True)
    fast.save_pretrained(output)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    build(Path(sys.argv[1]), Path(sys.argv[2]))
