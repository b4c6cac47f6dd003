"""Figures of repeated runs, checked against targets, written as Markdown and JSON."""
from __future__ import annotations

import json
import math
import os
import platform
import statistics
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

COMPARISONS = {
    "<": lambda value, limit: value < limit,
    "<=": lambda value, limit: value <= limit,
    ">": lambda value, limit: value > limit,
    ">=": lambda value, limit: value >= limit,
}
SYMBOLS = {"<": "<", "<=": "≤", ">": ">", ">=": "≥"}


@dataclass
class Target:
    op: str  # one of COMPARISONS
    value: float
    label: str = ""  # what the value is, when it is not a plain number ("2 × floor")

    def met_by(self, value: float) -> bool:
        return COMPARISONS[self.op](value, self.value)

    def describe(self, unit: str) -> str:
        text = f"{SYMBOLS[self.op]} {format_number(self.value)} {unit}".strip()
        return f"{text} ({self.label})" if self.label else text


@dataclass
class Figure:
    section: str
    name: str
    unit: str
    runs: list[float]
    targets: list[Target] = field(default_factory=list)
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.runs) if self.runs else math.nan

    @property
    def low(self) -> float:
        return min(self.runs) if self.runs else math.nan

    @property
    def high(self) -> float:
        return max(self.runs) if self.runs else math.nan

    @property
    def met(self) -> bool | None:
        """Whether the median meets every target; None when there is no target."""
        if not self.targets or not self.runs:
            return None
        return all(target.met_by(self.median) for target in self.targets)

    def target_text(self) -> str:
        return "; ".join(target.describe(self.unit) for target in self.targets) or "-"

    def to_json(self) -> dict:
        data = asdict(self)
        data.update(median=self.median, min=self.low, max=self.high, met=self.met, target=self.target_text())
        return data


@dataclass
class Machine:
    nproc: int
    cpu_model: str
    ram_gb: float
    python: str
    torch: str
    faiss: str
    sentence_transformers: str
    platform: str


@dataclass
class BenchReport:
    machine: Machine
    started: str
    options: dict
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    extras: dict = field(default_factory=dict)  # raw results of other harnesses and the ANN threshold choice

    def to_json(self) -> dict:
        return {
            "machine": asdict(self.machine),
            "started": self.started,
            "options": self.options,
            "seconds": round(self.seconds, 1),
            "figures": [figure.to_json() for figure in self.figures],
            "notes": self.notes,
            "extras": self.extras,
        }


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default), q in 0..100."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def format_number(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def verdict(met: bool | None) -> str:
    return {True: "yes", False: "**no**", None: ""}[met]


def figure_line(figure: Figure) -> str:
    """One console line: the figure, its spread and its target side by side."""
    spread = f"(min {format_number(figure.low)}, max {format_number(figure.high)}, {len(figure.runs)} runs)"
    mark = {True: "met", False: "NOT MET", None: ""}[figure.met]
    return (f"  {figure.section:<8} {figure.name:<52} {format_number(figure.median):>9} {figure.unit:<9} "
            f"{spread:<36} target {figure.target_text()} {mark}").rstrip()


def markdown_report(report: BenchReport) -> str:
    machine = report.machine
    lines = [
        "# Scrutiny benchmark",
        "",
        f"Run {report.started}, {report.seconds / 60:.1f} min, options {json.dumps(report.options)}.",
        "",
        f"Machine: {machine.nproc} CPUs ({machine.cpu_model}), {machine.ram_gb:.1f} GB RAM; Python {machine.python}, "
        f"torch {machine.torch}, faiss {machine.faiss}, sentence-transformers {machine.sentence_transformers}; "
        f"{machine.platform}.",
        "",
        "Each figure is the median of repeated runs, with the smallest and largest run beside it.",
        "",
        "| Section | Figure | Median | Min | Max | Runs | Unit | Target | Met |",
        "|---|---|---:|---:|---:|---:|---|---|---|",
    ]
    for figure in report.figures:
        name = f"{figure.name} ({figure.note})" if figure.note else figure.name
        lines.append(
            f"| {figure.section} | {name} | {format_number(figure.median)} | {format_number(figure.low)} | "
            f"{format_number(figure.high)} | {len(figure.runs)} | {figure.unit} | {figure.target_text()} | {verdict(figure.met)} |"
        )
    if report.notes:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in report.notes]
    return "\n".join(lines) + "\n"


def write_results(report: BenchReport, folder: Path, stem: str = "latest") -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    markdown = folder / f"{stem}.md"
    data = folder / f"{stem}.json"
    markdown.write_text(markdown_report(report))
    data.write_text(json.dumps(json_safe(report.to_json()), indent=2, allow_nan=False, default=str) + "\n")
    return markdown, data


def json_safe(value):
    """NaN (a figure with no runs) becomes null, which JSON can hold."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


def package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def ram_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return math.nan


def this_machine() -> Machine:
    return Machine(
        nproc=len(os.sched_getaffinity(0)),
        cpu_model=cpu_model(),
        ram_gb=round(ram_gb(), 1),
        python=platform.python_version(),
        torch=package_version("torch"),
        faiss=package_version("faiss-cpu"),
        sentence_transformers=package_version("sentence-transformers"),
        platform=platform.platform(),
    )


def now_text() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S")
