"""``synthdsl stats`` metrics from plugins, computed beside the built-in ones.

Input: the entry points of group ``synthdsl.metrics`` (``synthdsl.plugins``); each names
a ``MetricSpec`` (a name, a function of the dataset's texts → a number or None, and a
one-line description) or a plain function (named by the entry point, described by its
docstring's first line). Output: ``plugin_metrics()``, the installed metrics with their
plugins, and ``compute(metric, texts)``, one metric's value on an iterable of texts
(read once). Errors: ``PluginError`` (exit 1) for a plugin that does not load or does
not name a metric, and for a metric that raises or returns something that is not a
number (naming the plugin and its package).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

from synthdsl.plugins import Plugin, PluginError, load, plugins

__all__ = ["GROUP", "MetricSpec", "PluginMetric", "compute", "plugin_metrics"]

GROUP = "synthdsl.metrics"


@dataclass(frozen=True)
class MetricSpec:
    """A dataset metric: ``compute`` reads the texts once and returns a number (None:
    undefined for this dataset, e.g. too few texts)."""

    name: str
    compute: Callable[[Iterable[str]], float | int | None]
    description: str = ""


@dataclass(frozen=True)
class PluginMetric:
    spec: MetricSpec
    plugin: Plugin


def _as_spec(plugin: Plugin, value: object) -> MetricSpec:
    if isinstance(value, MetricSpec):
        if not callable(value.compute):
            raise PluginError(f"plugin {plugin.where()} in group {GROUP}: compute is not callable")
        return value
    if callable(value):
        doc = (getattr(value, "__doc__", None) or "").strip().splitlines()
        return MetricSpec(plugin.name, value, doc[0] if doc else "")
    raise PluginError(
        f"plugin {plugin.where()} in group {GROUP} must name a MetricSpec "
        f"(synthdsl.analysis.diversity.plugin_metrics) or a function, got {type(value).__name__}"
    )


@cache
def plugin_metrics() -> tuple[PluginMetric, ...]:
    """The metrics of installed plugins, sorted by name (raises ``PluginError``)."""
    return tuple(PluginMetric(_as_spec(p, load(p)), p) for p in plugins(GROUP))


def compute(metric: PluginMetric, texts: Iterable[str]) -> float | int | None:
    """``metric`` on ``texts``; ``PluginError`` when it fails or gives no number."""
    try:
        value = metric.spec.compute(texts)
    except Exception as exc:  # third-party code: any failure is the plugin's
        raise PluginError(
            f"metric {metric.spec.name!r} of plugin {metric.plugin.where()} failed: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PluginError(
            f"metric {metric.spec.name!r} of plugin {metric.plugin.where()} returned "
            f"{value!r}, not a finite number or None"
        )
    return value
