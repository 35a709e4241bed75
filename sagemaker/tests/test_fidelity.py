import pytest

from twin_training.fidelity import style_metrics, style_model

TRAIN = [
    {"instruction": "a", "output": "Measure first. Then cut. Short loops win; long loops rot. Log the latency, read it daily."},
    {"instruction": "b", "output": "Cache the embeddings. Keep the batch full. Keep the queue short. Find the slow step first."},
    {"instruction": "c", "output": "Tests are cheap. Outages are not. Run the test on every deploy. A red test beats a pager."},
]
ROWS = [{"instruction": "d", "output": "Pick the smaller model. Prove it is not enough. Measure, then grow."}]


def test_pairs_each_rows_candidate_and_baseline_similarity_with_the_authors_profile():
    model = style_model(TRAIN)
    terse = "Measure the queue. Keep it short. Then cut the slow step."
    rambling = "Well, honestly, I would love to walk you through every little detail of my wonderful journey today!"
    metrics = style_metrics(model, ROWS, [terse], [rambling])
    [pair] = metrics["paired_style"]
    assert pair["candidate"] > pair["baseline"]
    assert metrics["stylometry"]["candidate"]["count"] == 1
    assert metrics["stylometry"]["reference"]["cosine"] > 0


def test_without_an_approved_model_the_baseline_is_none():
    metrics = style_metrics(style_model(TRAIN), ROWS, ["Measure first."])
    assert metrics["paired_style"] == [{"candidate": pytest.approx(metrics["paired_style"][0]["candidate"]), "baseline": None}]
    assert "baseline" not in metrics["stylometry"]


def test_an_empty_answer_scores_zero_not_missing():
    metrics = style_metrics(style_model(TRAIN), ROWS, [""])
    assert metrics["paired_style"][0]["candidate"] == 0
