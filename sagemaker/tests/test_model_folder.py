import pytest

from twin_training.model_folder import ModelFolderError, check_model_folder


def model_folder(tmp_path, *files):
    for name in files:
        (tmp_path / name).write_text("{}")
    return str(tmp_path)


def test_a_folder_with_config_and_tokenizer_passes(tmp_path):
    check_model_folder(model_folder(tmp_path, "config.json", "tokenizer.json"), "base model")


def test_a_folder_without_a_tokenizer_is_refused_with_the_fix(tmp_path):
    folder = model_folder(tmp_path, "config.json", "model.safetensors")
    with pytest.raises(ModelFolderError) as refused:
        check_model_folder(folder, "base model")
    assert str(refused.value).startswith(f"base model: {folder} holds no tokenizer")
    assert "tokenizer.save_pretrained" in str(refused.value)


def test_a_folder_without_config_is_not_a_model(tmp_path):
    with pytest.raises(ModelFolderError, match="holds no config.json"):
        check_model_folder(model_folder(tmp_path, "tokenizer.json"), "base model")


def test_a_missing_local_path_is_named_and_a_hub_id_is_left_to_transformers(tmp_path):
    with pytest.raises(ModelFolderError, match="no model folder at /nowhere/model"):
        check_model_folder("/nowhere/model", "base model")
    check_model_folder("meta-llama/Llama-3.1-8B", "base model")
