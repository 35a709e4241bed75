"""How much the evaluated answers read like the author, beside the judge's grades: each answer's
stylometric similarity (stylometry.py, the CLI's definitions) with a profile of the author's own text
in the dataset's train split, the candidate's and the approved model's paired by test row for the
gate, and the test rows' own answers (the author's words) as the ceiling."""

from __future__ import annotations

from statistics import mean
from typing import Optional

from .stylometry import StyleModel

# The dataset's voice: every train answer is the author's text (the instruct dataset's output column).
AUTHOR = "author"


def style_model(train_rows: list[dict]) -> StyleModel:
    return StyleModel([(AUTHOR, row["output"]) for row in train_rows])


def _summary(model: StyleModel, texts: list[str]) -> dict:
    scores = [model.score(text, AUTHOR) for text in texts]
    return {
        "cosine": round(mean(score.cosine for score in scores), 6) if scores else None,
        "delta": round(mean(score.delta for score in scores), 6) if scores else None,
        "count": len(scores),
    }


def style_metrics(
    model: StyleModel,
    rows: list[dict],
    answers: list[str],
    baseline_answers: Optional[list[str]] = None,
) -> dict:
    """`stylometry` (means for candidate, approved model and the test rows' own answers) and
    `paired_style` (per row, both models' cosine with the author's profile; baseline None without one)."""
    if baseline_answers is not None and len(baseline_answers) != len(answers):
        raise ValueError(f"{len(answers)} candidate answers but {len(baseline_answers)} baseline answers")
    candidate = [model.score(answer, AUTHOR).cosine for answer in answers]
    baseline = None if baseline_answers is None else [model.score(answer, AUTHOR).cosine for answer in baseline_answers]
    return {
        "stylometry": {
            "measure": "character 3-5-gram TF-IDF cosine with the train answers' profile; Burrows' Delta over 150 words",
            "candidate": _summary(model, answers),
            **({"baseline": _summary(model, baseline_answers)} if baseline_answers is not None else {}),
            "reference": _summary(model, [row["output"] for row in rows]),
        },
        "paired_style": [
            {"candidate": round(score, 6), "baseline": None if baseline is None else round(baseline[index], 6)}
            for index, score in enumerate(candidate)
        ],
    }
