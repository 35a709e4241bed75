"""Reads our dataset artifacts (JSONL splits of a versioned dataset) from a job's input channel."""

from __future__ import annotations

import json
from pathlib import Path

COLUMNS = {
    "instruct": ("instruction", "output"),
    "preference": ("prompt", "chosen", "rejected"),
}


class DatasetFormatError(ValueError):
    """A row that is not what the dataset kind requires; the message names the file, line and field."""


def read_split(path: Path, kind: str, limit: int = 0) -> list[dict]:
    """Every row of one split, validated; `limit` > 0 keeps only the first rows (smoke runs)."""
    if kind not in COLUMNS:
        raise DatasetFormatError(f"unknown dataset kind {kind!r}; expected one of {', '.join(COLUMNS)}")
    if not path.exists():
        raise DatasetFormatError(f"{path}: missing; is the channel a dataset version folder?")
    rows = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise DatasetFormatError(f"{path}:{number}: not JSON ({error.msg})") from error
            if not isinstance(row, dict):
                raise DatasetFormatError(f"{path}:{number}: expected an object")
            for column in COLUMNS[kind]:
                value = row.get(column)
                if not isinstance(value, str) or not value.strip():
                    raise DatasetFormatError(f"{path}:{number}: {column} must be non-empty text")
            rows.append({column: row[column] for column in COLUMNS[kind]})
            if limit and len(rows) >= limit:
                break
    if not rows:
        raise DatasetFormatError(f"{path}: no rows")
    return rows


def read_manifest(folder: Path) -> dict:
    """The dataset's manifest (kind, version, lineage) beside its splits."""
    manifest = folder / "manifest.json"
    if not manifest.exists():
        raise DatasetFormatError(f"{manifest}: missing; is the channel a dataset version folder?")
    data = json.loads(manifest.read_text(encoding="utf-8"))
    if data.get("kind") not in COLUMNS or not isinstance(data.get("version"), str):
        raise DatasetFormatError(f"{manifest}: not a dataset manifest (kind and version required)")
    return data
