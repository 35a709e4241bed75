import json

import pytest

from twin_training.judge import Verdict, judge_prompt, parse_verdict, summarize


def test_the_prompt_carries_both_texts_and_the_json_shape():
    prompt = judge_prompt("Explain RAG.", "Retrieve, then generate.")
    assert '"""\nExplain RAG.\n"""' in prompt and '"""\nRetrieve, then generate.\n"""' in prompt
    assert '{"accuracy": {"analysis"' in prompt


def test_reads_a_well_formed_verdict():
    reply = json.dumps({"accuracy": {"analysis": "Right.", "score": 3}, "style": {"analysis": "Stiff.", "score": "1"}})
    assert parse_verdict(reply) == Verdict(accuracy=3, style=1, accuracy_analysis="Right.", style_analysis="Stiff.")


def test_unreadable_or_out_of_range_scores_are_missing_not_zero():
    assert parse_verdict("The answer is good, 3/3.") == Verdict(accuracy=None, style=None)
    assert parse_verdict(json.dumps({"accuracy": {"score": 4}, "style": {"score": 2.5}})) == Verdict(None, None, "", "")
    assert parse_verdict(json.dumps({"accuracy": {"score": True}, "style": 2})).style == 2
    assert parse_verdict(json.dumps([1, 2])).accuracy is None


def test_averages_leave_missing_verdicts_out_and_count_them():
    summary = summarize([Verdict(3, 2), Verdict(2, None), Verdict(None, None), Verdict(1, 3)])
    assert summary == {
        "samples": 4,
        "accuracy": {"mean": 2.0, "count": 3, "missing": 1},
        "style": {"mean": 2.5, "count": 2, "missing": 2},
    }
    assert summarize([Verdict(None, None)])["accuracy"] == {"mean": None, "count": 0, "missing": 1}


def test_a_row_scores_the_mean_of_its_two_criteria_and_nothing_when_one_is_missing():
    from twin_training.judge import verdict_score

    assert verdict_score(Verdict(accuracy=3, style=2)) == 2.5
    assert verdict_score(Verdict(accuracy=3, style=None)) is None


def test_pairs_the_candidate_and_the_approved_model_row_by_row():
    from twin_training.judge import paired_scores

    candidate = [Verdict(accuracy=3, style=3), Verdict(accuracy=None, style=2)]
    baseline = [Verdict(accuracy=2, style=2), Verdict(accuracy=1, style=1)]
    assert paired_scores(candidate, baseline) == [
        {"candidate": 3.0, "baseline": 2.0},
        {"candidate": None, "baseline": 1.0},
    ]
    assert paired_scores(candidate, None) == [
        {"candidate": 3.0, "baseline": None},
        {"candidate": None, "baseline": None},
    ]
    with pytest.raises(ValueError):
        paired_scores(candidate, baseline[:1])
