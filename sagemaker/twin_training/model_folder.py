"""What a model folder must hold before a job spends time on it: the weights' config and a tokenizer.

A base model given as a folder (a rehearsal, `twin train --local --model`), or a model.tar.gz from an
earlier job, may lack the tokenizer when it was saved without one; transformers then fails deep in
loading with a message about the Hub. This check names the folder and the fix instead.
"""

from __future__ import annotations

from pathlib import Path

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model", "vocab.json")


class ModelFolderError(SystemExit):
    """Exits the job with the reason, before any training or generation."""


def check_model_folder(source: str, role: str) -> None:
    """Raises ModelFolderError when `source` is a local folder that cannot be loaded as a causal LM.

    A Hub id (not an existing path) is left to transformers, which downloads it."""
    folder = Path(source)
    if not folder.exists():
        if source.startswith((".", "/")):
            raise ModelFolderError(f"{role}: no model folder at {source}")
        return
    if not folder.is_dir():
        raise ModelFolderError(f"{role}: {source} is a file; give the folder that holds config.json and the tokenizer")
    if not (folder / "config.json").is_file():
        raise ModelFolderError(f"{role}: {source} holds no config.json, so it is not a Hugging Face model folder")
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise ModelFolderError(
            f"{role}: {source} holds no tokenizer (none of {', '.join(TOKENIZER_FILES)}); "
            "save it beside the weights with tokenizer.save_pretrained(folder)"
        )
