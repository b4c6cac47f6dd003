"""The fitted answer model: which line answers, and how sure to be of the answer.

Two linear models, fitted on the dev split by `scrutiny fit` (evaluation.fit) and kept in a small
JSON file beside this module with what they were fitted on:
- the line model scores each candidate line (index.features) as the line that answers;
- the confidence model turns question-level evidence (the lead line's score, its margin over the
  next, how much of the question the passages and the lead cover) into the probability that the
  answer is right: an unanswerable question's answer is never right, so it learns both.
Calibrated thresholds make the level: `answer` when the answer is probably right, `not_found` when it
probably is not, `possible` between.
Applying them is a dot product; SciPy is needed only to fit.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

DEFAULT_MODEL = Path(__file__).with_name("answer_model.json")
LEVELS = ("answer", "possible", "not_found")


@dataclass
class Logistic:
    """A linear model over standardised features, z = ((x - mean) / scale) . weights + bias.

    `link` "logistic" gives each row its own probability, sigmoid(z); "softmax" gives the rows of
    one question a distribution, softmax(z): the chance that each candidate is the one that answers;
    "choice" is softmax with an outside option scoring 0, exp(z) / (1 + sum exp(z)): what the rows
    leave is the chance that none of them answers.
    """

    features: list[str]
    weights: list[float]
    bias: float
    mean: list[float]
    scale: list[float]
    link: str = "logistic"

    def scores(self, matrix: np.ndarray) -> np.ndarray:
        return ((matrix - np.asarray(self.mean)) / np.asarray(self.scale)) @ np.asarray(self.weights) + self.bias

    def probabilities(self, matrix: np.ndarray) -> np.ndarray:
        if matrix.size == 0:
            return np.zeros(len(matrix))
        z = self.scores(matrix)
        if self.link == "softmax":
            e = np.exp(z - z.max())
            return e / e.sum()
        if self.link == "choice":
            top = max(z.max(), 0.0)
            e = np.exp(z - top)
            return e / (e.sum() + np.exp(-top))
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))

    def to_json(self) -> dict:
        return {"features": self.features, "weights": self.weights, "bias": self.bias, "mean": self.mean, "scale": self.scale,
                "link": self.link}

    @classmethod
    def from_json(cls, data: dict) -> "Logistic":
        model = cls(list(data["features"]), [float(w) for w in data["weights"]], float(data["bias"]),
                    [float(m) for m in data["mean"]], [float(s) or 1.0 for s in data["scale"]], data.get("link", "logistic"))
        if not len(model.features) == len(model.weights) == len(model.mean) == len(model.scale):
            raise ValueError("feature, weight, mean and scale lists differ in length")
        if model.link not in ("logistic", "softmax", "choice"):
            raise ValueError(f"unknown link {model.link!r}")
        return model


@dataclass
class AnswerModel:
    line: Logistic  # which candidate line answers (a choice among a question's lines, or none of them)
    confidence: Logistic  # the chance that the composed answer is right
    answer_threshold: float  # confidence at or above which the answer is given as an answer
    possible_threshold: float  # at or above which it is a possible answer; below it, not found
    provenance: dict = field(default_factory=dict)  # what it was fitted on, when, and the figures it gave
    # A weighting of the embedding's dimensions, fitted on dev to find the lines that answer: over the product of the
    # question's and the line's vectors, where the cosine (their plain sum) weighs every dimension alike.
    closeness: Logistic | None = None

    def learned_closeness(self, query: np.ndarray, lines: np.ndarray) -> np.ndarray:
        """Each line's closeness to the question (`lines`: one vector per line) as the fitted weighting reads it;
        zeros for a model fitted without one."""
        if self.closeness is None or not len(lines):
            return np.zeros(len(lines))
        return self.closeness.scores(lines * query)

    def level(self, confidence: float) -> str:
        if confidence >= self.answer_threshold:
            return "answer"
        return "possible" if confidence >= self.possible_threshold else "not_found"

    def to_json(self) -> dict:
        return {
            "line": self.line.to_json(), "confidence": self.confidence.to_json(),
            "thresholds": {"answer": self.answer_threshold, "possible": self.possible_threshold},
            "provenance": self.provenance,
            **({"closeness": self.closeness.to_json()} if self.closeness is not None else {}),
        }

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")


class ModelError(ValueError):
    pass


def load_answer_model(path: Path | str | None = None) -> AnswerModel:
    """The fitted model at `path` (default: the one shipped beside this module)."""
    path = Path(path) if path else DEFAULT_MODEL
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        thresholds = data["thresholds"]
        return AnswerModel(
            line=Logistic.from_json(data["line"]), confidence=Logistic.from_json(data["confidence"]),
            answer_threshold=float(thresholds["answer"]), possible_threshold=float(thresholds["possible"]),
            provenance=data.get("provenance", {}),
            closeness=Logistic.from_json(data["closeness"]) if data.get("closeness") else None,
        )
    except OSError as exc:
        raise ModelError(f"{path}: cannot read the answer model ({exc.strerror or exc})") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"{path}: not a valid answer model ({exc})") from exc
