"""Numbers as their metric's metadata says (harness/metrics/info.py): a rate in percent, a difference of
rates in percentage points, a ratio, a loss or an effect size as a plain (signed) number, a count whole.

The report, the console summary and `harness compare` format through here, so a DPO loss of 0.684 reads
0.684 everywhere and Cohen's h −0.110 reads −0.110, never "68.4" or "−11.0".
"""

from __future__ import annotations

from harness.core.plugins import METRICS
from harness.metrics.info import declared
from harness.results.schema import Metric

UNIT_LABEL = {"rate": "%", "points": "pp", "ratio": "ratio", "effect_size": "h", "loss": "nats",
              "number": "", "count": "n"}


def load_metadata() -> None:
    """Import every metric family (built-in and plugin), so each has declared its metrics' metadata."""
    METRICS.load()


def unit_of(metric: Metric | str) -> str:
    """The unit a metric is shown in: the declared one, else what the run recorded, else a plain number."""
    name = metric if isinstance(metric, str) else getattr(metric, "name", None)
    if name is None:  # a group's or a behavioural state's share
        return "rate"
    found = declared(name)
    if found is not None:
        return found.unit
    return (None if isinstance(metric, str) else metric.unit) or "number"


def number(value: float | None, unit: str) -> str:
    """One value in its unit, '–' when undefined."""
    if value is None:
        return "–"
    if unit == "rate":
        return f"{100 * value:.1f}"
    if unit == "points":
        return f"{100 * value:+.1f}"
    if unit == "effect_size":
        return f"{value:+.3f}"
    if unit in ("ratio", "loss"):
        return f"{value:.3f}"
    if unit == "count":
        return f"{value:.0f}"
    return f"{value:.4g}"


def with_ci(m: Metric | None, unit: str | None = None) -> str:
    """'value [low, high]' in the metric's unit (plain text, for the console and `harness compare`)."""
    if m is None or m.value is None:
        return "–"
    u = unit or unit_of(m)
    ci = f" [{number(m.ci_low, u)}, {number(m.ci_high, u)}]" if m.ci_low is not None and m.ci_high is not None else ""
    return number(m.value, u) + ci


def header(name: str, unit: str | None = None) -> str:
    """A column header: the display name and its unit, e.g. 'accuracy (%)', 'DPO loss (nats)'."""
    found = declared(name)
    u = unit or unit_of(name)
    label = found.display if found else name.replace("_", " ")
    if found and "@" in name and "@k" in label:
        label = label.replace("@k", "@" + name.split("@")[1].split("/")[0])
    return f"{label} ({UNIT_LABEL[u]})" if UNIT_LABEL.get(u) else label
