"""Quality gate: retrieval and answers on the held-out gold set must stay above the floors in evaluation/floors.json.

The two halves of the corpus (gold tags `seed` and `kent`) are held to their
own floors, so a gain on one cannot hide a loss on the other, and hybrid must
be at least as good as either retriever alone on each half (within one question).
Run with `-s` or look at the printed table for the measured figures.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaluation.gold import GoldQuestion, load_gold
from evaluation.report import metrics_table
from evaluation.run import EvalResult, evaluate_modes
from index.service import Scrutiny

ROOT = Path(__file__).resolve().parent.parent
GATE = json.loads((ROOT / "evaluation" / "floors.json").read_text(encoding="utf-8"))
MODES = ["bm25", "dense", "hybrid"]
HALVES = ["seed", "kent"]
FLOORS = [
    (mode, scope, metric, floor)
    for mode, scopes in GATE["floors"].items()
    for scope, metrics in scopes.items()
    for metric, floor in metrics.items()
]


def gated(questions: list[GoldQuestion]) -> list[GoldQuestion]:
    """The questions the floors were measured on: none carrying a tag of the gate's exclude_tags."""
    excluded = set(GATE.get("exclude_tags", []))
    return [question for question in questions if not excluded & set(question.tags)]


@pytest.fixture(scope="module")
def gold() -> list[GoldQuestion]:
    return gated(load_gold(ROOT / GATE["gold"]))


@pytest.fixture(scope="module")
def results(corpus_index, shared_embedder, gold) -> dict[str, EvalResult]:
    return evaluate_modes(Scrutiny(corpus_index, shared_embedder), gold, MODES)


def measured(result: EvalResult, scope: str, metric: str) -> float | None:
    return result.metric(metric, None if scope == "all" else scope)


def figures(results: dict[str, EvalResult]) -> str:
    lines = ["", f"Measured on {GATE['gold']}:"]
    for scope in ["all", *HALVES]:
        lines += ["", f"[{scope}]", *metrics_table(results, None if scope == "all" else scope)]
    return "\n".join(lines)


def test_every_question_is_scored_and_the_measured_figures_are_printed(results, gold, capsys):
    with capsys.disabled():
        print(figures(results))
    for mode, result in results.items():
        assert result.overall.n == len(gold), mode
        assert set(HALVES) <= set(result.tags), f"gold set lacks a half: tags are {sorted(result.tags)}"
        assert len(result.questions) == len(gold)


def test_the_floors_cover_every_mode_and_both_halves():
    assert sorted(GATE["floors"]) == sorted(MODES)
    for mode in MODES:
        for half in HALVES:
            assert {"recall@5", "mrr@10"} <= set(GATE["floors"][mode][half]), (mode, half)
        assert {"answer_accuracy", "refusal_accuracy"} <= set(GATE["floors"][mode]["all"]), mode


@pytest.mark.parametrize(("mode", "scope", "metric", "floor"), FLOORS, ids=[f"{m}-{s}-{k}" for m, s, k, _ in FLOORS])
def test_scores_stay_above_their_floor(results, mode, scope, metric, floor):
    value = measured(results[mode], scope, metric)
    assert value is not None, f"no questions for {metric} in scope {scope!r}"
    assert value >= floor, f"{mode} {scope} {metric} = {value:.3f} < floor {floor:.3f}{figures(results)}"


@pytest.mark.parametrize("half", HALVES)
@pytest.mark.parametrize("metric", ["recall@5", "mrr@10"])
@pytest.mark.parametrize("other", ["bm25", "dense"])
def test_hybrid_is_no_worse_than_either_retriever_alone(results, gold, half, metric, other):
    answerable = sum(1 for q in gold if q.answerable and half in q.tags)
    tolerance = GATE["hybrid_tolerance_questions"] / answerable + 1e-9  # a tie one question apart must not fail on rounding
    hybrid, alone = measured(results["hybrid"], half, metric), measured(results[other], half, metric)
    assert hybrid >= alone - tolerance, (
        f"{half} {metric}: hybrid {hybrid:.3f} < {other} {alone:.3f} (tolerance {tolerance:.3f}){figures(results)}"
    )
