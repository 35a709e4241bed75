import json
from pathlib import Path

import pytest

from twin_training.stylometry import StyleModel, style_words

GOLDEN = Path(__file__).resolve().parents[2] / "test" / "fixtures" / "stylometry-golden.json"


def test_the_job_computes_the_cli_golden_numbers():
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    model = StyleModel([(passage["author"], passage["text"]) for passage in golden["passages"]])
    for text, expected in zip(golden["texts"], golden["expected"]):
        assert model.attribute(text) == expected["attributed"]
        for author, score in expected["scores"].items():
            measured = model.score(text, author)
            assert measured.cosine == pytest.approx(score["cosine"], abs=1e-9)
            assert measured.delta == pytest.approx(score["delta"], abs=1e-9)


def test_words_are_letters_with_inner_apostrophes():
    assert style_words("Don't split GPT-4's 256 tokens_here") == ["don't", "split", "gpt", "s", "tokens", "here"]


def test_an_emoji_is_one_character_of_an_ngram():
    model = StyleModel([("a", "🔥 hot take 🔥 hot take"), ("a", "🔥 hot take again")])
    assert model.score("🔥 hot", "a").cosine > 0
