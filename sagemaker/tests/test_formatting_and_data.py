import json

import pytest

from twin_training.data import DatasetFormatError, read_manifest, read_split
from twin_training.formatting import alpaca_prompt, dpo_example, sft_text


def test_sft_text_is_prompt_answer_and_eos():
    text = sft_text("Explain RAG.", "Retrieve, then generate.", "</s>")
    assert text == (
        "Below is an instruction that describes a task. Write a response that appropriately completes the request."
        "\n\n### Instruction:\nExplain RAG.\n\n### Response:\nRetrieve, then generate.</s>"
    )


def test_dpo_examples_share_the_prompt_layout():
    example = dpo_example("Explain RAG.", "Good.", "Bad.", "<eos>")
    assert example == {"prompt": alpaca_prompt("Explain RAG."), "chosen": "Good.<eos>", "rejected": "Bad.<eos>"}


def write_rows(path, rows):
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n")


def test_reads_and_validates_a_split(tmp_path):
    split = tmp_path / "train.jsonl"
    write_rows(split, [{"instruction": "a", "output": "b", "extra": 1}, {"instruction": "c", "output": "d"}])
    assert read_split(split, "instruct") == [{"instruction": "a", "output": "b"}, {"instruction": "c", "output": "d"}]
    assert len(read_split(split, "instruct", limit=1)) == 1


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"instruction": "a"}\n', "train.jsonl:1: output must be non-empty text"),
        ('{"instruction": "a", "output": "b"}\nnot json\n', "train.jsonl:2: not JSON"),
        ("[1, 2]\n", "train.jsonl:1: expected an object"),
        ("\n", "no rows"),
    ],
)
def test_bad_rows_name_file_line_and_field(tmp_path, content, message):
    split = tmp_path / "train.jsonl"
    split.write_text(content)
    with pytest.raises(DatasetFormatError, match=message):
        read_split(split, "instruct")


def test_preference_rows_need_all_three_columns(tmp_path):
    split = tmp_path / "train.jsonl"
    write_rows(split, [{"prompt": "p", "chosen": "c"}])
    with pytest.raises(DatasetFormatError, match="rejected must be non-empty text"):
        read_split(split, "preference")


def test_manifest_must_name_kind_and_version(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"kind": "instruct", "version": "abc"}))
    assert read_manifest(tmp_path)["version"] == "abc"
    (tmp_path / "manifest.json").write_text(json.dumps({"kind": "pretraining"}))
    with pytest.raises(DatasetFormatError, match="not a dataset manifest"):
        read_manifest(tmp_path)
