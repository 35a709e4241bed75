"""A GGUF model (what llama.cpp serves on the user's machine) as trainable Hugging Face weights.

The twin is trained on the very model the user already runs: its GGUF is de-quantized to full
precision by transformers, saved as a model folder, and checked against llama.cpp before any step is
trained. The check is the one that matters for serving: at every position of llama.cpp's own greedy
continuations of fixed prompts, the imported model's top token must be llama.cpp's (teacher-forced,
so one early disagreement does not count twice). Both must also cut the same text into the same
tokens, beginning-of-text included: the adapter is trained on the tokens llama.cpp will feed it.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Architectures imported faithfully (checked by the agreement test on every import). For gemma3,
# transformers' GGUF path needs its tokenizer rebuilt (see sentencepiece_tokenizer); its weights,
# Gemma's shifted norms included, come out right in transformers 5.3 (94 of 96 greedy tokens agree).
SUPPORTED_ARCHITECTURES = ("llama", "qwen2", "gemma3")
# llama.cpp's token types (gguf-py's TokenType): the ones that are not pieces of ordinary text.
_CONTROL, _USER_DEFINED = 3, 4
MIN_AGREEMENT = 0.95


class ImportRefused(SystemExit):
    """The GGUF cannot be trained here; the message names it and what can be."""


@dataclass(frozen=True)
class GgufFacts:
    architecture: str
    add_bos: bool
    bos_id: int | None
    eos_id: int | None
    heads: int
    kv_heads: int
    layers: int


def read_facts(path: Path) -> GgufFacts:
    """What the importer and the adapter writer need from a GGUF's metadata."""
    import gguf

    fields = gguf.GGUFReader(str(path)).fields

    def value(key: str, default: Any = None) -> Any:
        return fields[key].contents() if key in fields else default

    architecture = str(value("general.architecture", ""))
    heads = int(value(f"{architecture}.attention.head_count", 0))
    return GgufFacts(
        architecture=architecture,
        add_bos=bool(value("tokenizer.ggml.add_bos_token", True)),
        bos_id=value("tokenizer.ggml.bos_token_id"),
        eos_id=value("tokenizer.ggml.eos_token_id"),
        heads=heads,
        kv_heads=int(value(f"{architecture}.attention.head_count_kv", heads)),
        layers=int(value(f"{architecture}.block_count", 0)),
    )


def refuse_unsupported(path: Path, facts: GgufFacts) -> None:
    if facts.architecture not in SUPPORTED_ARCHITECTURES:
        raise ImportRefused(
            f"{path.name}: architecture {facts.architecture or '(none)'} cannot be trained locally yet; "
            f"supported: {', '.join(SUPPORTED_ARCHITECTURES)} (SmolLM2, Llama 3.x, Qwen2.5). "
            "Pick such a GGUF with --base-model, or train on SageMaker."
        )


def agreement(model: Any, cases: list[dict], torch: Any) -> tuple[int, int]:
    """Positions where the model's top token is llama.cpp's greedy token, and how many were compared."""
    agreed = compared = 0
    with torch.no_grad():
        for case in cases:
            prompt, greedy = case["tokens"], case["greedy"]
            ids = torch.tensor([prompt + greedy[:-1]])
            logits = model(input_ids=ids).logits[0]
            predicted = logits[len(prompt) - 1 :].argmax(dim=-1).tolist()
            agreed += sum(int(a == b) for a, b in zip(predicted, greedy))
            compared += len(greedy)
    return agreed, compared


def tokenization_mismatches(tokenizer: Any, texts: list[dict]) -> list[str]:
    """Texts the Hugging Face tokenizer cuts differently from llama.cpp (special tokens as llama.cpp adds them)."""
    mismatched = []
    for item in texts:
        ids = tokenizer(item["text"], add_special_tokens=True)["input_ids"]
        if ids != item["ids"]:
            mismatched.append(f"{item['text'][:40]!r}: llama.cpp {item['ids'][:8]}..., transformers {ids[:8]}...")
    return mismatched


def sentencepiece_tokenizer(path: Path) -> Any:
    """A SentencePiece (BPE) vocabulary as llama.cpp holds it (pieces and scores, no merges) as a
    `tokenizers` BPE: llama.cpp joins the pair whose joined piece scores highest, so every way of
    splitting a piece into two pieces is a merge, ranked by the piece's score. transformers' GGUF path
    reads Gemma's vocabulary as a Unigram model instead and cuts text into single characters."""
    import gguf
    from tokenizers import AddedToken, Tokenizer, decoders, normalizers
    from tokenizers.models import BPE

    fields = gguf.GGUFReader(str(path)).fields
    tokens = fields["tokenizer.ggml.tokens"].contents()
    scores = fields["tokenizer.ggml.scores"].contents()
    types = fields["tokenizer.ggml.token_type"].contents()
    vocab = {token: index for index, token in enumerate(tokens)}
    merges = []
    for index, piece in enumerate(tokens):
        if types[index] != 1:
            continue
        for cut in range(1, len(piece)):
            left, right = piece[:cut], piece[cut:]
            if left in vocab and right in vocab:
                merges.append((scores[index], -cut, left, right))
    merges.sort(key=lambda merge: (merge[0], merge[1]), reverse=True)
    unknown = fields["tokenizer.ggml.unknown_token_id"].contents() if "tokenizer.ggml.unknown_token_id" in fields else None
    tokenizer = Tokenizer(
        BPE(vocab, [(left, right) for _, _, left, right in merges], unk_token=tokens[unknown] if unknown is not None else None, fuse_unk=True, byte_fallback=True)
    )
    prefix = bool(fields["tokenizer.ggml.add_space_prefix"].contents()) if "tokenizer.ggml.add_space_prefix" in fields else False
    tokenizer.normalizer = normalizers.Sequence(
        ([normalizers.Prepend("▁")] if prefix else []) + [normalizers.Replace(" ", "▁")]
    )
    tokenizer.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()])
    tokenizer.add_special_tokens(
        [AddedToken(token, normalized=False, special=True) for token, kind in zip(tokens, types) if kind == _CONTROL]
    )
    tokenizer.add_tokens([AddedToken(token, normalized=False) for token, kind in zip(tokens, types) if kind == _USER_DEFINED])
    return tokenizer


def llama_cpp_tokenizer(imported: Any, facts: GgufFacts, backend: Any = None) -> Any:
    """The GGUF's vocabulary as a plain fast tokenizer that behaves as llama.cpp does.

    transformers' GGUF path wraps the vocabulary in a model-specific class (SmolLM2's comes out as a
    CodeLlama tokenizer whose end token is the start token, and which splits on every space once
    saved and loaded again). The vocabulary itself is right; the wrapper is rebuilt: the GGUF's own
    beginning and end tokens, and the beginning token added exactly when the GGUF says llama.cpp adds it.
    """
    import copy

    from tokenizers import processors
    from transformers import PreTrainedTokenizerFast

    backend = backend if backend is not None else copy.deepcopy(imported.backend_tokenizer)
    bos = backend.id_to_token(facts.bos_id) if facts.bos_id is not None else None
    eos = backend.id_to_token(facts.eos_id) if facts.eos_id is not None else None
    if facts.add_bos and bos is not None:
        backend.post_processor = processors.TemplateProcessing(
            single=f"{bos}:0 $A:0", pair=f"{bos}:0 $A:0 $B:1", special_tokens=[(bos, facts.bos_id)]
        )
    else:
        backend.post_processor = processors.TemplateProcessing(single="$A:0", pair="$A:0 $B:1", special_tokens=[])
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token=bos, eos_token=eos, pad_token=eos, chat_template=getattr(imported, "chat_template", None)
    )


def import_gguf(gguf_path: Path, reference: dict, out: Path) -> dict:
    """Imports, checks and saves; the report is written beside the model, also when the check fails."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    facts = read_facts(gguf_path)
    refuse_unsupported(gguf_path, facts)
    out.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(out.parent if out.parent.exists() else Path.cwd()).free
    needed = gguf_path.stat().st_size * 8  # Q4 to fp32 is about 8x the file
    if free < needed:
        raise ImportRefused(f"importing {gguf_path.name} needs about {needed / 2**30:.1f} GiB of disk; {free / 2**30:.1f} GiB are free")
    folder, name = str(gguf_path.parent), gguf_path.name
    try:
        imported = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        spm = sentencepiece_tokenizer(gguf_path) if facts.architecture == "gemma3" else None
        tokenizer = llama_cpp_tokenizer(imported, facts, spm)
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    except (ValueError, KeyError, NotImplementedError) as error:
        raise ImportRefused(
            f"{name}: transformers cannot import it ({error}); supported architectures: {', '.join(SUPPORTED_ARCHITECTURES)}"
        ) from error
    model.eval()
    agreed, compared = agreement(model, reference["cases"], torch)
    # The tokenizer as the training job will load it: saved, then read back.
    tokenizer.save_pretrained(out / "model")
    mismatched = tokenization_mismatches(AutoTokenizer.from_pretrained(out / "model"), reference["texts"])
    if tokenizer.eos_token is None:
        mismatched.append("the GGUF names no end-of-text token, so the twin could not learn to stop")
    report = {
        "gguf": name,
        "architecture": facts.architecture,
        "add_bos": facts.add_bos,
        "top1_agreement": agreed / compared if compared else 0.0,
        "positions": compared,
        "tokenization_mismatches": mismatched,
        "passed": compared > 0 and agreed / compared >= MIN_AGREEMENT and not mismatched,
    }
    (out / "import-check.json").write_text(json.dumps(report, indent=2))
    if not report["passed"]:
        raise ImportRefused(
            f"{name} ({facts.architecture}) did not import faithfully: top-1 agreement with llama.cpp "
            f"{report['top1_agreement']:.3f} over {compared} positions (needs {MIN_AGREEMENT}); "
            f"{len(mismatched)} texts tokenized differently{': ' + mismatched[0] if mismatched else ''}"
        )
    model.save_pretrained(out / "model", safe_serialization=True)
    return report
