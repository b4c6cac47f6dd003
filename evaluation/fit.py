"""fit_answer_model: fit the answer model on a gold split, calibrate its confidence, measure each feature.

For every gold question the real retrieval runs and every candidate line of the passages read is
described by all the features in index.features and labelled by whether it quotes an accepted
answer. Then:
1. the line model, a logistic regression over the features, is fitted (its regularisation chosen
   by cross-validation over questions, so no question's lines are both fitted and judged);
2. with out-of-fold line scores, each question's answer is composed as `scrutiny ask` would and
   the confidence model is fitted on question-level evidence to predict whether it is right;
3. the thresholds are set on out-of-fold confidences: `answer` where precision reaches the target,
   `not_found` below the confidence that best trades answers given against unanswerable questions refused;
4. the ablation refits without each feature in turn and reports what is lost.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable

import numpy as np

from core.settings import AnswerSettings
from evaluation.gold import GoldQuestion
from evaluation.metrics import QuestionScore, answer_is_correct, contains_any
from evaluation.targets import PRECISION_TARGET, REFUSAL_TARGET
from index.answer import (CONFIDENCE_FEATURES, CONFIDENCE_SIGNS, Reading, compose_answer, confidence_evidence, lead_line, leadable, line_probabilities,
                          nearest_lines, nearness_feature, refusal_rule, supporting_lines)
from index.features import FEATURES, AskedQuestion, Candidate, feature_matrix
from index.scorer import AnswerModel, Logistic

REGULARISATION = (0.1, 0.3, 1.0, 3.0, 10.0)
FOLDS = 5
SEED = 13
# Fold splits whose out-of-fold outcomes set the thresholds. Over four seeds the answer threshold ranged 0.90-0.94
# with 3 splits and 0.93-0.94 with 8: dev's precision is flat near the target, so few outcomes let it slide.
SPLITS = 8
RESAMPLES = 200  # bootstrap resamples of those outcomes behind each threshold
# The learned closeness weighs 384 dimensions on a few thousand lines: held ten times tighter than the line model's
# features (dev, out of fold: 0.02 and 0.005 gave the same; 0.1 and above, fitted with the features, lost lead accuracy).
CLOSENESS_REGULARISATION = 0.02
CLOSENESS_SEED = 99  # its own fold split, apart from the line model's


@dataclass
class Example:
    """One gold question as the answer step sees it."""

    gold: GoldQuestion
    asked: AskedQuestion
    candidates: list[Candidate]
    top_cosine: float
    matrix: np.ndarray  # candidates x FEATURES
    labels: np.ndarray  # 1 where the line quotes an accepted answer
    meanings: np.ndarray | None = None  # candidates x embedding dimensions: question vector times line vector
    limit: int | None = None  # most lines the line model scores (AnswerSettings.scored_lines); None: every leadable line


@dataclass
class Outcome:
    confidence: float  # out of fold: the chance the answer is right
    correct: bool  # the composed answer quotes an accepted answer (never, for an unanswerable question)
    answerable: bool
    refused_by_rule: bool

    def refused(self, threshold: float) -> bool:
        return self.refused_by_rule or self.confidence < threshold

    def as_score(self) -> QuestionScore:
        return QuestionScore("", [], None, self.correct, None, "", self.confidence)


@dataclass
class Fit:
    model: AnswerModel
    dev: list[Outcome]
    lead_accuracy: float  # out of fold: the lead line quotes an accepted answer
    ablation: list[dict] = field(default_factory=list)


def collect_examples(scrutiny, gold: list[GoldQuestion], mode: str = "hybrid", progress=None) -> list[Example]:
    """Run retrieval for every question and describe every candidate line with every feature."""
    names = list(FEATURES)
    examples = []
    for question in gold:
        read = scrutiny.read(question.question, question.history)
        asked, candidates, top_cosine = scrutiny.candidates(read, None, mode)
        matrix = feature_matrix(candidates, asked, names)
        labels = np.array([question.answerable and contains_any(c.text, question.answers) for c in candidates], dtype=np.int8)
        lines, _ = scrutiny.line_vectors(candidates, asked.hits) if candidates else (np.zeros((0, 0), np.float32), None)
        meanings = lines * scrutiny.query_vector(read.text) if candidates else lines
        examples.append(Example(question, asked, candidates, top_cosine, matrix, labels, meanings, scrutiny.settings.answer.scored_lines))
        if progress is not None:
            progress()
    return examples


def fitted_logistic(matrix: np.ndarray, labels: np.ndarray, names: list[str], regularisation: float,
                    signs: dict[str, int] | None = None) -> Logistic:
    """A logistic regression over standardised features (L2 penalty 1 / regularisation on the weights). `signs`
    may fix the direction a feature can push (+1 up, -1 down, 0 either way): the weight is held at 0 rather
    than turned round, so a small sample's quirk cannot make, say, a lower similarity raise the confidence."""
    from scipy.optimize import minimize

    mean = matrix.mean(axis=0)
    scale = matrix.std(axis=0)
    scale[scale < 1e-9] = 1.0
    if len(set(labels.tolist())) < 2:
        return Logistic(names, [0.0] * len(names), 0.0, mean.tolist(), scale.tolist())
    x = (matrix - mean) / scale
    y = labels.astype(float)

    def loss(parameters: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = parameters[:-1], parameters[-1]
        z = x @ w + b
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
        total = float(np.logaddexp(0.0, z).sum() - y @ z) + 0.5 * (w @ w) / regularisation
        residual = p - y
        return total, np.append(x.T @ residual + w / regularisation, residual.sum())

    direction = signs or {}
    bounds = [((0.0, None) if direction.get(name, 0) > 0 else (None, 0.0) if direction.get(name, 0) < 0 else (None, None))
              for name in names] + [(None, None)]
    result = minimize(loss, np.zeros(len(names) + 1), jac=True, method="L-BFGS-B", bounds=bounds)
    return Logistic(names, result.x[:-1].tolist(), float(result.x[-1]), mean.tolist(), scale.tolist())


def fitted_ranker(groups: list[tuple[np.ndarray, np.ndarray]], names: list[str], regularisation: float) -> Logistic:
    """A conditional logit with an outside option: within each question, each candidate's probability of being
    the line that answers is exp(z) / (1 + sum exp(z)), z = w . x + b, and "none of these lines" takes the rest.
    Fitted by maximum likelihood (L2 penalty 1 / regularisation on w): a question with answering lines puts them
    first; one without (unanswerable, or its answer not among the lines read) teaches the outside option. So
    the lead's probability says how likely it is to answer, not only how it compares with the other lines."""
    from scipy.optimize import minimize

    groups = [(m, y) for m, y in groups if len(m)]
    if not groups:
        return Logistic(names, [0.0] * len(names), 0.0, [0.0] * len(names), [1.0] * len(names), "choice")
    stacked = np.vstack([m for m, _ in groups])
    mean = stacked.mean(axis=0)
    scale = stacked.std(axis=0)
    scale[scale < 1e-9] = 1.0
    standard = [((m - mean) / scale, y.astype(bool)) for m, y in groups]

    def loss(parameters: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = parameters[:-1], parameters[-1]
        total = 0.5 * (w @ w) / regularisation
        gradient = np.append(w / regularisation, 0.0)
        for x, positive in standard:
            z = x @ w + b
            top = max(z.max(), 0.0)  # the outside option scores 0
            e = np.exp(z - top)
            p = e / (e.sum() + np.exp(-top))
            chosen = p * positive if positive.any() else None
            if chosen is not None:
                total -= np.log(chosen.sum() + 1e-300)
                residual = chosen / chosen.sum() - p
            else:
                total -= np.log(1.0 - p.sum() + 1e-300)
                residual = -p
            gradient -= np.append(residual @ x, residual.sum())
        return total, gradient

    result = minimize(loss, np.zeros(len(names) + 1), jac=True, method="L-BFGS-B")
    return Logistic(names, result.x[:-1].tolist(), float(result.x[-1]), mean.tolist(), scale.tolist(), "choice")


def closeness_model(examples: list[Example], regularisation: float = CLOSENESS_REGULARISATION) -> Logistic:
    """The weighting of the embedding's dimensions that best picks the answering line among each question's
    lines (a choice model over the products of question and line vectors, as the line model is over features)."""
    groups = []
    for example in examples:
        mask = leadable_lines(example)
        groups.append((example.meanings[mask].astype(np.float64), example.labels[mask]))
    dimensions = next((e.meanings.shape[1] for e in examples if e.meanings is not None and e.meanings.size), 0)
    return fitted_ranker(groups, [f"dimension_{i}" for i in range(dimensions)], regularisation)


def write_learned_closeness(examples: list[Example], model: Logistic) -> None:
    """Set each line's learned_closeness column as `model` scores its meanings."""
    column = list(FEATURES).index("learned_closeness")
    for example in examples:
        if len(example.candidates):
            example.matrix[:, column] = model.scores(example.meanings.astype(np.float64))


def learned_closeness_out_of_fold(examples: list[Example]) -> Logistic:
    """Write each dev question's learned closeness from a weighting fitted without its fold, so the line model
    learns what the weighting is worth on questions it has not seen; returns the weighting fitted on them all."""
    fold = folds_of(examples, seed=CLOSENESS_SEED)
    for held in sorted(set(fold)):
        model = closeness_model([e for e, f in zip(examples, fold) if f != held])
        write_learned_closeness([e for e, f in zip(examples, fold) if f == held], model)
    return closeness_model(examples)


def columns(names: list[str]) -> list[int]:
    every = list(FEATURES)
    return [every.index(name) for name in names]


def leadable_lines(example: Example) -> np.ndarray:
    """Which of the example's candidates may lead: the model is fitted, and scores, among those alone.
    (Reads the features `collect_examples` kept on the candidates.)"""
    return leadable(example.candidates, example.asked)


def scored_lines(example: Example, names: list[str]) -> np.ndarray:
    """The lines a line model over `names` scores, as `scrutiny ask` chooses them (index.answer.scored_candidates):
    the leadable lines nearest the question by the learned closeness (out of fold once learned_closeness_out_of_fold
    has run), or by the cosine for a model without it."""
    mask = leadable_lines(example)
    if example.limit is None:
        return mask
    return nearest_lines(mask, example.matrix[:, columns([nearness_feature(names)])[0]], example.limit)


def example_probabilities(model: Logistic, example: Example) -> np.ndarray:
    mask = scored_lines(example, model.features)
    return line_probabilities(model, example.matrix[mask][:, columns(model.features)], mask)


def line_model(examples: list[Example], names: list[str], regularisation: float) -> Logistic:
    groups = []
    for example in examples:
        mask = scored_lines(example, names)
        groups.append((example.matrix[mask][:, columns(names)], example.labels[mask]))
    return fitted_ranker(groups, names, regularisation)


def folds_of(examples: list[Example], folds: int = FOLDS, seed: int | None = None) -> list[int]:
    """A fold number per question, fixed by a seeded shuffle so refits compare like with like."""
    order = np.random.default_rng(SEED if seed is None else seed).permutation(len(examples))
    fold = np.empty(len(examples), dtype=int)
    fold[order] = np.arange(len(examples)) % folds
    return fold.tolist()


def out_of_fold_line_scores(examples: list[Example], names: list[str], regularisation: float, seed: int | None = None) -> list[np.ndarray]:
    """Each question's line probabilities from a model fitted without that question's fold."""
    fold = folds_of(examples, seed=seed)
    scores: list[np.ndarray] = [np.zeros(0)] * len(examples)
    for held in sorted(set(fold)):
        model = line_model([e for e, f in zip(examples, fold) if f != held], names, regularisation)
        for i, example in enumerate(examples):
            if fold[i] == held:
                scores[i] = example_probabilities(model, example)
    return scores


def lead_accuracy(examples: list[Example], scores: list[np.ndarray]) -> float:
    """Share of answerable questions whose lead line quotes an accepted answer."""
    right = total = 0
    for example, probabilities in zip(examples, scores):
        if not example.gold.answerable:
            continue
        total += 1
        lead = ranked_lead(example, probabilities)
        right += lead is not None and bool(example.labels[example.candidates.index(lead)])
    return right / total if total else 0.0


def lead_log_likelihood(examples: list[Example], scores: list[np.ndarray]) -> float:
    """Mean log of the probability given to the lines that quote an answer, over questions that have one:
    a smooth measure of the ranking, steadier than lead accuracy for choosing the regularisation."""
    logs = [np.log(probabilities[example.labels.astype(bool)].sum() + 1e-12)
            for example, probabilities in zip(examples, scores) if example.labels.any()]
    return float(np.mean(logs)) if logs else 0.0


def ranked_lead(example: Example, probabilities: np.ndarray) -> Candidate | None:
    for candidate, probability in zip(example.candidates, probabilities):
        candidate.probability = float(probability)
    ranked = sorted(example.candidates, key=lambda c: (-c.probability, c.hit_rank, c.start))
    return lead_line(ranked, example.asked)


def composed(example: Example, probabilities: np.ndarray, settings: AnswerSettings) -> tuple[bool, dict[str, float], bool]:
    """Whether the answer `scrutiny ask` would compose is right, its confidence evidence, and whether a rule refuses it."""
    lead = ranked_lead(example, probabilities)
    ranked = sorted(example.candidates, key=lambda c: (-c.probability, c.hit_rank, c.start))
    evidence = confidence_evidence(example.asked, ranked, lead, example.top_cosine)
    refused = refusal_rule(example.asked, lead) is not None
    if lead is None:
        return False, evidence, True
    reading = Reading(example.asked, ranked, lead, supporting_lines(lead, ranked, example.asked, settings), evidence, 1.0, "answer")
    answer = compose_answer(example.gold.question, reading)
    correct = example.gold.answerable and answer_is_correct(True, answer.answer, example.gold)
    return correct, evidence, refused


def confidence_data(examples: list[Example], scores: list[np.ndarray], settings: AnswerSettings) -> tuple[np.ndarray, np.ndarray, list[bool]]:
    rows, labels, refused = [], [], []
    for example, probabilities in zip(examples, scores):
        correct, evidence, by_rule = composed(example, probabilities, settings)
        rows.append([evidence[name] for name in CONFIDENCE_FEATURES])
        labels.append(int(correct))
        refused.append(by_rule)
    return np.array(rows), np.array(labels), refused


def out_of_fold_probabilities(matrix: np.ndarray, labels: np.ndarray, examples: list[Example], names: list[str],
                              fitted_on: np.ndarray, seed: int | None = None) -> np.ndarray:
    """Each question's confidence from a model fitted without its fold, on the rows `fitted_on` allows."""
    fold = folds_of(examples, seed=seed)
    scores = np.zeros(len(labels))
    for held in sorted(set(fold)):
        train = np.array([f != held for f in fold])
        model = fitted_logistic(matrix[train & fitted_on], labels[train & fitted_on], names, 1.0, CONFIDENCE_SIGNS)
        scores[~train] = model.probabilities(matrix[~train])
    return scores


def possible_threshold(outcomes: list[Outcome], refusal_weight: float, refusal_floor: float = 0.0) -> float:
    """The confidence below which an answer is withheld ("not found"), chosen among the thresholds that refuse
    at least `refusal_floor` of the unanswerable questions (all thresholds when none does) to handle the most
    questions right (out of fold): each answerable question answered right counts 1, each unanswerable one
    refused `refusal_weight`. The lowest such threshold on a tie."""
    answerable = [o for o in outcomes if o.answerable]
    unanswerable = [o for o in outcomes if not o.answerable]

    def refused(threshold: float) -> int:
        return sum(o.refused(threshold) for o in unanswerable)

    def refusal(threshold: float) -> float:
        return refused(threshold) / len(unanswerable) if unanswerable else 0.0

    def value(threshold: float) -> float:
        return sum(o.correct and not o.refused(threshold) for o in answerable) + refusal_weight * refused(threshold)

    thresholds = sorted({0.0, *(round(o.confidence + 1e-6, 6) for o in outcomes)})
    thresholds = [t for t in thresholds if refusal(t) >= refusal_floor] or thresholds
    return max(thresholds, key=lambda t: (round(value(t), 9), -t))


def answer_threshold(outcomes: list[Outcome], refused_below: float, precision: float) -> float:
    """The lowest confidence above which the answers given are right at least `precision` of the time."""
    given = sorted((o for o in outcomes if not o.refused(refused_below)), key=lambda o: -o.confidence)
    best = 1.0
    right = 0
    for count, outcome in enumerate(given, start=1):
        right += outcome.correct
        if right / count >= precision:
            best = outcome.confidence
    return best


def resampled_median(outcomes: list[Outcome], threshold_of: Callable[[list[Outcome]], float], samples: int = RESAMPLES) -> float:
    """The median of a threshold chosen on bootstrap resamples of the outcomes. Chosen once on dev alone, a
    threshold hangs on the one or two questions at its edge (correcting one gold answer moved the answer
    threshold from 0.86 to 0.90); the median over resamples moves little when one question changes."""
    rng = np.random.default_rng(SEED)
    picks = [threshold_of([outcomes[i] for i in rng.integers(0, len(outcomes), len(outcomes))]) for _ in range(samples)]
    return float(np.median(picks))


def rounded_up(threshold: float) -> float:
    """A threshold to four places, rounded up so that it still withholds every answer it withheld."""
    return math.ceil(threshold * 10_000) / 10_000


def fit_answer_model(examples: list[Example], settings: AnswerSettings, precision: float = PRECISION_TARGET, refusal_weight: float = 1.0,
                     names: list[str] | None = None, regularisation: float | None = None, refusal: float = REFUSAL_TARGET) -> Fit:
    """Fit both models on `examples` and calibrate the thresholds on their out-of-fold scores. The learned
    closeness is fitted first and each example's column of it is rewritten out of fold.

    `precision` is the share of `answer`-level answers that must be right on dev, and `refusal` the share of
    unanswerable questions that must come back not found on dev (see evaluation.targets); `refusal_weight` is
    what refusing one more is worth against answering one more answerable question right.
    """
    names = names or list(FEATURES)
    closeness = learned_closeness_out_of_fold(examples) if "learned_closeness" in names else None
    if regularisation is None:
        regularisation = max(REGULARISATION, key=lambda c: lead_log_likelihood(examples, out_of_fold_line_scores(examples, names, c)))
    # The outcomes of several fold splits are pooled: one split's thresholds hang on how its folds fell.
    outcomes: list[Outcome] = []
    leads = []
    for split in range(SPLITS):
        scores = out_of_fold_line_scores(examples, names, regularisation, SEED + split)
        matrix, correct, refused = confidence_data(examples, scores, settings)
        # A question a rule refuses never reaches the confidence model, so it is not fitted on them either.
        reaches = ~np.array(refused, dtype=bool)
        confidences = out_of_fold_probabilities(matrix, correct, examples, CONFIDENCE_FEATURES, reaches, SEED + split)
        outcomes += [Outcome(float(c), bool(y), e.gold.answerable, r) for c, y, e, r in zip(confidences, correct, examples, refused)]
        leads.append(lead_accuracy(examples, scores))
        if split == 0:
            # The confidence model learns from the line model's out-of-fold scores: what it will see on new questions.
            confidence = fitted_logistic(matrix[reaches], correct[reaches], CONFIDENCE_FEATURES, 1.0, CONFIDENCE_SIGNS)
    refuse_below = resampled_median(outcomes, lambda sample: possible_threshold(sample, refusal_weight, refusal))
    answer = max(resampled_median(outcomes, lambda sample: answer_threshold(sample, refuse_below, precision)), refuse_below)
    model = AnswerModel(line_model(examples, names, regularisation), confidence, rounded_up(answer), rounded_up(refuse_below),
                        {"regularisation": regularisation}, closeness)
    return Fit(model, outcomes, float(np.mean(leads)))


def test_lead_accuracy(model: Logistic, examples: list[Example]) -> float:
    return lead_accuracy(examples, [example_probabilities(model, e) for e in examples])


def ablation(dev: list[Example], test: list[Example], regularisation: float) -> list[dict]:
    """Lead accuracy without each feature: out of fold on dev, and on test when a test split is given."""
    every = list(FEATURES)
    baseline_dev = lead_accuracy(dev, out_of_fold_line_scores(dev, every, regularisation))
    baseline_test = test_lead_accuracy(line_model(dev, every, regularisation), test) if test else None
    rows = [{"feature": "(all)", "dev": baseline_dev, "test": baseline_test}]
    for name in every:
        kept = [n for n in every if n != name]
        dev_score = lead_accuracy(dev, out_of_fold_line_scores(dev, kept, regularisation))
        test_score = test_lead_accuracy(line_model(dev, kept, regularisation), test) if test else None
        rows.append({"feature": name, "dev": dev_score, "test": test_score,
                     "dev_change": dev_score - baseline_dev,
                     "test_change": None if test_score is None else test_score - baseline_test})
    return rows


def gold_fingerprint(path: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(path.glob("*.jsonl")) if path.is_dir() else [path]:
        digest.update(file.read_bytes())
    return digest.hexdigest()


def provenance(fit: Fit, gold_path: Path, examples: list[Example], precision: float, refusal_weight: float,
               refusal: float = REFUSAL_TARGET) -> dict:
    threshold = fit.model.possible_threshold
    given = [o for o in fit.dev if not o.refused(threshold)]
    answered = [o for o in given if o.confidence >= fit.model.answer_threshold]
    unanswerable = [o for o in fit.dev if not o.answerable]
    answerable = [o for o in fit.dev if o.answerable]
    return {
        **fit.model.provenance,
        "gold": str(gold_path), "gold_sha256": gold_fingerprint(gold_path), "questions": len(examples),
        "fitted": date.today().isoformat(),
        "targets": {"answer_precision": precision, "refusal": refusal, "refusal_weight": refusal_weight},
        "dev_out_of_fold": {
            "lead_accuracy": round(fit.lead_accuracy, 4),
            "answer_accuracy": round(sum(o.correct for o in given) / len(answerable), 4) if answerable else None,
            "answer_precision": round(sum(o.correct for o in answered) / len(answered), 4) if answered else None,
            "refusal": round(sum(o.refused(threshold) for o in unanswerable) / len(unanswerable), 4) if unanswerable else None,
        },
    }
