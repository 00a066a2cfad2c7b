"""What the SHAP plots share: shap's colours, the row of a label, the features shown,
value formatting and labels, the axes' finish.

Used by :mod:`whylens.plot._shap` (plots of a batch) and
:mod:`whylens.plot._shap_instance` (plots of one instance).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from whylens._validation import check_positive_int
from whylens.errors import InputError, describe
from whylens.plot._common import check_explanation
from whylens.plot._fonts import text_families

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap

    from whylens.explanation import Explanation

__all__ = [
    "SHAP_NEGATIVE",
    "SHAP_POSITIVE",
    "display_count",
    "feature_labels",
    "finish_axes",
    "format_value",
    "instance_values",
    "label_matrix",
    "label_row",
    "largest_with_rest",
    "shap_cmap",
    "signed_value_label",
    "strongest_columns",
]

#: Colour of contributions that raise the output (shap's red).
SHAP_POSITIVE = "#ff0d57"
#: Colour of contributions that lower the output (shap's blue).
SHAP_NEGATIVE = "#1e88e5"


def shap_cmap() -> Colormap:
    """The blue-purple-red colour map of shap's plots (low to high)."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("whylens_shap", [SHAP_NEGATIVE, "#8c2ba8",
                                                              SHAP_POSITIVE])


def label_row(exp: Explanation, label: int | None) -> int:
    """Row of ``exp.values`` to plot: the label asked, else the only / positive one."""
    check_explanation(exp)
    if label is None:
        k = exp.labels.shape[0]
        if k == 1:
            return 0
        if k == 2:
            return 1
        raise InputError(
            describe("label", f"one of the explained labels {exp.labels.tolist()}", None,
                     "This explanation has several outputs: pass label=... to pick one.")
        )
    return exp._label_row(label)[0]


def label_matrix(exp: Explanation, label: int | None) -> np.ndarray:
    """Values of one label as (n_instances, n_features)."""
    r = label_row(exp, label)
    if exp.values.ndim != 3:
        raise InputError(
            describe("exp", "an explanation with one feature axis (tables, text)",
                     got_text=f"values of shape {exp.values.shape}")
        )
    return exp.values[:, r, :]


def display_count(max_display: Any, d: int) -> int:
    """``max_display`` checked (a positive int) and capped at the ``d`` features."""
    return min(d, check_positive_int("max_display", max_display))


def format_value(x: float) -> str:
    """A value as the plots print it: three significant digits."""
    return f"{x:.3g}" if abs(x) < 1e4 else f"{x:.3e}"


def feature_labels(exp: Explanation, i: int | None = None) -> list[str]:
    """Feature names; for instance ``i``, its descriptions and ``"<value> = <name>"`` rows."""
    names = list(exp.features.names)
    if i is not None and exp.features.descriptions is not None:
        names = [n or names[j] for j, n in enumerate(exp.features.descriptions[i])]
    if i is not None and exp.features.kind == "tabular" and exp.features.data is not None:
        data = exp.features.data[i]
        return [f"{format_value(float(data[j]))} = {n}" for j, n in enumerate(names)]
    return names


def instance_values(exp: Explanation, label: int | None, plot: str
                    ) -> tuple[np.ndarray, float]:
    """One instance's values of a label (n_features,) and its base value (0 without one).

    Raises
    ------
    BatchExplanationError
        For a batch of several instances (``plot`` names the plot).
    InputError
        A label that was not explained.
    """
    r = label_row(exp, label)
    exp._single(plot)
    v = exp.values[0, r].reshape(-1)
    base = float(exp.base_values[0, r]) if exp.base_values is not None else 0.0
    return v, base


def largest_with_rest(v: np.ndarray, labels: list[str], max_display: Any, rest: str
                      ) -> list[tuple[str, float]]:
    """``(label, value)`` by ``|value|``, largest first, ``max_display`` rows in all.

    When the features do not fit, the last row sums the others, labelled
    ``rest.format(n=<their count>)``.
    """
    d = v.shape[0]
    top = display_count(max_display, d)
    order = np.argsort(-np.abs(v), kind="stable")
    shown = list(order[: top - 1] if d > top else order)
    items = [(labels[j], float(v[j])) for j in shown]
    if d > len(shown):
        items.append((rest.format(n=d - len(shown)), float(v[order[len(shown):]].sum())))
    return items


def strongest_columns(V: np.ndarray, max_display: Any) -> np.ndarray:
    """Columns of ``V`` (n, d) by mean ``|value|``, largest first, at most ``max_display``."""
    top = display_count(max_display, V.shape[1])
    return np.argsort(-np.abs(V).mean(axis=0), kind="stable")[:top]


def signed_value_label(ax: Axes, end: float, y: float, w: float, span: float,
                       color: str) -> None:
    """Write ``+w`` or ``−|w|`` just beyond a bar ending at ``end`` (``span``: the x range)."""
    ax.text(end + (0.01 if w >= 0 else -0.01) * span, y,
            f"{'+' if w >= 0 else '−'}{format_value(abs(w))}", va="center",
            ha="left" if w >= 0 else "right", fontsize=9, color=color)


def finish_axes(ax: Axes, title: str | None) -> None:
    """No top and right spines; the title, when one is given, in the text font."""
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title, family=text_families())
