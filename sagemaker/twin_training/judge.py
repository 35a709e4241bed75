"""The LLM judge (SYSTEM.md §5): accuracy and style, 1 to 3 each, and what the scores add up to."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from statistics import mean
from typing import Iterable, Optional

CRITERIA = ("accuracy", "style")


def judge_prompt(instruction: str, answer: str) -> str:
    return "\n".join(
        [
            "You grade answers written for a technical blog or a social-media post.",
            "Read the instruction and the answer, then grade the answer on two criteria, 1 to 3 each:",
            "- accuracy: are its facts correct and complete enough? 1: wrong or misleading;"
            " 2: mostly right, with gaps or small errors; 3: correct and precise.",
            "- style: does it read like a good technical post, plain words and concrete details rather"
            " than formal or academic prose? 1: stiff, formal or padded; 2: readable but bland or uneven;"
            " 3: clear, direct and engaging.",
            'Reply with JSON only: {"accuracy": {"analysis": "<one or two sentences>", "score": <1-3>},'
            ' "style": {"analysis": "<one or two sentences>", "score": <1-3>}}',
            f'Instruction:\n"""\n{instruction}\n"""',
            f'Answer:\n"""\n{answer}\n"""',
        ]
    )


@dataclass(frozen=True)
class Verdict:
    accuracy: Optional[int]
    style: Optional[int]
    accuracy_analysis: str = ""
    style_analysis: str = ""


def _score(value: object) -> Optional[int]:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip() in ("1", "2", "3"):
        number = int(value.strip())
    else:
        return None
    return number if 1 <= number <= 3 else None


def parse_verdict(reply: str) -> Verdict:
    """A judge reply as scores; anything missing, out of range or unreadable is None, never 0."""
    try:
        data = json.loads(reply)
    except (json.JSONDecodeError, TypeError):
        return Verdict(accuracy=None, style=None)
    if not isinstance(data, dict):
        return Verdict(accuracy=None, style=None)
    scores = {}
    analyses = {}
    for criterion in CRITERIA:
        part = data.get(criterion)
        if isinstance(part, dict):
            scores[criterion] = _score(part.get("score"))
            analyses[criterion] = str(part.get("analysis", ""))
        else:
            scores[criterion] = _score(part)
            analyses[criterion] = ""
    return Verdict(
        accuracy=scores["accuracy"],
        style=scores["style"],
        accuracy_analysis=analyses["accuracy"],
        style_analysis=analyses["style"],
    )


def summarize(verdicts: Iterable[Verdict]) -> dict:
    """Averages per criterion over the verdicts that have that score, with how many were missing."""
    verdicts = list(verdicts)
    summary: dict = {"samples": len(verdicts)}
    for criterion in CRITERIA:
        scores = [getattr(verdict, criterion) for verdict in verdicts if getattr(verdict, criterion) is not None]
        summary[criterion] = {
            "mean": round(mean(scores), 4) if scores else None,
            "count": len(scores),
            "missing": len(verdicts) - len(scores),
        }
    return summary


def verdict_record(instruction: str, answer: str, verdict: Verdict) -> dict:
    return {"instruction": instruction, "answer": answer, **asdict(verdict)}


def verdict_score(verdict: Verdict) -> Optional[float]:
    """One answer's score for the gate: the mean of accuracy and style, None when either is missing."""
    if verdict.accuracy is None or verdict.style is None:
        return None
    return (verdict.accuracy + verdict.style) / 2


def paired_scores(candidate: list[Verdict], baseline: Optional[list[Verdict]]) -> list[dict]:
    """Per test row, the candidate's and the approved model's scores (same row, same judge), for the
    gate's paired comparison; the baseline is None throughout when there is no approved model."""
    if baseline is not None and len(baseline) != len(candidate):
        raise ValueError(f"{len(candidate)} candidate verdicts but {len(baseline)} baseline verdicts")
    return [
        {
            "candidate": verdict_score(verdict),
            "baseline": None if baseline is None else verdict_score(baseline[index]),
        }
        for index, verdict in enumerate(candidate)
    ]
