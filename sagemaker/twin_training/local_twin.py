"""The steps of `twin train --local` around the training job itself, run by the CLI:

  python -m twin_training.local_twin import --gguf F --reference R --out D
  python -m twin_training.local_twin export --adapter D --base-gguf F --out A.gguf
  python -m twin_training.local_twin check --model M --adapter D --reference R --base-agreement A
  python -m twin_training.local_twin merge --model M --adapter D --out O

Each prints one JSON line with its result; a refusal exits non-zero with its reason.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .adapter_merge import merge_adapter
from .gguf_adapter import check_adapter, export_adapter
from .gguf_import import import_gguf


def main() -> None:
    parser = argparse.ArgumentParser(prog="twin_training.local_twin")
    steps = parser.add_subparsers(dest="step", required=True)
    imported = steps.add_parser("import", help="GGUF to a checked Hugging Face model folder")
    imported.add_argument("--gguf", type=Path, required=True)
    imported.add_argument("--reference", type=Path, required=True, help="llama.cpp's greedy tokens (JSON)")
    imported.add_argument("--out", type=Path, required=True)
    exported = steps.add_parser("export", help="PEFT LoRA adapter to a llama.cpp adapter GGUF")
    exported.add_argument("--adapter", type=Path, required=True)
    exported.add_argument("--base-gguf", type=Path, required=True)
    exported.add_argument("--out", type=Path, required=True)
    checked = steps.add_parser("check", help="the trained model against llama.cpp serving its exported adapter")
    checked.add_argument("--model", type=Path, required=True, help="the imported base model folder")
    checked.add_argument("--adapter", type=Path, required=True, help="the PEFT adapter folder")
    checked.add_argument("--reference", type=Path, required=True, help="llama.cpp's greedy tokens with the adapter (JSON)")
    checked.add_argument("--base-agreement", type=float, required=True, help="the base's import agreement")
    merged = steps.add_parser("merge", help="a model folder with a PEFT adapter merged in (what DPO starts from)")
    merged.add_argument("--model", type=Path, required=True)
    merged.add_argument("--adapter", type=Path, required=True)
    merged.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if args.step == "import":
        result = import_gguf(args.gguf, json.loads(args.reference.read_text()), args.out)
    elif args.step == "export":
        result = export_adapter(args.adapter, args.base_gguf, args.out)
    elif args.step == "merge":
        result = merge_adapter(args.model, args.adapter, args.out)
    else:
        result = check_adapter(args.model, args.adapter, json.loads(args.reference.read_text()), args.base_agreement)
    print(json.dumps({"step": args.step, **result}), flush=True)


if __name__ == "__main__":
    main()
