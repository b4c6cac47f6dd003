"""An evaluation written out for reading: a Markdown report and a bar chart of the metrics per mode."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from evaluation.run import EvalResult, QuestionResult

# The per-tag table keeps to the figures that fit one terminal line.
SHORT_LABELS = {"recall@1": "R@1", "recall@5": "R@5", "recall@10": "R@10", "mrr@10": "MRR",
                "answer_accuracy": "Answer", "refusal_accuracy": "Refusal", "answer_precision": "Firm prec."}
METRIC_LABELS = {
    "recall@1": "Recall@1",
    "recall@3": "Recall@3",
    "recall@5": "Recall@5",
    "recall@10": "Recall@10",
    "mrr@10": "MRR@10",
    "ndcg@10": "nDCG@10",
    "answer_accuracy": "Answer accuracy",
    "refusal_accuracy": "Refusal accuracy",
    "answer_precision": "Precision of `answer`-level answers",
    "answer_level_share": "Answerable questions answered at `answer` level",
}
REPORT_NAME = "eval-report.md"
CHART_NAME = "eval-metrics.png"


@dataclass
class ReportFiles:
    markdown: Path
    chart: Path


def figure(value: float | None, places: int = 3) -> str:
    return "-" if value is None else f"{value:.{places}f}"


def one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def metrics_table(results: dict[str, EvalResult], tag: str | None = None) -> list[str]:
    """Markdown rows: one metric per row, one mode per column."""
    modes = list(results)
    lines = ["| Metric | " + " | ".join(modes) + " |", "|---" * (len(modes) + 1) + "|"]
    for key, label in METRIC_LABELS.items():
        lines.append(f"| {label} | " + " | ".join(figure(results[m].metric(key, tag)) for m in modes) + " |")
    return lines


def tag_rows(results: dict[str, EvalResult]) -> list[tuple[str, int, str, list[str]]]:
    """(tag, questions, mode, formatted figures in SHORT_LABELS order), tag by tag, one row per mode."""
    first = next(iter(results.values()))
    return [
        (tag, scores.n, mode, [figure(result.metric(key, tag), 2) for key in SHORT_LABELS])
        for tag, scores in first.tags.items()
        for mode, result in results.items()
    ]


def tags_table(results: dict[str, EvalResult]) -> list[str]:
    """Markdown rows: one row per tag and mode."""
    lines = ["| Tag | n | Mode | " + " | ".join(SHORT_LABELS.values()) + " |", "|---" * (len(SHORT_LABELS) + 3) + "|"]
    lines += [f"| {tag} | {n} | {mode} | " + " | ".join(values) + " |" for tag, n, mode, values in tag_rows(results)]
    return lines


def miss_reasons(question: QuestionResult) -> list[str]:
    if not question.gold.answerable:
        return ["answered a question the papers cannot answer"]
    reasons = []
    if question.rank is None:
        reasons.append("no supporting passage retrieved")
    if not question.answer_correct:
        reasons.append("answer refused" if not question.found else "answer does not quote an accepted answer")
    return reasons


def miss_entry(question: QuestionResult) -> list[str]:
    gold = question.gold
    where = ", ".join(sorted(gold.source_docs)) or "any paper"
    expected = ", ".join(f"`{a}`" for a in gold.answers) or "a refusal (unanswerable)"
    lines = [
        f"- **{gold.id}** ({', '.join(gold.tags) or 'untagged'}): {one_line(gold.question)}",
        f"  - missed: {'; '.join(miss_reasons(question))}",
        f"  - expected: {expected}; evidence in {where}: " + ("; ".join(f"\u201c{one_line(e)}\u201d" for e in gold.evidence) or "-"),
        f"  - first hit at rank: {question.rank or '-'}",
        f"  - answer: {one_line(question.answer)}",
        f"  - first passage ({question.top_doc or 'none'}): {one_line(question.top_text) or '-'}",
    ]
    return lines


def markdown_report(results: dict[str, EvalResult], gold_label: str, chart_name: str | None = CHART_NAME) -> str:
    first = next(iter(results.values()))
    lines = [f"# Evaluation on {gold_label}", "", f"{first.overall.n} questions; modes: {', '.join(results)}.", ""]
    if chart_name:
        lines += [f"![Metrics per mode]({chart_name})", ""]
    lines += ["## Overall", "", *metrics_table(results), ""]
    if first.tags:
        lines += ["## Per tag", "", *tags_table(results), ""]
    lines += ["## Reliability", "", "Share of questions answered correctly by the confidence score the answer came back with.", "",
              *reliability_table(results), ""]
    for mode, result in results.items():
        misses = result.misses()
        lines += [f"## Misses: {mode} ({len(misses)})", ""]
        lines += [line for question in misses for line in miss_entry(question)] or ["None."]
        lines.append("")
    return "\n".join(lines)


def reliability_table(results: dict[str, EvalResult]) -> list[str]:
    """Markdown rows: one score bucket per row, (n, share right) per mode."""
    modes = list(results)
    lines = ["| Score | " + " | ".join(f"{m} n | {m} right" for m in modes) + " |", "|---" * (2 * len(modes) + 1) + "|"]
    tables = {mode: result.reliability() for mode, result in results.items()}
    for i, row in enumerate(tables[modes[0]]):
        cells = " | ".join(f"{tables[m][i]['n']} | {figure(tables[m][i]['right'], 2)}" for m in modes)
        lines.append(f"| {row['from']:.1f}-{row['to']:.1f} | {cells} |")
    return lines


def write_chart(results: dict[str, EvalResult], path: Path) -> Path:
    """Grouped bars: one group per metric, one bar per mode; a metric with no questions is drawn as 0."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = list(METRIC_LABELS)
    width = 0.8 / len(results)
    fig, ax = plt.subplots(figsize=(11, 4.5))
    for offset, (mode, result) in enumerate(results.items()):
        values = [result.metric(key) or 0.0 for key in keys]
        ax.bar([i + offset * width for i in range(len(keys))], values, width, label=mode)
    ax.set_xticks([i + width * (len(results) - 1) / 2 for i in range(len(keys))])
    ax.set_xticklabels([METRIC_LABELS[key] for key in keys], rotation=20, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score")
    ax.set_title(f"Scrutiny evaluation ({next(iter(results.values())).overall.n} questions)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(results: dict[str, EvalResult], folder: Path, gold_label: str) -> ReportFiles:
    folder.mkdir(parents=True, exist_ok=True)
    chart = write_chart(results, folder / CHART_NAME)
    markdown = folder / REPORT_NAME
    markdown.write_text(markdown_report(results, gold_label, chart.name), encoding="utf-8")
    return ReportFiles(markdown=markdown, chart=chart)
