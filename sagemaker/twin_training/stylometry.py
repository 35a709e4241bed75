"""Stylometry in the evaluation job: how much an answer reads like the author, by the same definitions
as the CLI's `twin eval twin` (lambdas/evaluation/stylometry.ts). test/fixtures/stylometry-golden.json
pins both to the same numbers; change them together.

- character 3-5-grams (by code point, after lower-casing and collapsing whitespace), TF-IDF weighted
  with sublinear term frequency and idf = ln((1 + N) / (1 + df)) + 1 over the reference passages,
  n-grams in fewer than 2 passages dropped; an author's profile is the normalised sum of their
  passages' normalised vectors; similarity is the cosine;
- Burrows' Delta over the 150 most frequent words (ties by word), z-scored with the passages'
  population standard deviation (1 where it is 0): the mean absolute difference between the text's
  z-scores and the mean of the author's passages' z-scores.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

NGRAM_ORDERS = (3, 4, 5)
DELTA_WORDS = 150
MIN_DOCUMENT_FREQUENCY = 2

_WHITESPACE = re.compile(r"\s+")
# A run of letters (no digits, no underscore), with inner apostrophes: JavaScript's \p{L}+(?:['’]\p{L}+)*.
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


def normalize_for_style(text: str) -> str:
    return _WHITESPACE.sub(" ", text.lower()).strip()


def style_words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _ngram_counts(text: str) -> Counter:
    characters = normalize_for_style(text)
    counts: Counter = Counter()
    for order in NGRAM_ORDERS:
        for start in range(0, len(characters) - order + 1):
            counts[characters[start : start + order]] += 1
    return counts


def _normalize(vector: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(value * value for value in vector.values()))
    if norm == 0:
        return vector
    return {key: value / norm for key, value in vector.items()}


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    return sum(value * large.get(key, 0.0) for key, value in small.items())


def _weigh(counts: Counter, idf: dict[str, float]) -> dict[str, float]:
    return _normalize({gram: (1 + math.log(count)) * idf[gram] for gram, count in counts.items() if gram in idf})


def _relative_frequencies(words: list[str], vocabulary: list[str]) -> list[float]:
    if not words:
        return [0.0 for _ in vocabulary]
    counts = Counter(words)
    return [counts.get(word, 0) / len(words) for word in vocabulary]


@dataclass(frozen=True)
class StyleScore:
    cosine: float
    delta: float


class StyleModel:
    """Author profiles from reference passages, and the measures that compare a text with them."""

    def __init__(self, passages: list[tuple[str, str]]):
        """`passages`: (author, text) pairs."""
        authors = sorted({author for author, _ in passages})
        if not authors:
            raise ValueError("stylometry needs reference passages of at least one author")
        counts = [_ngram_counts(text) for _, text in passages]
        document_frequency: Counter = Counter()
        for passage_counts in counts:
            document_frequency.update(passage_counts.keys())
        self._idf = {
            gram: math.log((1 + len(passages)) / (1 + frequency)) + 1
            for gram, frequency in document_frequency.items()
            if frequency >= MIN_DOCUMENT_FREQUENCY
        }
        vectors = [_weigh(passage_counts, self._idf) for passage_counts in counts]
        self._profiles: dict[str, dict[str, float]] = {}
        for author in authors:
            centroid: dict[str, float] = {}
            for (owner, _), vector in zip(passages, vectors):
                if owner != author:
                    continue
                for gram, value in vector.items():
                    centroid[gram] = centroid.get(gram, 0.0) + value
            self._profiles[author] = _normalize(centroid)

        word_lists = [style_words(text) for _, text in passages]
        totals: Counter = Counter()
        for words in word_lists:
            totals.update(words)
        self._delta_words = [word for word, _ in sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:DELTA_WORDS]]
        frequencies = [_relative_frequencies(words, self._delta_words) for words in word_lists]
        self._means: list[float] = []
        self._deviations: list[float] = []
        for column in range(len(self._delta_words)):
            values = [row[column] for row in frequencies]
            mean = sum(values) / len(values)
            variance = sum((value - mean) ** 2 for value in values) / len(values)
            self._means.append(mean)
            self._deviations.append(math.sqrt(variance) or 1.0)
        self._author_z: dict[str, list[float]] = {}
        for author in authors:
            rows = [self._z(row) for (owner, _), row in zip(passages, frequencies) if owner == author]
            mean_z = [0.0] * len(self._delta_words)
            for row in rows:
                for column, value in enumerate(row):
                    mean_z[column] += value / len(rows)
            self._author_z[author] = mean_z

    def _z(self, row: list[float]) -> list[float]:
        return [(value - mean) / deviation for value, mean, deviation in zip(row, self._means, self._deviations)]

    @property
    def authors(self) -> list[str]:
        return list(self._profiles)

    def score(self, text: str, author: str) -> StyleScore:
        if author not in self._profiles:
            raise KeyError(f"no style profile for {author}")
        text_z = self._z(_relative_frequencies(style_words(text), self._delta_words))
        author_z = self._author_z[author]
        delta = sum(abs(a - b) for a, b in zip(text_z, author_z)) / len(text_z) if text_z else 0.0
        return StyleScore(cosine=_cosine(_weigh(_ngram_counts(text), self._idf), self._profiles[author]), delta=delta)

    def attribute(self, text: str) -> str | None:
        vector = _weigh(_ngram_counts(text), self._idf)
        best: tuple[str, float] | None = None
        for author, profile in self._profiles.items():
            similarity = _cosine(vector, profile)
            if similarity > 0 and (best is None or similarity > best[1]):
                best = (author, similarity)
        return best[0] if best else None
