"""The speed targets, checked against the figures of this run: a summary for people
(no test asserts it; a run on a busy machine may miss what a quiet one meets)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.harness import Samples, Table, markdown, median

Figures = dict[str, float]
"""Named figures of a run, such as ``"S2 (…): ours ÷ floor, tracing cost"``."""

BY_FLOOR = "ours ÷ floor, tracing cost"
BY_AZURE = "ours ÷ azure-core, tracing cost"
PIPELINE_US = "ours over bare requests, µs"
PIPELINE_BY_AZURE = "ours ÷ azure-core, pipeline cost"
THREADS = "ours ÷ azure-core, calls/s with 8 threads"
TASKS = "ours ÷ azure-core, calls/s with 50 asyncio tasks"
KVP_BY_NAIVE = "KvpWriter ÷ naive writer, records/s"
KVP_SPAN_ALONE = "extra µs a span, the caller's thread alone"
KVP_SPAN_ALONGSIDE = "extra µs a span, writer thread running too"
MEMORY_GROWTH = "resident growth, MiB"


def figure(scenario: str, what: str) -> str:
    """The name of a figure: ``what`` in ``scenario`` (a key with its configuration)."""
    return f"{scenario}: {what}"


def ratios(
    scenario: str, table: Table, samples: Samples, ours: str, floor: str, azure: str
) -> Figures:
    """The row ``ours``'s cost over the rows ``floor``'s and ``azure``'s (when measured)."""
    found: Figures = {}
    for what, reference in ((BY_FLOOR, floor), (BY_AZURE, azure)):
        ratio = table.ratio(samples, ours, reference)
        if ratio is not None:
            found[figure(scenario, what)] = ratio
    return found


def cost(scenario: str, what: str, table: Table, samples: Samples, label: str) -> Figures:
    """The median cost of the row ``label``, as the figure ``what`` (when measured)."""
    costs = table.costs(samples, label)
    return {} if costs is None else {figure(scenario, what): median(costs)}


@dataclass(frozen=True)
class Target:
    """What a target asks of one figure: at most (or at least) ``limit``."""

    text: str
    figure: str
    limit: float
    at_most: bool = True

    def met(self, value: float) -> bool:
        """Whether ``value`` reaches the target."""
        return value <= self.limit if self.at_most else value >= self.limit


def _traced(scenarios: Sequence[str]) -> list[Target]:
    made = []
    for scenario in scenarios:
        made.append(Target("tracing cost ≤ 1.1× the floor's", figure(scenario, BY_FLOOR), 1.1))
        made.append(Target("tracing cost ≤ 0.6× azure-core's", figure(scenario, BY_AZURE), 0.6))
    return made


def targets(no_processor: str, batch: str) -> list[Target]:
    """Every target, the traced ones for each span processor configuration."""
    traced = [
        f"{key} ({configuration})"
        for key in ("S2", "S3", "S4")
        for configuration in (no_processor, batch)
    ]
    traced.insert(2, f"S2u ({no_processor})")
    return [
        Target("tracing off: ≤ 15 µs over bare requests", figure("S1", PIPELINE_US), 15),
        Target("tracing off: ≤ 0.3× azure-core's", figure("S1", PIPELINE_BY_AZURE), 0.3),
        *_traced(traced),
        Target("throughput ≥ azure-core's", figure("S5", THREADS), 1.0, at_most=False),
        Target("throughput ≥ azure-core's", figure("S5", TASKS), 1.0, at_most=False),
        Target("KVP ≥ 10× the naive writer", figure("S6", KVP_BY_NAIVE), 10, at_most=False),
        Target("a span + KVP ≤ 10 µs more", figure("S6", KVP_SPAN_ALONE), 10),
        Target("a span + KVP ≤ 10 µs more", figure("S6", KVP_SPAN_ALONGSIDE), 10),
        Target("memory: no growth beyond noise (≤ 1 MiB)", figure("S7", MEMORY_GROWTH), 1.0),
    ]


def render(figures: Figures, no_processor: str, batch: str) -> str:
    """The Markdown table of the targets whose figures this run measured."""
    rows = []
    for target in targets(no_processor, batch):
        if target.figure not in figures:
            continue
        value = figures[target.figure]
        rows.append(
            [target.text, target.figure, f"{value:,.2f}", "yes" if target.met(value) else "no"]
        )
    if not rows:
        return ""
    head = ["target", "figure", "this run", "met"]
    return "### Targets in this run\n\n" + markdown(head, rows, aligned=2)
