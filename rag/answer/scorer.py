"""The learned sentence scorer: two small logistic regressions, evaluated with numpy.

The first rates each candidate sentence (P(it answers the question) from FEATURES) and picks what is
quoted; the second rates the question (P(the passages answer it at all)) from the best sentence
similarity, the best neighbour similarity and whether the best sentence holds the asked-for kind of
thing: on the dev sets these separate answerable from unanswerable questions better than the best
sentence's own rating does. Both are fitted by
``benchmarks/fit_sentence_scorer.py`` on the dev sets and shipped as ``sentence_scorer.json`` beside
this module, with the answer threshold chosen on out-of-fold figures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from rag.answer.features import FEATURES

PARAMETERS = Path(__file__).with_name("sentence_scorer.json")


@dataclass(frozen=True)
class SentenceScorer:
    """Probability that a sentence answers the question, and the thresholds that act on it."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    answer_coef: np.ndarray  # on answer_inputs()
    answer_intercept: float
    threshold: float  # answer when answerability reaches this; decline below
    margin: float  # a further sentence must score at least best - margin (in probability)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """P(answers the question) for each row of features."""
        return _sigmoid(((features - self.mean) / self.scale) @ self.coef + self.intercept)

    def answerability(self, features: np.ndarray, probabilities: np.ndarray) -> float:
        """P(the candidates answer the question at all); 0 without candidates."""
        if not len(features):
            return 0.0
        return float(_sigmoid(answer_inputs(features, probabilities) @ self.answer_coef
                              + self.answer_intercept))

    @classmethod
    def from_dict(cls, params: dict) -> SentenceScorer:
        """A scorer from its JSON parameters; features must match this code's FEATURES."""
        if tuple(params["features"]) != FEATURES:
            raise ValueError(f"{PARAMETERS.name} was fitted on features {params['features']}, "
                             f"this code computes {list(FEATURES)}: refit it")
        return cls(np.array(params["mean"]), np.array(params["scale"]), np.array(params["coef"]),
                   float(params["intercept"]), np.array(params["answer_coef"]),
                   float(params["answer_intercept"]), float(params["threshold"]), float(params["margin"]))

    def to_dict(self) -> dict:
        """The JSON parameters."""
        return {"features": list(FEATURES), "mean": self.mean.round(6).tolist(),
                "scale": self.scale.round(6).tolist(), "coef": self.coef.round(6).tolist(),
                "intercept": round(self.intercept, 6), "answer_coef": self.answer_coef.round(6).tolist(),
                "answer_intercept": round(self.answer_intercept, 6), "threshold": round(self.threshold, 4),
                "margin": round(self.margin, 4)}


@cache
def shipped_scorer() -> SentenceScorer:
    """The scorer fitted on the dev sets, loaded once."""
    return SentenceScorer.from_dict(json.loads(PARAMETERS.read_text(encoding="utf-8")))


def answer_inputs(features: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """The question-level inputs: the best similarity, the best neighbour similarity, and whether the
    best-rated sentence lacks what the question asks for (a number for "how many", ...)."""
    best = features[int(np.argmax(probabilities))]
    return np.array([features[:, FEATURES.index("similarity")].max(),
                     features[:, FEATURES.index("neighbour_similarity")].max(),
                     best[FEATURES.index("type_missing")]])


def _sigmoid(z):
    """The logistic function."""
    return 1.0 / (1.0 + np.exp(-z))
