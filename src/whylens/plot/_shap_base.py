"""What the SHAP plots share: shap's colours, the row of a label, value formatting.

Used by :mod:`whylens.plot._shap` (plots of a batch) and
:mod:`whylens.plot._shap_instance` (plots of one instance).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from whylens._validation import check_positive_int
from whylens.errors import InputError, describe
from whylens.plot._common import check_explanation

if TYPE_CHECKING:
    from matplotlib.colors import Colormap

    from whylens.explanation import Explanation

__all__ = [
    "SHAP_NEGATIVE",
    "SHAP_POSITIVE",
    "display_count",
    "feature_labels",
    "format_value",
    "label_matrix",
    "label_row",
    "shap_cmap",
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
