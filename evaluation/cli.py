"""`scrutiny eval`: score retrieval and answers against a gold question set.

Only click is imported at module level so `scrutiny --help` stays instant.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from evaluation.targets import PRECISION_TARGET, REFUSAL_TARGET
from server.cli import backend_options

ALL_MODES = ("bm25", "dense", "hybrid")


def fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def modes_for(choice: str) -> list[str]:
    return list(ALL_MODES) if choice == "all" else [choice]


def results_json(results: dict) -> dict:
    """One mode's object, or {"modes": {mode: object}} when several were compared."""
    if len(results) == 1:
        return next(iter(results.values())).to_json()
    return {"modes": {mode: result.to_json() for mode, result in results.items()}}


def results_table(results: dict):
    """A rich table of the overall metrics, one column per mode."""
    from rich.table import Table

    from evaluation.report import METRIC_LABELS, figure

    first = next(iter(results.values()))
    table = Table(title=f"Scrutiny evaluation: {first.overall.n} questions")
    table.add_column("Metric")
    for mode in results:
        table.add_column(mode, justify="right")
    for key, label in METRIC_LABELS.items():
        table.add_row(label, *(figure(result.metric(key)) for result in results.values()))
    return table


def tags_table(results: dict):
    """A rich table of the metrics per gold tag, one row per tag and mode."""
    from rich import box
    from rich.table import Table

    from evaluation.report import SHORT_LABELS, tag_rows

    table = Table(title="Per tag", box=box.SIMPLE_HEAD)
    for name in ("Tag", "n", "Mode", *SHORT_LABELS.values()):
        table.add_column(name, justify="left" if name in ("Tag", "Mode") else "right", no_wrap=True)
    previous = None
    for tag, n, mode, values in tag_rows(results):
        if previous is not None and tag != previous:
            table.add_section()
        table.add_row(tag if tag != previous else "", str(n) if tag != previous else "", mode, *values)
        previous = tag
    return table


def reliability_table(results: dict):
    """A rich table of the share of answers right per confidence-score bucket, one column pair per mode."""
    from rich import box
    from rich.table import Table

    from evaluation.report import figure

    table = Table(title="Reliability: share right by confidence score", box=box.SIMPLE_HEAD)
    table.add_column("Score")
    for mode in results:
        table.add_column(f"{mode} n", justify="right")
        table.add_column(f"{mode} right", justify="right")
    rows = {mode: result.reliability() for mode, result in results.items()}
    for i, row in enumerate(next(iter(rows.values()))):
        cells = [value for mode in results for value in (str(rows[mode][i]["n"]), figure(rows[mode][i]["right"], 2))]
        table.add_row(f"{row['from']:.1f}-{row['to']:.1f}", *cells)
    return table


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--gold", "gold_path", required=True, type=click.Path(path_type=Path),
              help="Gold question file (JSON Lines) or a folder of *.jsonl files.")
@click.option("--mode", type=click.Choice(["bm25", "dense", "hybrid", "all"]), default="hybrid", show_default=True,
              help="Retriever to evaluate; 'all' compares the three side by side.")
@click.option("--k", "k", type=click.IntRange(1, 100), default=10, show_default=True, help="Passages ranked per question.")
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON.")
@click.option("--report", "report_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write a Markdown report and a bar chart of the metrics into this folder.")
@click.option("--index", "index_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Index folder (default: $SCRUTINY_INDEX or ./var/index).")
@click.option("--tag", default=None, help="Only the gold questions carrying this tag.")
@backend_options
def eval_command(gold_path, mode, k, as_json, report_dir, index_dir, tag):
    """Score retrieval (Recall@k, MRR, nDCG) and answers against a gold question set.

    Unanswerable gold questions (no accepted answers) score only in refusal accuracy.
    """
    from core.settings import load_settings
    from evaluation.gold import load_gold
    from evaluation.report import write_report
    from evaluation.run import evaluate_modes
    from index.service import Scrutiny
    from index.store import IndexError_

    try:
        gold = load_gold(gold_path)
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    if tag:
        gold = [question for question in gold if tag in question.tags]
    if not gold:
        fail(f"no gold questions in {gold_path}" + (f" tagged {tag!r}" if tag else ""))

    scrutiny = Scrutiny(load_settings(index_dir))
    try:
        scrutiny.state()  # open the index before loading the model, so a missing index fails fast
        results = evaluate_modes(scrutiny, gold, modes_for(mode), k)
    except IndexError_ as exc:
        fail(str(exc))

    if as_json:
        click.echo(json.dumps(results_json(results), indent=2, ensure_ascii=False))
    else:
        from rich.console import Console

        console = Console()
        console.print(results_table(results))
        if next(iter(results.values())).tags:
            console.print(tags_table(results))
        console.print(reliability_table(results))
    if report_dir is not None:
        files = write_report(results, report_dir, str(gold_path))
        click.echo(f"Report written to {files.markdown} and {files.chart}", err=as_json)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--gold", "gold_path", type=click.Path(path_type=Path), default=Path("corpus/gold/dev.jsonl"), show_default=True,
              help="Gold questions to fit on (the dev split: never the split you report on).")
@click.option("--test", "test_path", type=click.Path(path_type=Path), default=None,
              help="Held-out gold questions, only to report the ablation's effect on them.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the model (default: the answer model the settings use).")
@click.option("--precision", type=click.FloatRange(0.5, 1.0), default=PRECISION_TARGET, show_default=True,
              help="Share of `answer`-level answers that must be right on dev (out of fold); above the 0.90 wanted on new questions.")
@click.option("--refusal", type=click.FloatRange(0.0, 1.0), default=REFUSAL_TARGET, show_default=True,
              help="Share of unanswerable questions that must come back not found on dev (out of fold); above the 0.80 wanted on new questions.")
@click.option("--refusal-weight", "refusal_weight", type=click.FloatRange(0.0, 10.0), default=1.0, show_default=True,
              help="Worth of refusing an unanswerable question against answering an answerable one right, for the not-found threshold.")
@click.option("--ablation", is_flag=True, help="Also refit without each feature in turn and report the change.")
@click.option("--index", "index_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Index folder (default: $SCRUTINY_INDEX or ./var/index).")
@backend_options
def fit_command(gold_path, test_path, out_path, precision, refusal, refusal_weight, ablation, index_dir):
    """Fit the answer model (line scorer and confidence) on a gold split and calibrate its thresholds."""
    from core.settings import load_settings
    from evaluation.fit import SPLITS, ablation as run_ablation, collect_examples, fit_answer_model, provenance, write_learned_closeness
    from evaluation.metrics import reliability
    from evaluation.gold import load_gold
    from index.scorer import DEFAULT_MODEL
    from index.service import Scrutiny
    from index.store import IndexError_

    try:
        gold = load_gold(gold_path)
        test = load_gold(test_path) if test_path else []
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    settings = load_settings(index_dir)
    scrutiny = Scrutiny(settings)
    try:
        scrutiny.state()
        click.echo(f"Reading {len(gold)} dev and {len(test)} test questions", err=True)
        examples = collect_examples(scrutiny, gold)
        held_out = collect_examples(scrutiny, test) if test else []
    except IndexError_ as exc:
        fail(str(exc))
    fit = fit_answer_model(examples, settings.answer, precision, refusal_weight, refusal=refusal)
    fit.model.provenance = provenance(fit, gold_path, examples, precision, refusal_weight, refusal)
    target = out_path or settings.answer.model or DEFAULT_MODEL
    fit.model.save(target)
    figures = fit.model.provenance["dev_out_of_fold"]
    click.echo(f"Answer model written to {target}: thresholds answer {fit.model.answer_threshold:.3f}, "
               f"possible {fit.model.possible_threshold:.3f}; dev out of fold: {figures}")
    click.echo(f"Reliability on dev (out of fold, {SPLITS} fold splits pooled): " + ", ".join(
        f"{r['from']:.1f}-{r['to']:.1f}: {'-' if r['right'] is None else format(r['right'], '.2f')} (n={r['n']})"
        for r in reliability([o.as_score() for o in fit.dev])))
    if ablation:
        if held_out and fit.model.closeness is not None:
            write_learned_closeness(held_out, fit.model.closeness)  # as the model just fitted reads them, not the one before
        click.echo("\nFeature ablation (lead line quotes an accepted answer):")
        click.echo(f"{'feature':24} {'dev':>7} {'change':>7} {'test':>7} {'change':>7}")
        for row in run_ablation(examples, held_out, fit.model.provenance["regularisation"]):
            def cell(key):
                value = row.get(key)
                return "-" if value is None else f"{value:+.3f}" if "change" in key else f"{value:.3f}"
            click.echo(f"{row['feature']:24} {cell('dev'):>7} {cell('dev_change'):>7} {cell('test'):>7} {cell('test_change'):>7}")
